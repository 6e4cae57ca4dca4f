"""The call record: one row per call, stored by the real RQ worker, with nothing that identifies
the caller anywhere: not in the store, not in Redis, not in the logs."""

from __future__ import annotations

import logging
import sqlite3

import pytest
import redis
from rq.job import Job

from ivr.settings import Settings
from tests.conftest import CALLER, Phone
from workers.records import store_call_record
from workers.store import RecordStore

SID = "CA" + "7" * 32


def test_a_status_callback_sent_three_more_times_gives_one_row(phone: Phone) -> None:
    phone.call(["2", "1"], sid=SID)
    sim = phone.start(SID)
    for _ in range(3):
        sim.post("/voice/status", {"CallStatus": "completed", "CallDuration": "60"})
    rows = phone.store_records()
    assert len(rows) == 1
    assert rows[0]["outcome"] == "connected"


def test_a_replayed_job_does_not_add_a_row(phone: Phone) -> None:
    phone.call(["1", "1"], sid=SID)
    (row,) = phone.store_records()
    record = {**row, "menu_path": row["menu_path"]}
    assert store_call_record(record) is False
    assert len(phone.store_records()) == 1


def test_the_record_holds_what_the_issue_names(phone: Phone) -> None:
    phone.call(["1", "9"], ["busy"])
    (row,) = phone.store_records()
    assert row["language"] == "kk"
    assert row["menu_path"] == ["greeting", "kazakh", "main_menu", "emergency"]
    assert row["emergency"] == 1
    assert row["silent"] == 0
    assert row["destination"] == "operators"
    assert row["operator"] == "olga"
    assert row["answer_seconds"] == 0
    assert row["outcome"] == "connected"
    assert row["duration_seconds"] == 60
    assert row["started_at"].endswith(":00Z")
    assert row["flow"] == "hotline150"
    assert len(row["flow_version"]) == 12


def test_an_unsupported_database_url_is_a_clear_error() -> None:
    with pytest.raises(Exception, match="sqlite"):
        RecordStore.from_url("mysql://somewhere/db")


def caller_forms(number: str) -> list[str]:
    digits = number.lstrip("+")
    return [number, digits, "8" + digits[1:], digits[1:]]


def test_nothing_stored_queued_or_logged_identifies_the_caller(
    phone: Phone, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sids = [f"CA{n:032d}" for n in range(1, 5)]
    answers = []
    for sid, keys in zip(sids, (["2", "1"], [], ["9"], ["1", "0"]), strict=True):
        answers += phone.call(keys, ["busy"], sid=sid).responses  # TwiML, whispers included
    assert settings.redis_url
    client = redis.Redis.from_url(settings.redis_url)
    logs = [b"".join(client.lrange(k, 0, -1)) for k in client.keys("ivr:call:*")]
    jobs = [Job.fetch(k.decode().removeprefix("rq:job:"), connection=client)
            for k in client.keys("rq:job:record-*")]
    assert len(jobs) >= 4  # job payloads are compressed: read them as the worker would
    queued = b"".join(logs).decode() + "".join(repr((j.args, j.kwargs)) for j in jobs)
    assert "menu_path" in queued
    phone.store_records()
    database = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        stored = "\n".join(repr(row) for row in db.execute("SELECT * FROM call_records"))
    assert stored.count("hotline150") == 4
    haystacks = {"redis": queued, "store": stored, "logs": caplog.text,
                 "twiml": "\n".join(answers)}
    for where, text in haystacks.items():
        for needle in [*caller_forms(CALLER), *sids]:
            assert needle not in text, f"{needle} found in {where}"
