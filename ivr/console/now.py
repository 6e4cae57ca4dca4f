"""The Now page: the line at this moment, for supervisors on shift.

Who is on duty per language and region (from the version in force, as calls are routed),
who is ringing or talking and who marked themselves away (`ivr.calls.board`), how many callers
are in the menus, waiting (and the longest wait) and connected, how often the safe path was
taken in the last hour (from the records), and the version in force. It reloads itself every
ten seconds; a reload is not activity, so an unattended screen still logs out.

No caller is ever named: the board holds counts, and consultants by their roster id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import render_template
from flask_babel import get_locale, lazy_gettext

from ivr.calls.board import Board, read_board
from ivr.console.context import InForce, console
from ivr.console.nav import page
from ivr.console.words import language_name
from ivr.library.store import Publication
from ivr.records.store import call_records

REFRESH_SECONDS = 10
STATES = {"free": lazy_gettext("free"), "ringing": lazy_gettext("ringing"),
          "talking": lazy_gettext("on a call"), "away": lazy_gettext("away")}
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Cover:
    """One language or region: who is on duty for it now, and what each is doing."""

    key: str
    name: str
    on_duty: tuple[tuple[str, str, str], ...]  # (roster id, name, state: free/ringing/talking/away)


@page("/now", lazy_gettext("Now"), roles=("supervisor",), order=10)
def now() -> str:
    ctx = console()
    board = read_board(ctx.redis, ctx.keys, ctx.clock)
    at = dt.datetime.fromtimestamp(board.at, dt.UTC)
    in_force = ctx.in_force()
    languages, regions = _cover(in_force, board, at) if in_force else ((), ())
    publication = ctx.snapshots.publication(in_force.version) if in_force else None
    return render_template("now.html", board=board, languages=languages, regions=regions,
                           in_force=in_force, publication=_published(publication),
                           safe_path=_safe_path_since(at - HOUR),
                           states=STATES, refresh_seconds=REFRESH_SECONDS)


def _state(operator: str, board: Board) -> str:
    if operator in board.away:
        return "away"
    return board.consultants.get(operator, "free")


def _cover(in_force: InForce, board: Board, at: dt.datetime
           ) -> tuple[tuple[Cover, ...], tuple[Cover, ...]]:
    snapshot = in_force.snapshot
    roster = snapshot.routing.roster
    segment = snapshot.routing.duty.on_duty(at)

    def people(ids: Iterable[str]) -> tuple[tuple[str, str, str], ...]:
        return tuple((op, roster.operators[op].name, _state(op, board))
                     for op in sorted(ids) if op in roster.operators)

    languages = tuple(Cover(lang, language_name(lang), people(segment.by_language.get(lang, ())))
                      for lang in snapshot.languages)
    names = snapshot.routing.regions.regions
    regions = tuple(
        Cover(rid, region.names.get(str(get_locale())) or region.names.get("ru") or rid,
              people(op for op in segment.operators if rid in roster.operators[op].regions))
        for rid, region in sorted(names.items()))
    return languages, tuple(r for r in regions if r.on_duty)


def _published(publication: Publication | None) -> dict[str, object] | None:
    if publication is None:
        return None
    return {"at": dt.datetime.fromtimestamp(publication.at, dt.UTC), "by": publication.by,
            "message": publication.message}


def _safe_path_since(since: dt.datetime) -> int:
    """Calls of the last hour that took the safe path (their record says why), as stored."""
    store = console().store
    with store.engine.connect() as db:
        return int(db.execute(
            sa.select(sa.func.count()).select_from(call_records).where(
                call_records.c.started_at >= since.replace(tzinfo=None),
                call_records.c.fault.is_not(None))).scalar() or 0)
