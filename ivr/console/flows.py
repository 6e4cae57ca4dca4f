"""The Flows page: each flow of the version in force as a diagram, the history of versions
(who published each, when and why), and putting an earlier version back in force.

The diagram is `ivr graph`'s, drawn by Graphviz on the server and served as an image from
this page's own address (nothing fetched from elsewhere); without Graphviz the page shows the
Mermaid text instead. Putting a version back is `ivr rollback`: today's checks first, the same
store and history, and the supervisor's reason kept with it.
"""

from __future__ import annotations

import datetime as dt
import subprocess

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale, gettext, lazy_gettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from ivr.console import audit
from ivr.console.auth import current_account
from ivr.console.context import console
from ivr.console.nav import page
from ivr.library import graph
from ivr.library.pipeline import Options
from ivr.library.publish import rollback
from ivr.library.store import StoreError
from ivr.source import LoadError

HISTORY = 50
KINDS = {"rollback": lazy_gettext("put back in force"), "restore": lazy_gettext("restored")}
ROLLBACK = "version.rollback"
_drawings: dict[tuple[str, str, str], bytes] = {}  # (version, flow, language): SVG


class RollbackForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF has no type hints
    version = HiddenField(validators=[InputRequired()])
    why = StringField(lazy_gettext("Why"), validators=[
        InputRequired(lazy_gettext("Say why, for the history.")),
        Length(max=200, message=lazy_gettext("At most 200 characters."))])


@page("/flows", lazy_gettext("Flows"), roles=("supervisor",), order=60)
def flows() -> str:
    return _flows_page(RollbackForm())


def _flows_page(form: RollbackForm, problems: list[str] | None = None) -> str:
    ctx = console()
    in_force = ctx.in_force()
    history = list(reversed(ctx.snapshots.history(HISTORY)))
    kept = {entry.version for entry in history if _kept(entry.version)}
    return render_template(
        "flows.html", in_force=in_force, history=history, kept=kept, form=form,
        problems=problems or [], graphviz=graph.graphviz_found(), kinds=KINDS,
        mermaid={name: graph.mermaid(flow) for name, flow in in_force.snapshot.flows.items()}
        if in_force else {},
        when=lambda seconds: dt.datetime.fromtimestamp(seconds, dt.UTC))


def _kept(version: str) -> bool:
    """Whether the store still holds the files of a version (only those can be put back)."""
    try:
        console().snapshots.files(version)
    except StoreError:
        return False
    return True


@page("/flows/<name>.svg", None, roles=("supervisor",))
def drawing(name: str) -> Response:
    in_force = console().in_force()
    if in_force is None or name not in in_force.snapshot.flows:
        abort(404)
    key = (in_force.version, name, str(get_locale()))
    svg = _drawings.get(key)
    if svg is None:
        try:
            svg = graph.render(in_force.snapshot.flows[name], "svg")
        except (FileNotFoundError, subprocess.CalledProcessError):
            abort(404)
        if len(_drawings) > 32:
            _drawings.clear()
        _drawings[key] = svg
    return Response(svg, mimetype="image/svg+xml")


@page("/flows/rollback", None, roles=("supervisor",), methods=("POST",))
def put_back() -> Response | tuple[str, int]:
    form = RollbackForm()
    if not form.validate_on_submit():
        return _flows_page(form), 400
    ctx, me = console(), current_account()
    version, why = form.version.data, form.why.data
    try:
        outcome = rollback(ctx.snapshots, version, Options.of(ctx.settings),
                           f"{me.name} (console)", why)
    except StoreError:
        form.why.errors = [gettext("That version is no longer kept, or another version was "
                                   "published meanwhile: look at the list again.")]
        return _flows_page(form), 409
    except LoadError as exc:
        form.why.errors = [gettext("That version does not pass today's checks, so it was not "
                                   "put back:")]
        return _flows_page(form, [str(problem) for problem in exc.problems]), 409
    audit.log(ctx.store.engine, ctx.accounts.now(), me.name, ROLLBACK,
              f"{version}: {why}"[:audit.MAX_DETAIL])
    if outcome.publication is None:
        flash(gettext("Version %(version)s is already in force.", version=version), "done")
    else:
        flash(gettext("Version %(version)s is in force again. Every router takes it for new "
                      "calls within seconds.", version=version), "done")
    return redirect(url_for("console.flows"))
