"""What flows through the engine: the events of a call, its state, and the engine's reply.

The engine is pure: it takes events and returns a `Reply` that says what the caller hears and
what happens next. `ivr.twiml` turns a Reply into TwiML; nothing in the engine knows Twilio,
Flask or Redis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- events: what happened on the call, in the order Twilio told us --------------------------


@dataclass(frozen=True)
class Start:
    """The call arrived. `to` is the hotline number dialled (never the caller's number)."""

    flow: str
    version: str
    to: str
    at: float


@dataclass(frozen=True)
class Digits:
    """A menu answer: one key, or "" when the caller pressed nothing before the timeout."""

    digits: str


@dataclass(frozen=True)
class DialResult:
    """How a connection attempt ended: Twilio's DialCallStatus and, when sent, DialBridged."""

    status: str
    bridged: bool | None = None


@dataclass(frozen=True)
class Ended:
    """The call is over (final status callback)."""

    status: str
    duration: int | None = None


Event = Start | Digits | DialResult | Ended

# --- the reply: what the caller hears, then one instruction -------------------------------


@dataclass(frozen=True)
class Speech:
    prompt: str
    language: str


@dataclass(frozen=True)
class Gather:
    """Wait for one key while the queued speech plays (keys interrupt it)."""

    timeout: int


@dataclass(frozen=True)
class Dial:
    """Connect the caller to a full E.164 number; `target` names the destination for records."""

    target: str
    number: str
    timeout: int


@dataclass(frozen=True)
class Hangup:
    pass


Instruction = Gather | Dial | Hangup


@dataclass(frozen=True)
class Reply:
    speech: tuple[Speech, ...]
    then: Instruction


# --- the state of a call, rebuilt from its events on every webhook ---------------------------


@dataclass
class CallState:
    flow: str
    version: str
    to: str
    started_at: float
    step: str = ""
    language: str | None = None
    no_input: int = 0
    wrong_key: int = 0
    leg: int = 0
    path: list[str] = field(default_factory=list)
    silent: bool = False
    emergency: bool = False
    connected_to: str | None = None
    dialled: list[str] = field(default_factory=list)
    exhausted: bool = False
    finished: bool = False
    end_status: str | None = None
    duration: int | None = None
