"""Property-based: whatever a supervisor (or anyone) writes into any file, the check pipeline
answers with a verdict, never an exception: a value of any type anywhere, any bytes, any file."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.library.files import FolderSource, MemorySource
from ivr.library.pipeline import Options, Verdict, check
from ivr.settings import PROJECT_ROOT

SOURCE = FolderSource(PROJECT_ROOT / "flows", PROJECT_ROOT / "audio")
FILES = {name: SOURCE.read(name) for name in SOURCE.names()}
YAML_FILES = sorted(name for name in FILES if name.endswith(".yaml"))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**6), max_value=10**30),
    st.floats(allow_nan=True), st.text(max_size=30),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.sampled_from(["+77010000101", "112", "aigerim", "kk", "ru", "daily", "24:00", "08:00",
                     "operators", "hangup", "menu", "route", "Айгерим", "", "always"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=10), st.sampled_from(["type", "who", "to", "from",
                                                                     "try", "options", "kk"])),
                    inner, max_size=4)), max_leaves=12)


def mutate(data: Any, draw: st.DataObject, value: Any) -> Any:
    """Replace one value somewhere in `data` (or all of it) with `value`."""
    if not isinstance(data, dict | list) or not data or draw.draw(st.integers(0, 4)) == 0:
        return value
    if isinstance(data, dict):
        key = draw.draw(st.sampled_from(sorted(data, key=str)))
        return {**data, key: mutate(data[key], draw, value)}
    index = draw.draw(st.integers(0, len(data) - 1))
    return [*data[:index], mutate(data[index], draw, value), *data[index + 1:]]


@FUZZ
@given(name=st.sampled_from(YAML_FILES), value=values, data=st.data())
def test_any_value_anywhere_gets_a_verdict(name: str, value: Any, data: st.DataObject) -> None:
    parsed = yaml.safe_load(FILES[name])
    edited = yaml.safe_dump(mutate(parsed, data, value), allow_unicode=True).encode()
    verdict = check(MemorySource({**FILES, name: edited}), Options())
    assert isinstance(verdict, Verdict)
    assert verdict.ok == (verdict.snapshot is not None)


@FUZZ
@given(name=st.sampled_from([*YAML_FILES, "audio/kk/greeting.wav"]), data=st.binary(max_size=400))
def test_any_bytes_in_any_file_get_a_verdict(name: str, data: bytes) -> None:
    verdict = check(MemorySource({**FILES, name: data}), Options())
    assert not verdict.ok
    assert all(problem.file and problem.line >= 1 for problem in verdict.problems)
