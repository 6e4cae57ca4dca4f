"""Time zones from the pinned `tzdata` package, not the machine's own (possibly stale) database.

All of Kazakhstan has been UTC+5 since 2024-03-01 (tzdata 2024a). A machine whose system zone
files predate that would put every shift an hour off, so zones are read from the `tzdata`
package the project pins, and the router checks the offset at start-up.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Almaty"


class ClockError(Exception):
    pass


@cache
def zone(name: str = DEFAULT_ZONE) -> ZoneInfo:
    try:
        with resources.files("tzdata.zoneinfo").joinpath(name).open("rb") as data:
            return ZoneInfo.from_file(data, key=name)
    except (FileNotFoundError, ModuleNotFoundError, IsADirectoryError, ValueError):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ClockError(f"unknown time zone '{name}'") from exc


def check_kazakhstan_offset() -> None:
    """Refuse to run with a time-zone database older than Kazakhstan's move to UTC+5."""
    offset = dt.datetime(2025, 6, 1, 12, tzinfo=zone("Asia/Almaty")).utcoffset()
    if offset != dt.timedelta(hours=5):
        raise ClockError(f"Asia/Almaty is {offset} in 2025, not +05:00: install tzdata>=2024.1")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
