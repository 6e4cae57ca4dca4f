"""One logging configuration for every process: the web (and gunicorn's own lines), the worker
(and RQ's), and `ivr serve`.

Each line has the time (UTC, ISO 8601), the level, the process id, the logger and the message;
with IVR_LOG_FORMAT=json each line is a JSON object with the same fields, for a log collector.
IVR_LOG_LEVEL sets the level (INFO by default: versions published and in force, refusals,
spooled records settled, sweeps). No line carries a caller's number or a CallSid: the code
that logs never has them to give (tests scan every line of a batch of calls for them).
"""

from __future__ import annotations

import logging
import logging.config
import time
from collections.abc import Mapping
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _Json  # python-json-logger 3+

TEXT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(process)d %(name)s %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")


def utc_time(record: logging.LogRecord) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z"


class UTCFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_time(record)


def formatter(kind: str) -> dict[str, Any]:
    """A logging.config formatter entry for `text` or `json` lines."""
    if kind == "json":
        return {"()": "ivr.logs.JsonFormatter", "format": JSON_FIELDS}
    return {"()": "ivr.logs.UTCFormatter", "format": TEXT}


def dict_config(kind: str = "text", level: str = "INFO",
                extra_loggers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The logging configuration every process uses (gunicorn takes it as `logconfig_dict`)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"ivr": formatter(kind)},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "ivr",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        # Alembic says at INFO which of its plugins it set up, each time a process checks the
        # schema: noise beside the events that matter. Its warnings and errors still show.
        "loggers": {"ivr": {"level": level}, "alembic": {"level": "WARNING"},
                    **(extra_loggers or {})},
    }


def configure(kind: str = "text", level: str = "INFO") -> None:
    """Configure this process's logging (the web app, `ivr worker`, `ivr serve`)."""
    logging.config.dictConfig(dict_config(kind, level))


def settings_of(env: Mapping[str, str]) -> tuple[str, str]:
    """IVR_LOG_FORMAT and IVR_LOG_LEVEL, with a sentence for a value that is not known."""
    kind = (env.get("IVR_LOG_FORMAT") or "text").lower()
    level = (env.get("IVR_LOG_LEVEL") or "INFO").upper()
    if kind not in FORMATS:
        raise ValueError(f"IVR_LOG_FORMAT must be text or json, not '{kind}'")
    if level not in LEVELS:
        raise ValueError(f"IVR_LOG_LEVEL must be one of {', '.join(LEVELS)}, not '{level}'")
    return kind, level


class JsonFormatter(_Json):
    """One JSON object a line: time (UTC), level, process, logger, message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level",
                                            "name": "logger"})
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_time(record)
