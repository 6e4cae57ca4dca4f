"""The call record: one row per call, stored by the real RQ worker on SQLite and PostgreSQL,
with nothing that identifies the caller anywhere: not in the store, not in Redis, not in RQ
payloads, not in the logs."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, StartedJobRegistry

from ivr.records.maintenance import failed_jobs, replay_failed, replay_spool
from ivr.records.store import RecordStore
from ivr.records.worker import RecordWorker
from ivr.settings import Settings
from tests.conftest import CALLER, MONDAY_10AM, Clock, Phone, make_app, process_tree, redis_contents
from workers.records import store_call_record

SID = "CA" + "7" * 32


@pytest.fixture
def phone(records_settings: Settings) -> Phone:
    return Phone(make_app(records_settings, Clock()), records_settings)


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
    assert store_call_record(row) is False
    assert len(phone.store_records()) == 1


def test_the_record_holds_what_the_issue_names(phone: Phone) -> None:
    call = phone.call(["1", "9"], ["busy"], to="+77172000150")
    (row,) = phone.store_records()
    assert row["language"] == "kk"
    assert row["menu_path"] == ["greeting", "kazakh", "main_menu", "emergency"]
    assert row["emergency"] is True
    assert row["silent"] is False
    assert row["repeat_caller"] is False
    assert row["destination"] == "operators"
    assert row["operator"] == "olga"
    assert row["answer_seconds"] == 0
    assert row["outcome"] == "connected"
    assert row["duration_seconds"] == round(call.seconds)  # Twilio's CallDuration
    assert row["started_at"] == MONDAY_10AM.astimezone(dt.UTC).replace(tzinfo=None)
    assert row["entry"] == "+77172000150"
    assert row["flow"] == "hotline150"
    assert len(row["flow_version"]) == 12
    assert len(row["caller_key"]) == 32


def test_a_second_call_from_the_same_number_is_a_repeat(phone: Phone) -> None:
    phone.call(["2", "1"])
    phone.call(["2", "1"])
    phone.call(["2", "1"], caller="anonymous")
    first, second, withheld = phone.store_records()
    assert first["caller_key"] == second["caller_key"]
    assert (first["repeat_caller"], second["repeat_caller"]) == (False, True)
    assert withheld["caller_key"] is None
    assert withheld["repeat_caller"] is False


def test_caller_keys_are_unlinkable_across_months(records_settings: Settings) -> None:
    clock = Clock()
    phone = Phone(make_app(records_settings, clock), records_settings)
    phone.call(["2", "1"])
    clock.set(MONDAY_10AM + dt.timedelta(days=31))  # January: a new secret
    phone.call(["2", "1"])
    december, january = phone.store_records()
    assert december["caller_key"] != january["caller_key"]
    assert january["repeat_caller"] is False


def test_redis_down_when_the_call_ends_spools_the_record_and_replays_it_once(
    phone: Phone, records_settings: Settings
) -> None:
    from ivr.sim.embedded_redis import EmbeddedRedis

    with EmbeddedRedis() as server:
        settings = replace(records_settings, redis_url=server.url)
        phone = Phone(make_app(settings, Clock()), settings)
        sim = phone.start(SID)
        sim.post("/voice")
        sim.post("/voice/gather", {"Digits": "2"})
        # Redis goes away; the status callback still answers 200 and spools the call's end
        client = redis.Redis.from_url(server.url)
        client.config_set("requirepass", "locked-out")  # unreachable for the app from now on
        client.client_kill_filter(skipme=True)
        sim.post("/voice/status", {"CallStatus": "completed", "CallDuration": "30"})
        voice = phone.app.extensions["ivr.voice"]
        assert voice.spool.pending() == 1
        client = redis.Redis.from_url(server.url, password="locked-out")
        client.config_set("requirepass", "")  # Redis is back, with the call's log intact

        assert replay_spool(settings) == 1
        assert replay_spool(settings) == 0  # nothing left, nothing stored twice
        rows = phone.store_records()
    assert len(rows) == 1
    assert rows[0]["language"] == "ru"
    assert rows[0]["outcome"] == "caller-hung-up-in-menu"
    assert rows[0]["duration_seconds"] == 30


def test_a_spooled_call_whose_log_was_lost_is_still_counted(records_settings: Settings) -> None:
    from ivr.records.spool import Spool

    Spool(records_settings.spool_dir).add(
        {"call_key": uuid.uuid4().hex, "status": "completed", "duration": 42,
         "ended_at": MONDAY_10AM.timestamp()})
    assert replay_spool(records_settings) == 1
    (row,) = Phone(make_app(records_settings), records_settings).store_records()
    assert (row["outcome"], row["duration_seconds"], row["flow"]) == ("unknown", 42, "unknown")


def call_with_the_database_down(phone: Phone, settings: Settings,
                                monkeypatch: pytest.MonkeyPatch, attempts: int | None) -> Queue:
    """A call ends; the worker tries to store it `attempts` times (None: every retry) while
    the database cannot be reached."""
    phone.call(["2", "1"], sid=SID)
    connection = redis.Redis.from_url(settings.redis_url or "")
    queue = Queue(settings.queue_name, connection=connection)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    RecordWorker([queue], connection=connection).work(burst=True, max_jobs=attempts)
    return queue


def test_the_database_down_the_job_is_retried_and_the_row_stored(
    phone: Phone, records_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = call_with_the_database_down(phone, records_settings, monkeypatch, attempts=1)
    job = Job.fetch(f"record-{phone_key(phone, SID)}", connection=queue.connection)
    assert job.retries_left == 2  # the failure was retried, not lost
    monkeypatch.setenv("DATABASE_URL", records_settings.database_url)
    assert len(phone.store_records()) == 1


def test_failed_jobs_can_be_listed_and_replayed(
    phone: Phone, records_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = call_with_the_database_down(phone, records_settings, monkeypatch, attempts=None)
    assert len(FailedJobRegistry(queue=queue)) == 1
    (line,) = failed_jobs(records_settings)
    assert line.startswith(f"record-{phone_key(phone, SID)}")
    assert CALLER not in line
    monkeypatch.setenv("DATABASE_URL", records_settings.database_url)
    assert replay_failed(records_settings) == 1
    assert len(phone.store_records()) == 1


def phone_key(phone: Phone, sid: str) -> str:
    from ivr.calls.pseudonyms import call_key

    return call_key(phone.settings.hmac_secret, sid)


def test_purge_removes_old_rows_only(phone: Phone, records_settings: Settings) -> None:
    phone.call(["2", "1"])
    (row,) = phone.store_records()
    store = RecordStore(records_settings.database_url)
    old = {**row, "call_key": "0" * 32, "started_at": row["started_at"] - dt.timedelta(days=91)}
    store.insert(old, dt.timedelta(days=30))
    store.tag("0" * 32, ["physical"])
    assert store.purge(row["started_at"] - dt.timedelta(days=90)) == 1
    assert [r["call_key"] for r in store.all()] == [row["call_key"]]


def caller_forms(number: str) -> list[str]:
    digits = number.lstrip("+")
    return [number, digits, "8" + digits[1:], digits[1:]]


def test_nothing_stored_queued_or_logged_identifies_the_caller(
    phone: Phone, records_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sids = [f"CA{n:032d}" for n in range(1, 5)]
    answers = []
    for sid, keys in zip(sids, (["2", "1"], [], ["9"], ["1", "0"]), strict=True):
        answers += phone.call(keys, ["busy"], sid=sid).responses  # TwiML, whispers included
    assert records_settings.redis_url
    client = redis.Redis.from_url(records_settings.redis_url)
    logs = [redis_contents(client, records_settings.redis_prefix + "*")]
    jobs = [Job.fetch(k.decode().removeprefix("rq:job:"), connection=client)
            for k in client.keys("rq:job:record-*")]
    assert len(jobs) >= 4  # job payloads are compressed: read them as the worker would
    queued = b"".join(logs).decode("latin-1") + "".join(repr((j.args, j.kwargs)) for j in jobs)
    assert "menu_path" in queued
    stored = "\n".join(repr(row) for row in phone.store_records())
    assert stored.count("hotline150") == 4
    haystacks = {"redis": queued, "store": stored, "logs": caplog.text,
                 "twiml": "\n".join(answers)}
    for where, text in haystacks.items():
        for needle in [*caller_forms(CALLER), *sids]:
            assert needle not in text, f"{needle} found in {where}"


def test_a_worker_killed_in_the_middle_of_a_job_then_restarted_stores_one_row(
    phone: Phone, records_settings: Settings, tmp_path: Path
) -> None:
    import sqlalchemy as sa

    phone.call(["2", "1"], sid=SID)
    store = RecordStore(records_settings.database_url)
    store.upgrade()
    connection = redis.Redis.from_url(records_settings.redis_url or "")
    queue = Queue(records_settings.queue_name, connection=connection)
    # Hold the table so the worker's insert waits mid-job; then kill the worker outright.
    lock = store.engine.connect()
    transaction = lock.begin()
    if store.engine.dialect.name == "sqlite":
        lock.exec_driver_sql("DELETE FROM call_records WHERE 0")  # takes the write lock
    else:
        lock.execute(sa.text("LOCK TABLE call_records IN ACCESS EXCLUSIVE MODE"))
    env = {**os.environ, "REDIS_URL": records_settings.redis_url or "",
           "DATABASE_URL": records_settings.database_url, "IVR_QUEUE": queue.name,
           "IVR_SPOOL_DIR": str(tmp_path / "worker-spool")}
    worker = subprocess.Popen([str(Path(sys.executable).parent / "ivr"), "worker"], env=env,
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        started = StartedJobRegistry(queue=queue)
        deadline = time.monotonic() + 30
        while len(started) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(started) == 1, "the worker never started the job"
        time.sleep(0.5)  # the insert is waiting for the table
    finally:
        for pid in process_tree(worker.pid):  # the worker and its work-horse (own group)
            os.kill(pid, signal.SIGKILL)
        worker.wait()
        transaction.rollback()
        lock.close()
    assert store.all() == []
    # A restarted worker's maintenance finds the abandoned job and retries it (here at once).
    started.cleanup(timestamp=time.time() + 3600)
    rows = phone.store_records()
    assert len(rows) == 1
    replay_failed(records_settings)
    assert len(phone.store_records()) == 1


def _append_entries(folder: str, writer: int, count: int) -> None:
    from ivr.records.spool import Spool

    spool = Spool(Path(folder))
    for n in range(count):
        spool.add({"call_key": f"{writer}-{n}"})


def test_the_spool_loses_nothing_when_appends_and_replays_overlap(tmp_path: Path) -> None:
    import multiprocessing

    from ivr.records.spool import Spool

    writers, each = 4, 600
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_append_entries, args=(str(tmp_path), w, each))
                 for w in range(writers)]
    for process in processes:
        process.start()
    spool, seen = Spool(tmp_path), []
    while any(p.is_alive() for p in processes):
        spool.replay(lambda entry: seen.append(entry["call_key"]))
    for process in processes:
        process.join()
    spool.replay(lambda entry: seen.append(entry["call_key"]))
    assert sorted(seen) == sorted(f"{w}-{n}" for w in range(writers) for n in range(each))
    assert spool.pending() == 0
