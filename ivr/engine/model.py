"""What flows through the engine: the events of a call, its state, and the engine's reply.

The engine is pure: it takes events and returns a `Reply` that says what the caller hears and
what happens next. `ivr.web.twiml` turns a Reply into TwiML; nothing in the engine knows
Twilio, Flask or Redis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ivr.routing.legs import Leg

# --- events: what happened on the call, in the order Twilio told us --------------------------


@dataclass(frozen=True)
class Start:
    """The call arrived. `to` is the hotline number dialled (never the caller's number).

    `region` is known at the start when the number dialled belongs to a region, or from the
    landline code of the caller's number (which is used for that and then discarded).
    """

    flow: str
    version: str
    to: str
    at: float
    region: str | None = None
    region_source: str = "unknown"  # dialled, hint, chosen or unknown
    caller_key: str | None = None  # the caller's monthly pseudonym (ivr.calls.pseudonyms)
    published: str = ""  # the published version (flows, prompts, routing) the call started on
    simulated: bool = False  # `ivr call`: no record, rotation, busy mark or caller secret


@dataclass(frozen=True)
class Rotation:
    """The call's place in the queue of calls, written by Redis right after its start."""

    number: int


@dataclass(frozen=True)
class Digits:
    """A menu answer: one key, or "" when the caller pressed nothing before the timeout."""

    digits: str
    at: float = 0.0


@dataclass(frozen=True)
class DialResult:
    """How a connection attempt ended: Twilio's DialCallStatus, DialBridged when sent, the
    legs that were rung (from the action URL we gave Twilio), and DialCallDuration, how long
    the person who answered was on the line (the result comes when the conversation ends)."""

    status: str
    bridged: bool | None = None
    legs: tuple[str, ...] = ()
    at: float = 0.0
    talked: int | None = None


@dataclass(frozen=True)
class Accepted:
    """An operator pressed 1 in the whisper of this leg."""

    leg: str
    at: float = 0.0


@dataclass(frozen=True)
class Ended:
    """The call is over (final status callback)."""

    status: str
    duration: int | None = None
    at: float = 0.0


@dataclass(frozen=True)
class Fault:
    """A webhook of this call was answered by the safe path, and why: `redis` (unreachable),
    `exception` (a fault of ours), `version` (not loaded yet where the webhook arrived),
    `request` (a webhook we could not make sense of), `fallback` (Twilio called the number's
    Fallback URL because the router failed or could not be reached)."""

    cause: str
    at: float = 0.0


@dataclass(frozen=True)
class SafeDial:
    """How a line of the safe path answered (`leg` counts from 0), from its dial result."""

    status: str
    leg: int = 0
    at: float = 0.0


@dataclass(frozen=True)
class Tick:
    """A poll from a caller waiting in line, when the hold loop asks again. A tick is kept in
    the log only when it changed something: an announcement, a consultant offered, the end of
    the wait. The others are answered and forgotten, so a long wait does not grow the log."""

    at: float


@dataclass(frozen=True)
class Routed:
    """What the routes decided in answer to the event at place `turn` of the log: for each
    decision, the legs rung (none: nothing was left to ring). Who could be rung depended on
    who was busy at that moment, which a replay cannot know; so a replay takes these
    decisions as they were made, and a call's record, whisper and repeated webhooks all see
    the call the caller had."""

    turn: int
    choices: tuple[tuple[str, ...], ...]


Event = Start | Rotation | Digits | DialResult | Accepted | Ended | Fault | SafeDial | Routed | Tick
OUTSIDE_THE_FLOW = (Rotation, Accepted, Fault, SafeDial, Routed)  # no caller's step answers these


def event_time(event: Event) -> float:
    return getattr(event, "at", 0.0)


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
    """Connect the caller to one or more legs at once (full E.164 numbers only)."""

    legs: tuple[Leg, ...]
    timeout: int


@dataclass(frozen=True)
class Hold:
    """Keep a waiting caller on the line: the queued speech and hold sound (keys are taken),
    then ask again after `timeout` seconds of quiet: the next poll of the line."""

    timeout: int


@dataclass(frozen=True)
class Hangup:
    pass


Instruction = Gather | Dial | Hold | Hangup


@dataclass(frozen=True)
class Reply:
    speech: tuple[Speech, ...]
    then: Instruction
    routed: tuple[tuple[str, ...], ...] = ()  # decisions made now, not taken from the log
    changed: bool = True  # False: a poll of the line that changed nothing, not to be kept


# --- the state of a call, rebuilt from its events on every webhook ---------------------------


@dataclass
class CallState:
    flow: str
    version: str
    to: str
    started_at: float
    region: str | None = None
    region_source: str = "unknown"
    caller_key: str | None = None
    rotation: int = 0
    step: str = ""
    language: str | None = None
    no_input: int = 0
    wrong_key: int = 0
    region_group: str | None = None
    path: list[str] = field(default_factory=list)
    silent: bool = False
    emergency: bool = False
    tried: list[str] = field(default_factory=list)
    ringing: tuple[str, ...] = ()  # the legs of the last Dial we gave Twilio
    accepted: str | None = None
    accepted_at: float | None = None
    connected_to: str | None = None
    operator: str | None = None
    answered_after: float | None = None
    # the waiting line (`ivr.engine.steps.waiting`)
    route_reached_at: float | None = None  # first arrival at a consultant route
    route_left_at: float | None = None  # answered there, or left it (9, sent on, hung up)
    line_since: float | None = None  # in line at the current route since then
    line_seconds: float | None = None  # time spent in line, once the caller joined it
    line_done: bool = False  # the line of the current route is over for this call
    announced_at: float = 0.0
    declined: dict[str, float] = field(default_factory=dict)  # operator: when they did not take it
    exhausted: bool = False
    finished: bool = False
    ended_at: float | None = None
    end_status: str | None = None
    duration: int | None = None
