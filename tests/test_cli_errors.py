"""Every command answers bad input and an unreachable service with a sentence and an exit
status, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ivr.cli import main

UNREACHABLE_REDIS = {"REDIS_URL": "redis://127.0.0.1:1/0"}
CASES = [
    (["status", "--url", "http://127.0.0.1:1"], UNREACHABLE_REDIS, 1, "did not answer"),
    (["status", "--url", "nonsense"], UNREACHABLE_REDIS, 1, "did not answer"),
    (["records", "failed"], UNREACHABLE_REDIS, 1, "cannot reach Redis at REDIS_URL"),
    (["records", "replay"], UNREACHABLE_REDIS, 1, "cannot reach Redis at REDIS_URL"),
    (["records", "sweep"], UNREACHABLE_REDIS, 1, "cannot reach Redis at REDIS_URL"),
    (["purge"], UNREACHABLE_REDIS, 1, "cannot reach Redis at REDIS_URL"),
    (["report", "--month", "2026-11"], {"DATABASE_URL": "postgresql://x@127.0.0.1:1/db"}, 1,
     "cannot reach the records database at DATABASE_URL"),
    (["report", "--month", "2026-11"], {"DATABASE_URL": "mysql://x@127.0.0.1/db"}, 1,
     "DATABASE_URL must be sqlite:///path or postgresql://"),
    (["purge"], {"IVR_RETENTION_DAYS": "abc"}, 1, "IVR_RETENTION_DAYS must be a whole number"),
    (["records", "spool"], {"IVR_SPOOL_EVERY": "-1"}, 1, "IVR_SPOOL_EVERY must be a number"),
    (["records", "failed"], {"REDIS_URL": "redis+sentinel://h:26379"}, 1,
     "a Sentinel REDIS_URL names the master"),
    (["records", "failed"], {"REDIS_URL": "redis+sentinel://h:26379/master/x"}, 1,
     "ends with the master's name"),
    (["records", "failed"], {"REDIS_URL": "nonsense"}, 1, "REDIS_URL is not a Redis URL"),
    (["report", "--month", "9999-12"], {}, 2, "give a year from 2000 to 2199"),
    (["report", "--from", "0000-01"], {}, 2, "give a year from 2000 to 2199"),
    (["roster", "now", "--at", "9999-12-31 23:59"], {}, 2, "give a year from 2000 to 2199"),
    (["roster", "gaps", "--from", "0001-01-01"], {}, 2, "give a year from 2000 to 2199"),
    (["call", "--at", "0001-01-01 00:00", "--press", "1,1"], {}, 2, "give a year"),
    (["tag", "--at", "9999-12-31 23:59", "--operator", "olga", "legal"], {}, 2, "give a year"),
    (["serve", "--port", "99999"], {}, 2, "99999 is not in the range"),
    (["serve"], {"IVR_LOG_FORMAT": "xml"}, 1, "IVR_LOG_FORMAT must be text or json"),
    (["worker"], {"IVR_METRICS_PORT": "http"}, 1, "IVR_METRICS_PORT must be a port number"),
]


@pytest.mark.parametrize(("args", "env", "code", "says"), CASES,
                         ids=[" ".join(case[0]) + " " + ",".join(case[1]) for case in CASES])
def test_a_bad_input_gets_a_sentence_and_an_exit_status(
        args: list[str], env: dict[str, str], code: int, says: str) -> None:
    result = CliRunner().invoke(main, args, env={"REDIS_URL": None, **env})
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert says in result.output
    assert "Traceback" not in result.output
