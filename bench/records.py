"""Throughput of the call-record pipeline, against a no-op RQ job in the same run.

    .venv/bin/python bench/records.py [--calls 300] [--database sqlite|postgresql]

Measures, with the worker class `ivr worker` runs (or `--worker fork`, a work-horse per job):
- the enqueue cost per call (one unique, retried record job) vs enqueueing a no-op job;
- records stored per second by one worker process vs no-op jobs per second.
Uses REDIS_URL if set, else an embedded Redis; SQLite in a temporary folder by default.
Figures are printed as ratios measured in one run: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import redis
import sqlalchemy as sa
from rq import Queue, Worker

from ivr.records.record import CallRecord, enqueue_record
from ivr.records.store import RecordStore, dispose_engines, engine_url
from ivr.records.worker import RecordWorker
from ivr.sim.embedded_redis import EmbeddedRedis

NOOP = "time.monotonic"  # a job that does nothing, importable by dotted path


def a_record() -> CallRecord:
    return CallRecord(
        call_key=uuid.uuid4().hex, caller_key=uuid.uuid4().hex, started_at="2026-11-22T10:00:00Z",
        duration_seconds=300, answer_seconds=12, entry="+77172000150", flow="hotline150",
        flow_version="1aa3bd5b6e88", language="kk", region="almaty_city", region_source="hint",
        menu_path=("greeting", "kazakh", "main_menu", "consultant"), silent=False,
        emergency=False, destination="operators", operator="aigerim", outcome="connected")


def timed(action, count: int) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    for _ in range(count):
        action()
    return (time.perf_counter() - began) / count


def drain(connection: redis.Redis, queue: Queue, kind: type[Worker]) -> float:
    worker = kind([queue], connection=connection)
    began = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    return time.perf_counter() - began


def postgres_schema(url: str) -> str:
    """A schema of the benchmark's own, so it never mixes with real rows."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(engine_url(url), poolclass=sa.pool.NullPool)
    with engine.begin() as db:
        db.execute(sa.text(f"CREATE SCHEMA {schema}"))
    return f"{url}?options=-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    schema = url.rsplit("%3D", 1)[1]
    engine = sa.create_engine(engine_url(url.split("?")[0]), poolclass=sa.pool.NullPool)
    with engine.begin() as db:
        db.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--worker", choices=["simple", "fork"], default="simple",
                        help="simple: jobs run in the worker process (what `ivr worker` runs); "
                        "fork: one work-horse process per job")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis() as embedded:
        url = os.environ.get("REDIS_URL") or embedded.url
        database = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        if args.database == "postgresql":
            database = postgres_schema(os.environ.get("DATABASE_URL",
                                                      "postgresql://postgres@127.0.0.1/test"))
        os.environ["DATABASE_URL"] = database
        RecordStore(database).upgrade()
        connection = redis.Redis.from_url(url)
        records = Queue(f"bench-records-{uuid.uuid4().hex}", connection=connection)
        noops = Queue(f"bench-noop-{uuid.uuid4().hex}", connection=connection)

        enqueue_noop = timed(lambda: noops.enqueue(NOOP), args.calls)
        enqueue_call = timed(lambda: enqueue_record(connection, records.name, a_record(), "bench:"),
                             args.calls)
        kind = RecordWorker if args.worker == "simple" else Worker
        noop_seconds = drain(connection, noops, kind)
        record_seconds = drain(connection, records, kind)
        stored = len(RecordStore(database).all())
        dispose_engines()
        if args.database == "postgresql":
            drop_schema(database)
    print(f"calls: {args.calls}, database: {args.database}, worker: {kind.__name__}")
    print(f"enqueue per call      {enqueue_call * 1e6:8.0f} µs   no-op job {enqueue_noop * 1e6:8.0f} µs"
          f"   ratio {enqueue_call / enqueue_noop:5.2f}")
    print(f"stored per second     {args.calls / record_seconds:8.1f}      no-op jobs/s "
          f"{args.calls / noop_seconds:8.1f}      ratio {noop_seconds / record_seconds:5.2f}")
    print(f"rows stored: {stored}")


if __name__ == "__main__":
    main()
