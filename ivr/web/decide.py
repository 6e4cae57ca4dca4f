"""Answering a call's newest event: the log, the engine's decision, and what it commits.

Each webhook appends its event and reads the call's log back in one round trip (from the call's
checkpoint on, `ivr.engine.checkpoint`), replays it, and answers; once it has replayed enough
events past the checkpoint, it stores a new one. When a route decides (who rings, or that the
caller waits in line), the decision is logged with the reservations it needs in a second round
trip; a phone another caller took meanwhile means choosing again. A route with a waiting line
sees the line first (one more read, only then). A caller in line is kept in the shared line, or
leaves it, as the engine says.

Polls of the hold loop (`poll`) usually change nothing: they are answered from the log and the
line as they stand, and written only when they do change something.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.calls.line import RING_MARGIN_SECONDS, Member
from ivr.calls.log import Appended
from ivr.calls.pseudonyms import url_token
from ivr.engine import replay
from ivr.engine.checkpoint import EVERY, Checkpoint
from ivr.engine.model import CallState, Dial, Event, Reply, Routed, Start, Tick
from ivr.engine.runner import answering
from ivr.engine.turn import LineView, NeedsLine
from ivr.routing import Routing
from ivr.routing.legs import operator_of
from ivr.routing.line import DECLINE_PAUSE_SECONDS
from ivr.web.context import BadWebhook, Voice, call_key_of_request, delivery, param, voice

MAX_EVENTS = 300  # a real call has a few dozen; beyond this, replaying would cost too much
RESERVE_ATTEMPTS = 3  # phones taken by another call meanwhile: choose again, this often


@dataclass(frozen=True)
class Answered:
    """A call's state after its newest event, and the TwiML answering it."""

    state: CallState
    body: str


def advance(event: Event, release: tuple[str, ...] = ()) -> Answered:
    """Apply a webhook's event (once, however often it is delivered) and answer it."""
    ctx = voice()
    key = call_key_of_request()
    appended = ctx.calls.append(key, event, release, delivery())
    # This call's own ringing phones are not taken from it by a repeated delivery.
    busy = appended.busy - {op for op in map(operator_of, appended.own_legs) if op}
    answered = _decide(ctx, key, appended, appended.events, busy, commit=True)
    assert answered is not None  # committed: always answered
    return answered


def poll() -> Answered:
    """The hold loop asks again. Answered from the log as it stands; written (as a `Tick`)
    only when it changes something: an announcement, a consultant's turn, the end of the wait."""
    ctx = voice()
    key = call_key_of_request()
    peeked = ctx.calls.peek(key)
    tick = Tick(ctx.clock())
    answered = _decide(ctx, key, peeked, [*peeked.events, tick], peeked.busy, commit=False)
    return answered if answered is not None else advance(tick)


def _decide(ctx: Voice, key: str, log: Appended, events: list[Event], busy: frozenset[str],
            commit: bool) -> Answered | None:
    """Replay `events` (the log after its checkpoint, with any event not yet written) and
    answer. Without `commit` nothing is written, and None says the newest event changed
    something, so it must be applied (`advance`) rather than just answered."""
    since = log.since
    start = since.start if since else events[0] if events else None
    if not isinstance(start, Start):
        raise BadWebhook("a webhook for a call whose start we do not know")
    offset = since.covered if since else 0
    if offset + len(events) > MAX_EVENTS:
        raise BadWebhook(f"more than {MAX_EVENTS} webhooks for one call")
    flow, routing, snapshot = ctx.flow(start)
    token = url_token(ctx.settings.hmac_secret, param("CallSid"))
    turn = offset + answering(events)
    kept: list[Checkpoint] = []
    # A checkpoint once this replay goes EVERY events past the last one: just before the
    # event answered now, which later webhooks then replay from.
    keep = kept.append if commit and turn - offset >= EVERY else None
    line: LineView | None = None
    attempts = 0
    while True:
        try:
            state, reply = replay(flow, events, routing, busy, line, live=True, away=log.away,
                                  since=since, keep=None if kept else keep, keep_at=turn)
        except NeedsLine as need:
            if line is not None:
                raise
            line = _line_view(ctx, key, start, need, routing)
            continue
        if not commit:
            if reply.changed:
                return None
            break
        if not reply.routed:  # nothing decided now (a repeated delivery: as the log says)
            break
        attempts += 1
        dial = reply.then if isinstance(reply.then, Dial) else None
        legs = [(leg.operator, leg.id) for leg in dial.legs if leg.operator] if dial else []
        taken = ctx.calls.routed(key, Routed(turn, reply.routed), legs,
                                 dial.timeout if dial else 0, token,
                                 reserve=bool(legs) and not start.simulated and
                                 attempts < RESERVE_ATTEMPTS)
        if not taken:
            break
        busy = busy | taken  # another caller got them first: ring someone else
        line = None
    if commit and not start.simulated:
        _keep_line(ctx, key, start, state, reply)
    if kept:
        ctx.calls.keep(key, kept[0])
    return Answered(state, ctx.renderer(snapshot).render(reply, token, turn + 1,
                                                         int(ctx.clock())))


def _line_view(ctx: Voice, key: str, start: Start, need: NeedsLine,
               routing: Routing) -> LineView:
    def routing_of(member: Member) -> Routing | None:
        found = ctx.library.get(member.published) if member.published else None
        return found.routing if found is not None else None

    snapshot = ctx.line.read(touch=key)
    return ctx.line.view(snapshot, key, need.query, need.declined, routing, routing_of)


def _keep_line(ctx: Voice, key: str, start: Start, state: CallState, reply: Reply) -> None:
    """The shared line follows the engine: a waiting caller is in it (with what the line
    needs of them), a caller who has left it is not."""
    if state.line_since is not None:
        dial = reply.then if isinstance(reply.then, Dial) else None
        now = ctx.clock()
        ctx.line.keep(Member(
            key, state.line_since, state.language, state.region, state.rotation,
            start.published, start.flow,
            {op: at + DECLINE_PAUSE_SECONDS for op, at in state.declined.items()},
            now + dial.timeout + RING_MARGIN_SECONDS if dial else 0.0))
    elif state.line_seconds is not None:
        ctx.line.leave(key)
