"""Every call recorded exactly once, with an outcome true to what the caller met: calls whose
final status never comes, the spool under concurrency and damage, odd durations, calls that
went through the safe path, and the schema's migrations."""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ivr.records.maintenance import replay_spool, sweep
from ivr.records.spool import QUARANTINE_FILE, Spool
from ivr.records.store import RecordStore, dispose_engines, metadata
from ivr.settings import Settings
from ivr.sim.embedded_redis import EmbeddedRedis
from ivr.sim.simulator import SimulatedCall
from tests.conftest import CALLER, NATIONAL, Clock, Phone, make_app
from tests.test_failures import Explode

HOURS = 3600.0


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def phone(records_settings: Settings, clock: Clock) -> Phone:
    return Phone(make_app(records_settings, clock), records_settings)


@contextlib.contextmanager
def redis_away(url: str) -> Iterator[None]:
    """Redis refuses the router (every command fails) until the block ends; its data stays."""
    client = redis.Redis.from_url(url)
    client.config_set("requirepass", "locked-out")
    client.client_kill_filter(skipme=True)
    try:
        yield
    finally:
        redis.Redis.from_url(url, password="locked-out").config_set("requirepass", "")


# --- calls whose final status never comes -----------------------------------------------------

def test_a_call_whose_status_never_comes_is_swept_into_one_record(
        phone: Phone, records_settings: Settings, clock: Clock) -> None:
    sim = phone.start()
    sim.run(status=False)  # a silent caller, put through to the operator
    assert sweep(records_settings, now=clock() + 4 * HOURS) == 0  # it may still be going on
    assert phone.store_records() == []
    assert sweep(records_settings, now=clock() + 6 * HOURS) == 1
    assert sweep(records_settings, now=clock() + 6 * HOURS) == 0
    (row,) = phone.store_records()
    assert (row["outcome"], row["closed_by"], row["silent"]) == ("connected", "sweep", True)
    assert row["duration_seconds"] is None  # unknown, never made up
    sim.post("/voice/status", {"CallStatus": "completed", "CallDuration": "60"})  # at last
    assert len(phone.store_records()) == 1


def test_a_caller_who_hung_up_in_a_menu_without_a_status_is_swept_so(
        phone: Phone, records_settings: Settings, clock: Clock) -> None:
    sim = phone.start()
    sim.post("/voice")
    sim.post("/voice/gather?t=2", {"Digits": "2"})
    assert sweep(records_settings, now=clock() + 6 * HOURS) == 1
    (row,) = phone.store_records()
    assert (row["outcome"], row["language"], row["closed_by"]) == (
        "caller-hung-up-in-menu", "ru", "sweep")


def test_a_simulated_call_without_a_status_is_never_swept(
        phone: Phone, records_settings: Settings, clock: Clock) -> None:
    sim = SimulatedCall(phone.app.test_client(), records_settings.twilio_auth_token,
                        phone.catalogue, mark=True, call_sid="CA" + "d" * 32)
    sim.run(status=False)
    assert sweep(records_settings, now=clock() + 6 * HOURS) == 0
    assert phone.store_records() == []


def test_the_worker_sweeps_by_itself(records_settings: Settings, flows_dir: Path,
                                     tmp_path: Path) -> None:
    clock = Clock()
    clock.now = time.time()  # the worker sweeps against the real clock
    settings = replace(records_settings, sweep_after_seconds=1)
    phone = Phone(make_app(settings, clock), settings)
    phone.call(["2", "1"], status=False)
    env = {**os.environ, "REDIS_URL": settings.redis_url or "",
           "DATABASE_URL": settings.database_url, "IVR_QUEUE": settings.queue_name,
           "IVR_SPOOL_DIR": str(tmp_path / "worker-spool"), "IVR_SPOOL_EVERY": "1",
           "IVR_SWEEP_AFTER": "1", "IVR_FLOWS_DIR": str(flows_dir),
           "IVR_REDIS_PREFIX": settings.redis_prefix, "IVR_HMAC_SECRET": "x" * 32}
    worker = subprocess.Popen([str(Path(sys.executable).parent / "ivr"), "worker"], env=env,
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        rows: list[dict[str, object]] = []
        while not rows and time.monotonic() < deadline:
            time.sleep(0.5)
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                rows = RecordStore(settings.database_url).all()
    finally:
        os.killpg(worker.pid, 9)
        worker.wait()
    assert [(r["outcome"], r["closed_by"]) for r in rows] == [("connected", "sweep")]


# --- odd values --------------------------------------------------------------------------------

@pytest.mark.parametrize("duration", ["²", "9" * 4300, "9" * 20, "-5", "1e3", "", "٣٠"])
def test_an_odd_call_duration_is_stored_as_unknown(phone: Phone, duration: str) -> None:
    sim = phone.start()
    sim.run(status=False)
    sim.post("/voice/status", {"CallStatus": "completed", "CallDuration": duration})
    (row,) = phone.store_records()
    assert row["duration_seconds"] is None
    assert row["outcome"] == "connected"


# --- calls that went through the safe path --------------------------------------------------------

def test_a_fault_inside_the_flow_is_in_the_record(
        records_settings: Settings, flows_dir: Path, register_step) -> None:  # type: ignore[no-untyped-def]
    register_step(Explode)
    flow = flows_dir / "hotline150.yaml"
    text = flow.read_text().replace('"2": russian', '"2": boom')
    flow.write_text(text + "\n  boom:\n    type: explode\n    next: russian\n")
    phone = Phone(make_app(records_settings), records_settings)
    phone.call(["2"], ["no-answer", "completed"])
    (row,) = phone.store_records()
    assert (row["fault"], row["outcome"], row["destination"]) == (
        "exception", "connected", "safe_path")


def test_a_call_taken_by_the_fallback_url_is_counted_as_such(phone: Phone) -> None:
    sim = phone.start()
    document = sim.post("/voice/fallback")  # the router could not be reached: Twilio's fallback
    assert [n.text for n in document.iter("Number")] == [NATIONAL]
    sim.post(document.find("Dial").get("action"), {"DialCallStatus": "busy"})  # type: ignore[union-attr]
    sim.post("/voice/fallback/dial?leg=1", {"DialCallStatus": "no-answer"})
    sim.post("/voice/status", {"CallStatus": "completed", "CallDuration": "70"})
    (row,) = phone.store_records()
    assert (row["fault"], row["outcome"], row["destination"]) == (
        "fallback", "no-one-answered", None)


def test_redis_lost_mid_call_is_in_the_record_once_the_spool_settles(
        records_settings: Settings, clock: Clock) -> None:
    with EmbeddedRedis() as server:
        settings = replace(records_settings, redis_url=server.url)
        phone = Phone(make_app(settings, clock), settings)
        sim = phone.start()
        sim.post("/voice")
        sim.post("/voice/gather?t=2", {"Digits": "2"})
        with redis_away(server.url):
            document = sim.post("/voice/gather?t=3", {"Digits": "1"})  # the safe path
            assert [n.text for n in document.iter("Number")] == [NATIONAL]
            sim.post("/voice/fallback/dial?leg=0", {"DialCallStatus": "completed"})
        sim.post("/voice/status", {"CallStatus": "completed", "CallDuration": "300"})
        first = phone.store_records()  # stored before the spool settled: without the fault
        assert [r["fault"] for r in first] == [None]
        assert replay_spool(settings) == 2  # the fault and the safe path's line
        (row,) = phone.store_records()  # the worker amends the record from the whole log
    assert (row["fault"], row["outcome"], row["destination"], row["language"]) == (
        "redis", "connected", "safe_path", "ru")
    assert row["duration_seconds"] == 300


def test_a_call_made_while_redis_was_away_is_counted_with_its_cause(
        records_settings: Settings, clock: Clock) -> None:
    with EmbeddedRedis() as server:
        settings = replace(records_settings, redis_url=server.url)
        phone = Phone(make_app(settings, clock), settings)
        with redis_away(server.url):
            call = phone.call([], ["no-answer", "completed"])
        assert call.connected_to is not None
        assert replay_spool(settings) == 4  # the fault, two lines of the safe path, the end
        (row,) = phone.store_records()
    assert (row["fault"], row["outcome"], row["destination"], row["duration_seconds"]) == (
        "redis", "connected", "safe_path", round(call.seconds))


# --- the spool ------------------------------------------------------------------------------------

def _write(folder: str, writer: int, count: int) -> None:
    spool = Spool(Path(folder))
    for n in range(count):
        spool.add({"call_key": f"{writer}-{n}", "status": "completed"})


def _replay(folder: str, out: str, stop: str, flaky: bool) -> None:
    """A replayer process: writes each entry it settles to `out`; `flaky` fails now and then,
    as a replay does when Redis goes away again."""
    spool, rng = Spool(Path(folder)), random.Random(os.getpid())

    def handle(entry: dict[str, object]) -> None:
        if flaky and rng.random() < 0.05:
            raise ConnectionError("Redis went away again")
        with open(out, "a") as settled:
            settled.write(f"{entry['call_key']}\n")

    while not os.path.exists(stop):
        with contextlib.suppress(ConnectionError):
            spool.replay(handle)
    with contextlib.suppress(ConnectionError):
        spool.replay(handle)


def test_the_spool_loses_and_repeats_nothing_with_writers_and_replayers_in_parallel(
        tmp_path: Path) -> None:
    writers, each = 5, 800
    context = multiprocessing.get_context("fork")
    stop = tmp_path / "stop"
    replayers = [context.Process(target=_replay, args=(str(tmp_path / "spool"),
                                                       str(tmp_path / f"settled{n}"), str(stop),
                                                       n == 1)) for n in range(2)]
    producers = [context.Process(target=_write, args=(str(tmp_path / "spool"), w, each))
                 for w in range(writers)]
    for process in [*replayers, *producers]:
        process.start()
    for process in producers:
        process.join()
    stop.touch()
    for process in replayers:
        process.join()
    spool = Spool(tmp_path / "spool")
    leftovers: list[str] = []
    spool.replay(lambda entry: leftovers.append(str(entry["call_key"])))
    settled = [line for n in range(2) if (tmp_path / f"settled{n}").exists()
               for line in (tmp_path / f"settled{n}").read_text().split()] + leftovers
    assert sorted(settled) == sorted(f"{w}-{n}" for w in range(writers) for n in range(each))
    assert spool.pending() == 0


def test_a_torn_line_is_set_aside_and_blocks_nothing(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path)
    spool.add({"call_key": "first", "status": "completed"})
    with (tmp_path / "records.jsonl").open("ab") as file:
        file.write(b'{"call_key": "torn", "sta\n\xff\xfe garbage\n[1, 2]\n')
    spool.add({"call_key": "last", "status": "completed"})
    seen: list[str] = []
    assert spool.replay(lambda entry: seen.append(str(entry["call_key"]))) == 2
    assert seen == ["first", "last"]
    assert spool.pending() == 0
    assert spool.quarantined() == 3
    assert (tmp_path / QUARANTINE_FILE).read_bytes().startswith(b'{"call_key": "torn"')
    assert "set aside" in caplog.text


def test_a_spool_that_cannot_be_written_says_so_loudly(
        records_settings: Settings, clock: Clock, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the spool folder should be")
    with EmbeddedRedis() as server:
        settings = replace(records_settings, redis_url=server.url, spool_dir=blocked)
        phone = Phone(make_app(settings, clock), settings)
        sim = phone.start()
        sim.post("/voice")
        with redis_away(server.url):
            sim.post("/voice/status", {"CallStatus": "completed", "CallDuration": "9"})
    (critical,) = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "cannot be written" in critical.getMessage()
    entry = json.loads(critical.getMessage().rsplit("kept only here: ", 1)[1])
    assert entry["duration"] == 9  # recoverable by hand from the log
    assert CALLER not in caplog.text
    assert sim.params["CallSid"] not in caplog.text


# --- the schema ------------------------------------------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE call_records (call_key VARCHAR(64) PRIMARY KEY, caller_key VARCHAR(64),
  started_at TIMESTAMP NOT NULL, duration_seconds INTEGER, answer_seconds INTEGER,
  entry VARCHAR(32) NOT NULL, flow VARCHAR(64) NOT NULL, flow_version VARCHAR(32) NOT NULL,
  language VARCHAR(8), region VARCHAR(32), region_source VARCHAR(16) NOT NULL,
  menu_path TEXT NOT NULL, silent BOOLEAN NOT NULL, emergency BOOLEAN NOT NULL,
  repeat_caller BOOLEAN NOT NULL, destination VARCHAR(32), operator VARCHAR(64),
  outcome VARCHAR(40) NOT NULL);
CREATE TABLE call_categories (call_key VARCHAR(64) NOT NULL REFERENCES call_records(call_key)
  ON DELETE CASCADE, category VARCHAR(32) NOT NULL, PRIMARY KEY (call_key, category));
CREATE TABLE ivr_schema_version (version INTEGER NOT NULL);
INSERT INTO ivr_schema_version (version) VALUES (1);
INSERT INTO call_records VALUES ('old', NULL, '2026-11-01 10:00:00', 60, 5, '150', 'hotline150',
  'x', 'ru', NULL, 'unknown', '[]', false, false, false, 'operators', 'olga', 'connected');
INSERT INTO call_categories VALUES ('old', 'legal');
"""


def test_a_database_made_before_migrations_is_migrated_with_its_records(
        database_url: str) -> None:
    store = RecordStore(database_url)
    with store.engine.begin() as db:
        for statement in OLD_SCHEMA.split(";"):
            if statement.strip():
                db.exec_driver_sql(statement)
    assert store.version() is None
    head = store.upgrade()
    assert store.version() == head == "0004"
    (row,) = store.all()
    assert (row["call_key"], row["fault"], row["closed_by"]) == ("old", None, "status")
    assert store.category_counts(*_november()) == {"legal": 1}
    with store.engine.connect() as db:
        assert not sa.inspect(db).has_table("ivr_schema_version")
    dispose_engines()


def test_the_migrations_make_exactly_the_schema_the_code_uses(database_url: str) -> None:
    store = RecordStore(database_url)
    store.upgrade()
    assert store.upgrade() == store.version()  # again: nothing to do
    with store.engine.connect() as db:
        differences = compare_metadata(MigrationContext.configure(db), metadata)
    assert differences == []
    dispose_engines()


def test_processes_starting_together_on_an_empty_database_all_find_the_schema(
        database_url: str) -> None:
    """A worker and two console processes starting at once (compose brings them up together):
    one migrates, the others wait and find it done; none fails."""
    code = ("import sys; from ivr.records.store import RecordStore; "
            "print(RecordStore(sys.argv[1]).upgrade())")
    starting = [subprocess.Popen([sys.executable, "-c", code, database_url],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(4)]
    finished = [process.communicate(timeout=120) for process in starting]
    assert [process.returncode for process in starting] == [0] * 4, finished
    assert len({out.strip() for out, _err in finished}) == 1
    assert RecordStore(database_url).version() == finished[0][0].strip()
    dispose_engines()


def _november() -> tuple[object, object]:
    import datetime as dt

    return dt.datetime(2026, 11, 1), dt.datetime(2026, 12, 1)
