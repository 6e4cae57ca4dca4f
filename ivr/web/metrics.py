"""The router's metrics for Prometheus, served at `/metrics` on an internal listener only.

gunicorn binds a second, internal address (`127.0.0.1:$IVR_METRICS_PORT` in the Procfile);
`/metrics` answers there and is a 404 on the public port. Under gunicorn the metrics of every
worker process are added up (the client's multiprocess mode, `ivr.web.gunicorn`).

- measured in the web processes: `ivr_webhook_seconds` (latency, by endpoint),
  `ivr_safe_path_total` (answers by the safe path, by cause), `ivr_twilio_errors_total`
  (Twilio's own errors on the line, from its debugger webhook, by code);
- read at each scrape from the shared store: `ivr_calls_total` (calls stored, by outcome;
  counted by the worker as it stores each row), `ivr_records_queued`, `ivr_records_failed`,
  `ivr_records_swept_total`, `ivr_records_spooled` (this host's spool), `ivr_publications_
  refused_total`, `ivr_line_callers` and `ivr_line_longest_wait_seconds` (the waiting line),
  `ivr_redis_up`;
- from the version in force: `ivr_consultants_on_duty`, `ivr_uncovered_hours_next_24h` and
  `ivr_next_gap_seconds` (until nobody is on duty), by language; `ivr_version_info`.

Nothing here has a label that could name a caller.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import redis
from flask import Blueprint, Flask, Response, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from rq import Queue
from rq.registry import FailedJobRegistry

from ivr.calls.counts import counts
from ivr.routing.report import cover
from ivr.web.context import Voice, voice

PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
WEBHOOK_SECONDS = Histogram(
    "ivr_webhook_seconds", "Time to answer a webhook, by endpoint", ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0))
SAFE_PATH = Counter("ivr_safe_path_total", "Webhooks answered by the safe path, by cause",
                    ["cause"])
TWILIO_ERRORS = Counter("ivr_twilio_errors_total",
                        "Errors Twilio reported on the line (its debugger webhook), by code",
                        ["code"])
bp = Blueprint("metrics", __name__)


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class Shared(Collector):
    """What the whole deployment shares, read at each scrape: the records, the line, the roster."""

    def __init__(self, ctx: Voice) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        yield from self._roster()
        up = GaugeMetricFamily("ivr_redis_up", "1 when the router's Redis answers")
        try:
            yield from self._store()
            up.add_metric([], 1)
        except redis.RedisError:
            up.add_metric([], 0)
        yield up
        spool = GaugeMetricFamily("ivr_records_spooled",
                                  "Entries this host keeps while Redis is away")
        spool.add_metric([], self.ctx.spool.pending())
        yield spool

    def _store(self) -> Iterator[Metric]:
        ctx, keys = self.ctx, self.ctx.calls.keys
        calls = CounterMetricFamily("ivr_calls", "Calls stored, by outcome", labels=["outcome"])
        for outcome, n in sorted(counts(ctx.redis, keys, "calls").items()):
            calls.add_metric([outcome], n)
        yield calls
        for name, help_text in (("swept", "Calls recorded by the sweep (no final status came)"),
                                ("refused", "Publications refused by the checks")):
            family = CounterMetricFamily(
                "ivr_records_swept" if name == "swept" else "ivr_publications_refused",
                help_text)
            family.add_metric([], sum(counts(ctx.redis, keys, name).values()))
            yield family
        queue = Queue(ctx.settings.queue_name, connection=ctx.redis)
        for name, value, help_text in (
                ("ivr_records_queued", len(queue), "Record jobs waiting for a worker"),
                ("ivr_records_failed", len(FailedJobRegistry(queue=queue)),
                 "Record jobs that failed after all their retries")):
            gauge = GaugeMetricFamily(name, help_text)
            gauge.add_metric([], value)
            yield gauge
        line = ctx.line.read()
        waiting = GaugeMetricFamily("ivr_line_callers", "Callers waiting in line now")
        waiting.add_metric([], len(line.members))
        yield waiting
        longest = GaugeMetricFamily("ivr_line_longest_wait_seconds",
                                    "How long the caller at the head of the line has waited")
        longest.add_metric([], max((line.at - m.joined for m in line.members), default=0.0))
        yield longest

    def _roster(self) -> Iterator[Metric]:
        snapshot = self.ctx.library.current
        version = GaugeMetricFamily("ivr_version_info", "The version in force here",
                                    labels=["version"])
        version.add_metric([snapshot.version], 1)
        yield version
        now = dt.datetime.fromtimestamp(self.ctx.clock(), dt.UTC)
        found = cover(snapshot.routing, snapshot.languages, now)
        families = [
            GaugeMetricFamily("ivr_consultants_on_duty", "Operators on duty now, by language",
                              labels=["language"]),
            GaugeMetricFamily("ivr_uncovered_hours_next_24h",
                              "Hours in the next 24 with nobody on duty, by language",
                              labels=["language"]),
            GaugeMetricFamily("ivr_next_gap_seconds", "Seconds until nobody is on duty for a "
                              "language (86400 when not in the next 24 hours)",
                              labels=["language"]),
        ]
        for language, figures in sorted(found.items()):
            families[0].add_metric([language], figures.on_duty)
            families[1].add_metric([language], figures.uncovered_hours)
            families[2].add_metric([language], 86400.0 if figures.next_gap_seconds is None
                                   else figures.next_gap_seconds)
        yield from families


class Local(Collector):
    """This process's own metrics, when there is no multiprocess directory to add up."""

    def collect(self) -> Iterator[Metric]:
        for family in REGISTRY.collect():
            if family.name.startswith("ivr_"):
                yield family


@bp.get(PATH)
def metrics() -> Response:
    ctx = voice()
    port = request.environ.get("SERVER_PORT", "")
    if not ctx.settings.metrics_port or port != str(ctx.settings.metrics_port):
        return Response("Not Found\n", status=404, mimetype="text/plain")
    registry = CollectorRegistry()
    if multiprocess():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(Local())
    registry.register(Shared(ctx))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE)


def init_app(app: Flask) -> None:
    """`/metrics`; the webhooks' latency is observed where they are answered (`ivr.web.lean`),
    by route, never by query or a caller's data."""
    app.register_blueprint(bp)
