"""Roster edits from the console's forms, written into `roster.yaml` as a supervisor would.

Supervisors go on reading and editing `flows/roster.yaml` by hand, so a change made through a
form must look like one made by hand: the file is edited in ruamel.yaml's round-trip mode, and
only the lines of the entry changed are touched. Comments, key order, blank lines, quoting and
indentation elsewhere stay byte for byte (times and phone numbers are written quoted, as the
file writes them; a new entry goes at the end of its list, a new operator at the end of
`operators`, in the style of the entry before it).

An edit starts from the roster of the version in force (`SnapshotStore.files`), never from the
working folder: another supervisor may be half way through an edit of the flows there, and a
roster change published from the console must not publish their unfinished work with it
(`ivr.library.roster_publish`).

One edit is one small frozen dataclass, one per form; `apply` makes it on the parsed document
and refuses what cannot be made (an unknown operator, an entry that does not exist, a time that
is not one) with `EditError`. Whatever passes still goes through the one check pipeline:
`preview` says what `ivr check` would say of the result, or which gaps in the cover it opens and
closes. ruamel.yaml comes with the `console` extra: nothing but the console imports this module.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from ivr.i18n import N_
from ivr.ids import id_problem
from ivr.library.files import MemorySource
from ivr.library.pipeline import Options, check
from ivr.library.roster import ROSTER_KEYS
from ivr.library.snapshot import ROSTER_FILE
from ivr.routing.report import gaps
from ivr.routing.roster import DAY_MINUTES, DAY_NAMES, DAY_SHORTCUTS
from ivr.source import Problem

_FALSE = ("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")  # YAML 1.1, as checked
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")  # as `ivr.library.fields` reads times
# (mapping, sequence, offset): `  - ` under a key first, the file's own style if it has another
_INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0))


# --- the forms ------------------------------------------------------------------------------
@dataclass(frozen=True)
class OperatorFields:
    id: str
    name: str
    phone: str  # a full international number, "+77010000001"
    languages: tuple[str, ...]
    regions: tuple[str, ...] = ()
    active: bool = True  # false keeps someone on the list without ringing them


@dataclass(frozen=True)
class WeeklyShift:
    who: tuple[str, ...]
    days: str | tuple[str, ...]  # daily, weekdays, weekend, or ("mon", "wed", "holiday")
    start: str  # "08:00"
    end: str  # "20:00"; at or before `start`: runs past midnight


@dataclass(frozen=True)
class DatedShift:
    who: tuple[str, ...]
    date: dt.date
    start: str
    end: str


@dataclass(frozen=True)
class Absence:
    who: tuple[str, ...]
    start: dt.date  # whole days (dates are inclusive), or a dt.datetime for part of a day
    end: dt.date
    why: str = ""


@dataclass(frozen=True)
class SaveOperator:
    fields: OperatorFields
    new: bool  # True: add (the id must be free); False: change the operator with that id


@dataclass(frozen=True)
class RemoveOperator:
    id: str


@dataclass(frozen=True)
class AddWeekly:
    shift: WeeklyShift


@dataclass(frozen=True)
class ReplaceWeekly:
    index: int  # from 0, in the order of the file
    shift: WeeklyShift


@dataclass(frozen=True)
class RemoveWeekly:
    index: int


@dataclass(frozen=True)
class AddDated:
    shift: DatedShift


@dataclass(frozen=True)
class ReplaceDated:
    index: int
    shift: DatedShift


@dataclass(frozen=True)
class RemoveDated:
    index: int


@dataclass(frozen=True)
class AddAbsence:
    absence: Absence


@dataclass(frozen=True)
class ReplaceAbsence:
    index: int
    absence: Absence


@dataclass(frozen=True)
class RemoveAbsence:
    index: int


Entry = WeeklyShift | DatedShift | Absence
Edit = (SaveOperator | RemoveOperator | AddWeekly | ReplaceWeekly | RemoveWeekly | AddDated
        | ReplaceDated | RemoveDated | AddAbsence | ReplaceAbsence | RemoveAbsence)
SECTIONS: dict[type[Entry], str] = {WeeklyShift: "weekly", DatedShift: "dated", Absence: "away"}


class EditError(Exception):
    """An edit that cannot be made, in a sentence. `template` is English marked for both
    catalogues (as `AccountError`), so each front end says it in its own language:
    `exc.say(gettext)`. `instead` is an edit the console may offer in its place."""

    def __init__(self, template: str, instead: Edit | None = None, **values: object) -> None:
        self.template = template
        self.values = values
        self.instead = instead
        super().__init__(template.format(**values))

    def say(self, translate: Callable[[str], str]) -> str:
        return translate(self.template).format(**self.values)


@dataclass(frozen=True)
class Entries:
    """What the forms show: the roster's operators and entries, in the order of the file (the
    index of an entry is its place in its tuple)."""

    operators: tuple[OperatorFields, ...]
    weekly: tuple[WeeklyShift, ...]
    dated: tuple[DatedShift, ...]
    away: tuple[Absence, ...]


# --- reading and writing the document ---------------------------------------------------------
def _yaml(indents: tuple[int, int, int]) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the supervisor wrote on one
    mapping, sequence, offset = indents
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _dump(yaml: YAML, document: Any) -> str:
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _load(text: str) -> tuple[YAML, CommentedMap]:
    """The document, and a writer that gives the text back unchanged when the file's style
    allows it (the first indentation that does; the usual one otherwise)."""
    yaml = _yaml(_INDENTS[0])
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        raise EditError(N_("roster.yaml cannot be read ({why}); correct it by hand first"),
                        why=type(exc).__name__) from None
    if not isinstance(document, CommentedMap):
        raise EditError(N_("roster.yaml is not a mapping of operators and shifts; correct it by "
                           "hand first"))
    for indents in _INDENTS:
        writer = _yaml(indents)
        if _dump(writer, document) == text:
            return writer, document
    return yaml, document


def apply(text: str, edit: Edit) -> str:
    """`text`, a roster.yaml, with `edit` made; EditError when it cannot be made."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    newline = "\r\n" if "\r\n" in text else "\n"
    yaml, root = _load(text.removeprefix(bom).replace("\r\n", "\n"))
    _change(root, edit)
    return bom + _dump(yaml, root).replace("\n", newline)


def _change(root: CommentedMap, edit: Edit) -> None:
    match edit:
        case SaveOperator(fields, new):
            _save_operator(root, fields, new)
        case RemoveOperator(op_id):
            _remove_operator(root, op_id)
        case AddWeekly(entry) | AddDated(entry) | AddAbsence(entry):
            _check_entry(root, entry)
            seq = _section(root, SECTIONS[type(entry)], create=True)
            with _tail_kept(root, SECTIONS[type(entry)]):
                if not seq:
                    seq.fa.set_block_style()
                seq.append(_new_mapping(_fields(entry), flow=bool(seq) and _is_flow(seq[-1])))
        case ReplaceWeekly(index, entry) | ReplaceDated(index, entry) | ReplaceAbsence(index, entry):
            _check_entry(root, entry)
            section = SECTIONS[type(entry)]
            item = _item(_section(root, section), section, index)
            with _tail_kept(root, section), _tail_kept(_section(root, section), index):
                _update(item, _fields(entry), _fields(_READERS[type(entry)](item)))
        case RemoveWeekly(index):
            _remove_item(root, "weekly", index)
        case RemoveDated(index):
            _remove_item(root, "dated", index)
        case RemoveAbsence(index):
            _remove_item(root, "away", index)


def _save_operator(root: CommentedMap, fields: OperatorFields, new: bool) -> None:
    if id_problem(fields.id):
        raise EditError(N_("'{id}' cannot be an operator id: use Latin letters, digits, '_' and "
                           "'-', starting with a letter or digit, at most 32 characters"),
                        id=fields.id)
    operators = _operators(root)
    key = _key(operators, fields.id)
    if new and key is not None:
        raise EditError(N_("there is already an operator '{id}'; choose another id"), id=fields.id)
    if not new and key is None:
        raise EditError(N_("there is no operator '{id}' in the roster"), id=fields.id)
    with _tail_kept(root, "operators"):
        if key is None:
            flow = bool(operators) and _is_flow(operators[list(operators)[-1]])
            operators[_text(fields.id)] = _new_mapping(_fields(fields), flow)
            return
        item = operators[key]
        if not isinstance(item, CommentedMap):
            raise EditError(N_("operator '{id}' is not written as a mapping; correct it by hand"),
                            id=fields.id)
        with _tail_kept(operators, key):
            _update(item, _fields(fields), _fields(_read_operator(str(key), item)))


def _remove_operator(root: CommentedMap, op_id: str) -> None:
    operators = _operators(root)
    key = _key(operators, op_id)
    if key is None:
        raise EditError(N_("there is no operator '{id}' in the roster"), id=op_id)
    lines = [item.lc.line + 1 for section in SECTIONS.values()
             for item in _section(root, section, missing_ok=True)
             if isinstance(item, CommentedMap) and op_id in _ids(item.get("who"))]
    if lines:
        current = _read_operator(op_id, operators[key]) \
            if isinstance(operators[key], CommentedMap) else None
        instead = SaveOperator(replace(current, active=False), new=False) \
            if current is not None and current.active else None
        raise EditError(N_("'{id}' is still named in the shifts or absences on line(s) {lines} "
                           "of roster.yaml: take them out of those first, or keep them on the "
                           "list without ringing them (active: false)"),
                        instead, id=op_id, lines=", ".join(map(str, lines)))
    with _tail_kept(root, "operators"):
        _drop(operators, key, root, "operators")


def _remove_item(root: CommentedMap, section: str, index: int) -> None:
    seq = _section(root, section)
    _item(seq, section, index)
    with _tail_kept(root, section):
        _drop(seq, index, root, section)
        if not seq:
            seq.fa.set_flow_style()  # `dated: []`


# --- checking what the forms give ---------------------------------------------------------------
def _check_entry(root: CommentedMap, entry: Entry) -> None:
    known = _operators(root)
    if not entry.who:
        raise EditError(N_("name at least one operator"))
    for op_id in entry.who:
        if _key(known, op_id) is None:
            raise EditError(N_("there is no operator '{id}' in the roster; add them first"),
                            id=op_id)
    if isinstance(entry, Absence):
        return
    for value in (entry.start, entry.end):
        match = _TIME.match(value)
        if not match or int(match[1]) * 60 + int(match[2]) > DAY_MINUTES:
            raise EditError(N_("'{value}' is not a time: write it as 08:00 (from 00:00 to "
                               "24:00)"), value=value)
    if isinstance(entry, WeeklyShift):
        days = entry.days
        if (isinstance(days, str) and days not in DAY_SHORTCUTS) or (
                not isinstance(days, str) and (not days or not set(days) <= set(DAY_NAMES))):
            raise EditError(N_("the days must be daily, weekdays, weekend, or some of {names}"),
                            names=", ".join(DAY_NAMES))


# --- entries as fields and back -------------------------------------------------------------
def _fields(entry: Entry | OperatorFields) -> dict[str, object]:
    """An entry's keys in the file, in the file's order, with the values they mean (None: the
    key is left out, as its default)."""
    match entry:
        case OperatorFields():
            return {"name": entry.name, "phone": entry.phone, "languages": entry.languages,
                    "regions": entry.regions or None, "active": None if entry.active else False}
        case WeeklyShift():
            return {"who": entry.who, "days": entry.days, "from": entry.start, "to": entry.end}
        case DatedShift():
            return {"who": entry.who, "date": entry.date, "from": entry.start, "to": entry.end}
        case Absence():
            return {"who": entry.who, "from": entry.start, "to": entry.end,
                    "why": entry.why or None}


def _read_operator(op_id: str, item: Mapping[str, Any]) -> OperatorFields:
    active = item.get("active", True)
    return OperatorFields(op_id, str(item.get("name", "")), str(item.get("phone", "")),
                          _ids(item.get("languages")), _ids(item.get("regions")),
                          active is not False and active not in _FALSE)


def _who_from_to(item: Mapping[str, Any]) -> tuple[tuple[str, ...], str, str]:
    return _ids(item.get("who")), str(item.get("from", "")), str(item.get("to", ""))


def _read_weekly(item: Mapping[str, Any]) -> WeeklyShift:
    who, start, end = _who_from_to(item)
    days = item.get("days", "")
    return WeeklyShift(who, str(days) if isinstance(days, str) else _ids(days), start, end)


def _read_dated(item: Mapping[str, Any]) -> DatedShift:
    who, start, end = _who_from_to(item)
    date = item.get("date")
    return DatedShift(who, date if isinstance(date, dt.date) else dt.date.min, start, end)


def _read_absence(item: Mapping[str, Any]) -> Absence:
    return Absence(_ids(item.get("who")), _moment(item.get("from")), _moment(item.get("to")),
                   str(item.get("why") or ""))


_READERS: dict[type[Entry], Callable[[Mapping[str, Any]], Entry]] = {
    WeeklyShift: _read_weekly, DatedShift: _read_dated, Absence: _read_absence}


def _ids(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)


def _moment(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M")
    except ValueError:
        return dt.date.min


def entries(text: str) -> Entries:
    """The operators and entries of a roster.yaml, for the forms."""
    _writer, root = _load(text.removeprefix("\ufeff").replace("\r\n", "\n"))

    def items(section: str) -> list[CommentedMap]:
        return [item for item in _section(root, section, missing_ok=True)
                if isinstance(item, CommentedMap)]

    return Entries(tuple(_read_operator(str(key), item) for key, item in _operators(root).items()
                         if isinstance(item, CommentedMap)),
                   tuple(map(_read_weekly, items("weekly"))), tuple(map(_read_dated, items("dated"))),
                   tuple(map(_read_absence, items("away"))))


# --- the document's parts ---------------------------------------------------------------------
def _operators(root: CommentedMap) -> CommentedMap:
    operators = root.get("operators")
    if not isinstance(operators, CommentedMap):
        raise EditError(N_("roster.yaml has no list of operators; correct it by hand first"))
    return operators


def _section(root: CommentedMap, section: str, create: bool = False,
             missing_ok: bool = False) -> CommentedSeq:
    """The list of shifts or absences `section`; a new one when `create` and there is none."""
    if section not in root and create:
        _insert(root, section, CommentedSeq(), list(ROSTER_KEYS))
    if section not in root and missing_ok:
        return CommentedSeq()
    seq = root.get(section)
    if not isinstance(seq, CommentedSeq):
        raise EditError(N_("'{section}' in roster.yaml is not a list; correct it by hand first"),
                        section=section)
    return seq


def _item(seq: CommentedSeq, section: str, index: int) -> CommentedMap:
    if not 0 <= index < len(seq):
        raise EditError(N_("'{section}' has no entry {number} (it has {count}); look again"),
                        section=section, number=index + 1, count=len(seq))
    item = seq[index]
    if not isinstance(item, CommentedMap):
        raise EditError(N_("entry {number} of '{section}' is not a mapping; correct it by hand"),
                        section=section, number=index + 1)
    return item


def _key(mapping: CommentedMap, op_id: str) -> Any:
    """The key of `mapping` that reads as `op_id` (a key such as 123 is an int here)."""
    return next((key for key in mapping if str(key) == op_id), None)


def _is_flow(value: object) -> bool:
    return isinstance(value, CommentedMap | CommentedSeq) and bool(value.fa.flow_style())


def _text(value: str) -> str:
    """A text to write: plain when the checks (PyYAML, YAML 1.1) read it back as this text,
    quoted otherwise (yes, no, on, 12:30, 1e3 would read as something else)."""
    tag = pyyaml.resolver.Resolver().resolve(  # type: ignore[no-untyped-call]
        pyyaml.ScalarNode, value, (True, False))
    return value if tag == "tag:yaml.org,2002:str" else DoubleQuotedScalarString(value)


def _styled(key: str, value: object, old: object = None) -> object:
    """A value as the file writes it: short lists in brackets, one operator without them, times
    and phone numbers in quotes, a date as a date."""
    if isinstance(value, tuple):
        if key == "who" and len(value) == 1:
            return _text(value[0])
        seq = CommentedSeq(_text(str(v)) for v in value)
        if isinstance(old, CommentedSeq) and not old.fa.flow_style():
            seq.fa.set_block_style()  # the supervisor writes this list one item a line
        else:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, dt.datetime):
        return DoubleQuotedScalarString(f"{value:%Y-%m-%d %H:%M}")
    if isinstance(value, bool | dt.date):
        return value
    if key in ("from", "to", "phone"):
        return DoubleQuotedScalarString(str(value))
    return _text(str(value))


def _new_mapping(fields: Mapping[str, object], flow: bool) -> CommentedMap:
    mapping = CommentedMap((key, _styled(key, value)) for key, value in fields.items()
                           if value is not None)
    if flow:
        mapping.fa.set_flow_style()
    return mapping


def _update(mapping: CommentedMap, new: Mapping[str, object], old: Mapping[str, object]) -> None:
    """Change only the keys whose meaning changes; a new key goes in the file's order."""
    for key, value in new.items():
        if key in mapping and old.get(key) == value:
            continue
        if value is None:
            if key in mapping:
                del mapping[key]
                mapping.ca.items.pop(key, None)
        elif key in mapping:
            mapping[key] = _styled(key, value, mapping[key])
        else:
            _insert(mapping, key, _styled(key, value), list(new))


def _insert(mapping: CommentedMap, key: str, value: object, order: Sequence[str]) -> None:
    """Put `key` after the keys that come before it in `order` (a new list in the roster's
    order of lists, a new key of an entry in the order the README writes them)."""
    keys = list(mapping)
    rank = order.index(key)
    position = max((i + 1 for i, k in enumerate(keys) if k in order and order.index(k) < rank),
                   default=0)
    if position == len(keys) and keys:  # what followed the last key now follows the new one
        tail = _take_tail(mapping, keys[-1])
        mapping.insert(position, key, value)
        _put_tail(mapping, key, tail)
        return
    mapping.insert(position, key, value)
    if position:  # blank lines between the keys around it: the same after it
        above = _take_tail(mapping, keys[position - 1])
        _put_tail(mapping, keys[position - 1], above)
        if not above.strip():
            _put_tail(mapping, key, above)


# --- comments and blank lines after an entry --------------------------------------------------
# ruamel.yaml keeps the comment lines and blank lines that follow a value with the last value
# before them: the blank line before `weekly:` belongs to the last operator's last key. So an
# edit that adds, removes or changes the last entry of a list moves that "tail" to the entry
# that is last afterwards; removing an entry also removes the comment lines above it.
def _holder(container: Any, key: Any) -> tuple[Any, Any, int]:
    """Where the tail after `container[key]` is kept: on its last scalar, or on the item."""
    value = container[key]
    if isinstance(value, CommentedMap | CommentedSeq) and len(value) and not _is_flow(value):
        return _holder(value, list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1)
    return container, key, 2 if isinstance(container, CommentedMap) else 0


def _take_tail(container: Any, key: Any) -> str:
    """Remove and return the lines after `container[key]` (its end-of-line comment stays)."""
    owner, at, slot = _holder(container, key)
    comments = owner.ca.items.get(at)
    token = comments[slot] if comments else None
    if token is None:
        return ""
    eol, newline, tail = str(token.value).partition("\n")
    if eol.strip():
        token.value = eol + newline
    else:
        comments[slot] = None
        if not any(comments):
            del owner.ca.items[at]
    return tail


def _put_tail(container: Any, key: Any, tail: str) -> None:
    if not tail:
        return
    owner, at, slot = _holder(container, key)
    comments = owner.ca.items.setdefault(at, [None, None, None, None])
    token = comments[slot]
    if token is None:
        comments[slot] = CommentToken("\n" + tail, CommentMark(0))
    else:
        token.value = token.value.partition("\n")[0] + "\n" + tail


@contextmanager
def _tail_kept(container: Any, key: Any) -> Iterator[None]:
    tail = _take_tail(container, key)
    yield
    _put_tail(container, key, tail)


def _drop(container: Any, key: Any, parent: CommentedMap, name: str) -> None:
    """Remove an item with the comment lines above it; the lines below it stay, above the item
    that comes next. (`container` is `parent[name]`.)"""
    keys = list(container) if isinstance(container, CommentedMap) else list(range(len(container)))
    position = keys.index(key)
    below = _take_tail(container, key)
    if position:
        _take_tail(container, keys[position - 1])
    else:
        _replace_first_comment(parent, name, below)
    del container[key]
    if isinstance(container, CommentedMap):
        container.ca.items.pop(key, None)
    if position:
        _put_tail(container, keys[position - 1], below)


def _replace_first_comment(parent: CommentedMap, name: str, lines: str) -> None:
    """Put `lines` where the comment lines above the first item of `parent[name]` are: after the
    end-of-line comment of `name:`. (ruamel.yaml writes what the parent keeps for `name` when it
    keeps something, else what the list or mapping keeps itself.)"""
    container = parent[name]
    comments = parent.ca.items.setdefault(name, [None, None, None, None])
    before = container.ca.comment or [None, None]
    token = comments[2] or before[0]
    value = (str(token.value).partition("\n")[0] if token is not None else "") + "\n" + lines
    if value == "\n":
        token = None
    elif token is None:
        token = CommentToken(value, CommentMark(0))
    else:
        token.value = value
    comments[2], comments[3] = token, None
    container.ca.comment = [token, None, *before[2:]]
    if not any(comments):
        del parent.ca.items[name]


# --- preview ------------------------------------------------------------------------------------
Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Preview:
    """What a change would do: the problems `ivr check` would list (nothing is published then),
    or the time it covers that had no operator (`closed`) and the time it leaves without one
    (`opened`), per language, against the version in force."""

    text: str  # roster.yaml with the change
    diff: str  # a unified diff of roster.yaml, for display
    problems: tuple[Problem, ...]
    closed: Mapping[str, tuple[Interval, ...]]
    opened: Mapping[str, tuple[Interval, ...]]

    @property
    def ok(self) -> bool:
        return not self.problems


def with_roster(files: Mapping[str, bytes], text: str) -> dict[str, bytes]:
    """The files of a version (recordings included, as they are) with another roster."""
    return {**files, ROSTER_FILE: text.encode("utf-8")}


def preview(files: Mapping[str, bytes], edit: Edit, options: Options, today: dt.date,
            days: int = 14) -> Preview:
    """`edit` made to the roster of `files` (the version in force), checked as `ivr check`
    would, with the gaps it opens and closes over `days` days from `today`."""
    old = files[ROSTER_FILE].decode("utf-8")
    new = apply(old, edit)
    diff = "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        ROSTER_FILE, ROSTER_FILE))
    after = check(MemorySource(with_roster(files, new)), options)
    if after.snapshot is None:
        return Preview(new, diff, after.problems, {}, {})
    before = check(MemorySource(files), options).snapshot
    languages = after.snapshot.languages
    now = gaps(after.snapshot.routing, languages, today, days)
    then = gaps(before.routing, languages, today, days) if before else now
    return Preview(new, diff, (), {lang: _minus(then[lang], now[lang]) for lang in languages},
                   {lang: _minus(now[lang], then[lang]) for lang in languages})


def _minus(runs: Sequence[Interval], taken: Sequence[Interval]) -> tuple[Interval, ...]:
    """The parts of `runs` outside every interval of `taken` (both sorted and merged)."""
    left: list[Interval] = []
    for start, end in runs:
        for taken_start, taken_end in taken:
            if taken_end <= start or taken_start >= end:
                continue
            if taken_start > start:
                left.append((start, taken_start))
            start = taken_end
            if start >= end:
                break
        if start < end:
            left.append((start, end))
    return tuple(left)
