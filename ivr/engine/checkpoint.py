"""A call's state at a place in its log, so a long call is not replayed from its start.

Every webhook rebuilds its call by replaying the log (`ivr.engine.runner`). A call that goes on
and on (a long wait in line, menu after menu) would make each webhook replay a longer log than
the one before. So once a webhook has replayed `EVERY` events past the call's last checkpoint,
it stores the state the call had just before the event it answers, and later webhooks replay
only the events after that place: a webhook's cost is bounded whatever the call's length.

The answers do not change: the state stored is the replay of the events before that place,
exactly as any later replay computes it (older events never see the live world, only the
decisions the log recorded), and the log itself is kept whole, for the call's record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

from ivr.engine.model import CallState, Start

EVERY = 16  # events replayed past the last checkpoint before a new one is stored
_TUPLES = frozenset(f.name for f in fields(CallState) if str(f.type).startswith("tuple"))


@dataclass(frozen=True)
class Checkpoint:
    covered: int  # the log's first `covered` entries are folded into `state`
    start: Start  # the call's first event (its flow, version and how it began)
    at: float  # the time of the last of those entries that has a time
    state: str  # the call's state then (JSON): each replay takes a fresh copy

    @classmethod
    def of(cls, covered: int, start: Start, at: float, state: CallState) -> Checkpoint:
        return cls(covered, start, at, json.dumps(vars(state), separators=(",", ":")))

    def call_state(self) -> CallState:
        data = json.loads(self.state)
        for name in _TUPLES & data.keys():
            data[name] = tuple(data[name])
        return CallState(**data)

    def encode(self) -> str:
        """`<covered> <json>`: Redis reads the number to send only the entries after it."""
        return f"{self.covered} " + json.dumps(
            {"start": vars(self.start), "at": self.at, "state": self.state},
            separators=(",", ":"))

    @classmethod
    def decode(cls, raw: bytes | str) -> Checkpoint:
        text = raw.decode() if isinstance(raw, bytes) else raw
        covered, _, body = text.partition(" ")
        data = json.loads(body)
        return cls(int(covered), Start(**data["start"]), float(data["at"]), data["state"])
