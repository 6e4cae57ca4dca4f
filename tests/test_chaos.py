"""Faults under load: Redis stopped and restarted, the worker killed, the database locked.

Simulated callers keep calling from several threads while the faults happen. Every caller must
be connected to a person, and once everything is back, the store must hold exactly one record
per call.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path

import redis
from rq import Queue

from ivr.records.store import RecordStore
from ivr.settings import Settings
from ivr.sim.embedded_redis import EmbeddedRedis
from ivr.sim.simulator import SimulatedCall, answer, press
from tests.conftest import Clock, check_twiml, make_app
from tests.servers import recover_abandoned_jobs

CALLERS = 6
KEYS = [["2", "1"], ["1", "1"], [], ["9"], ["2", "2", "1", "2"], ["0"]]


def start_worker(settings: Settings, flows_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REDIS_URL": settings.redis_url or "",
           "DATABASE_URL": settings.database_url, "IVR_QUEUE": settings.queue_name,
           "IVR_SPOOL_DIR": str(settings.spool_dir), "IVR_SPOOL_EVERY": "1",
           "IVR_FLOWS_DIR": str(flows_dir), "IVR_REDIS_PREFIX": settings.redis_prefix,
           "IVR_HMAC_SECRET": "x" * 32}
    return subprocess.Popen([str(Path(sys.executable).parent / "ivr"), "worker"], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_callers_are_connected_and_counted_once_through_redis_worker_and_database_faults(
    settings: Settings, flows_dir: Path
) -> None:
    server = EmbeddedRedis(persistent=True).start()
    settings = replace(settings, redis_url=server.url)
    app = make_app(settings, Clock())
    catalogue = app.extensions["ivr.voice"].snapshot().catalogue
    worker = start_worker(settings, flows_dir)
    finished: list[str] = []
    failures: list[str] = []
    stop_at = time.monotonic() + 14

    def caller(n: int) -> None:
        client = app.test_client()
        while time.monotonic() < stop_at:
            sid = "CA" + uuid.uuid4().hex
            sim = SimulatedCall(client, settings.twilio_auth_token, catalogue, call_sid=sid)
            try:
                transcript = sim.run(press(KEYS[len(finished) % len(KEYS)]), answer([]))
            except AssertionError as exc:
                failures.append(f"{sid}: {exc}")
                continue
            for body in transcript.responses:
                check_twiml(body)
            if transcript.connected_to is None:
                failures.append(f"{sid} was not connected: {transcript.dialled}")
            finished.append(sid)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(CALLERS)]
    for thread in threads:
        thread.start()
    database = settings.database_url.removeprefix("sqlite:///")
    try:
        time.sleep(2)
        server.stop(keep=True)  # Redis goes away mid-calls ...
        time.sleep(2)
        server.restart()  # ... and comes back with its data
        time.sleep(1.5)
        kill(worker)  # the worker dies ...
        time.sleep(1)
        worker = start_worker(settings, flows_dir)  # ... and is started again
        time.sleep(1)
        RecordStore(settings.database_url).upgrade()
        lock = sqlite3.connect(database, timeout=30, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")  # the database refuses writes for a while
        time.sleep(6)
        lock.execute("ROLLBACK")
        lock.close()
        for thread in threads:
            thread.join()
        # Recovery: the worker drains the queue, retries, and settles the spool.
        connection = redis.Redis.from_url(server.url)
        queue = Queue(settings.queue_name, connection=connection)
        # The killed worker may have held a job, or just taken one off the queue; the
        # restarted worker's maintenance (every minute) retries both once their time is up.
        # Let that time pass now.
        recover_abandoned_jobs(connection, settings.queue_name)
        deadline = time.monotonic() + 60
        rows: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            rows = RecordStore(settings.database_url).all()
            if len(rows) >= len(finished) and len(queue) == 0:
                break
            time.sleep(0.5)
    finally:
        kill(worker)
        server.stop()
    assert failures == []
    assert len(finished) > 20, "too little load to mean anything"
    keys = [row["call_key"] for row in rows]
    assert len(keys) == len(set(keys)) == len(finished)
