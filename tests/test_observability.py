"""Watching the line: the logs of every process, the metrics a Prometheus scrapes after a batch
of calls, and the alert rules and dashboard shipped for them."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
import yaml
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue
from twilio.request_validator import RequestValidator

from ivr.records.store import RecordStore
from ivr.records.worker import RecordWorker
from ivr.settings import PROJECT_ROOT, Settings
from ivr.sim.simulator import HttpClient, SimulatedCall, answer, press
from tests.conftest import CALLER
from tests.servers import PUBLIC_URL, SHIPPED, TOKEN, Host, hosts
from tests.test_records import caller_forms

__all__ = ["hosts"]  # the fixture

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
                       r"\[\d+\] [\w.]+: ")
KEYS = [["2", "1"], ["1", "1"], [], ["9"], ["1", "2", "0"]]


def scrape(host: Host) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """The metrics on the host's internal listener, by family and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{host.metrics_port}/metrics",
                                timeout=10) as reply:
        text = reply.read().decode()
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def place_calls(host: Host, count: int) -> list[str]:
    sids = []
    for n in range(count):
        sid = "CA" + uuid.uuid4().hex
        sids.append(sid)
        SimulatedCall(HttpClient(host.url), TOKEN, SHIPPED.catalogue, PUBLIC_URL, call_sid=sid,
                      caller=CALLER, to="150").run(press(KEYS[n % len(KEYS)]),
                                                    answer(["busy"] if n % 3 == 0 else []))
    return sids


def post(host: Host, path: str, params: dict[str, str]) -> int:
    """A signed POST, as Twilio sends its webhooks."""
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + path, params)
    request = urllib.request.Request(host.url + path, data=urlencode(params).encode(),  # noqa: S310
                                     headers={"X-Twilio-Signature": signature}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def store_records(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    connection = redis.Redis.from_url(settings.redis_url or "")
    queue = Queue(settings.queue_name, connection=connection)
    RecordWorker([queue], connection=connection).work(burst=True)
    return RecordStore(settings.database_url).all()


@pytest.fixture
def watched(hosts: Callable[..., Host], settings: Settings, monkeypatch: pytest.MonkeyPatch
            ) -> tuple[Host, dict[str, dict[tuple[tuple[str, str], ...], float]], list[str],
                       list[dict[str, object]]]:
    """A router host after a batch of calls, one of them through the Fallback URL, and a
    Twilio error reported by its debugger webhook: its metrics, the calls and their records."""
    host = hosts("watched", workers=2)
    sids = place_calls(host, 12)
    fallback = {"CallSid": "CA" + uuid.uuid4().hex, "From": CALLER, "To": "150"}
    assert post(host, "/voice/fallback", fallback) == 200
    payload = json.dumps({"error_code": "11200", "webhook": {"request": {"parameters": {
        "From": CALLER, "CallSid": fallback["CallSid"]}}}})
    assert post(host, "/twilio/debugger", {"Level": "ERROR", "Payload": payload,
                                            "AccountSid": "AC" + "1" * 32}) == 204
    rows = store_records(settings, monkeypatch)
    return host, scrape(host), [*sids, fallback["CallSid"]], rows


def test_the_metrics_count_what_the_records_hold(watched) -> None:  # type: ignore[no-untyped-def]
    _, metrics, _, rows = watched
    by_outcome: dict[str, int] = {}
    for row in rows:
        by_outcome[str(row["outcome"])] = by_outcome.get(str(row["outcome"]), 0) + 1
    assert len(rows) == 12
    assert {dict(labels)["outcome"]: int(value)
            for labels, value in metrics["ivr_calls_total"].items()} == by_outcome
    assert metrics["ivr_safe_path_total"] == {(("cause", "fallback"),): 1.0}
    assert metrics["ivr_twilio_errors_total"] == {(("code", "11200"),): 1.0}
    latency = metrics["ivr_webhook_seconds_count"]
    assert latency[(("endpoint", "/voice"),)] == 12  # every call's first webhook, both workers
    assert sum(latency.values()) > 50
    assert metrics["ivr_consultants_on_duty"][(("language", "kk"),)] == 1
    assert metrics["ivr_redis_up"][()] == 1
    assert metrics["ivr_records_queued"][()] == 0
    assert metrics["ivr_line_callers"][()] == 0


def test_metrics_are_served_on_the_internal_listener_only(watched) -> None:  # type: ignore[no-untyped-def]
    host = watched[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{host.url}/metrics", timeout=10)  # noqa: S310
    assert refused.value.code == 404
    refused.value.close()


def test_no_log_line_names_a_caller_and_every_line_says_when_and_how_grave(watched) -> None:  # type: ignore[no-untyped-def]
    host, _, sids, _ = watched
    host.stop()
    lines = host.log.read_text().splitlines()
    assert any("gunicorn.access" in line and '"POST /voice/gather"' in line for line in lines)
    assert any("Twilio called the Fallback URL" in line for line in lines)
    assert any("Twilio reported error 11200" in line for line in lines)
    for line in lines:
        assert TEXT_LINE.match(line), line
        for needle in [*caller_forms(CALLER), *sids]:
            assert needle not in line, line


def test_json_lines_when_asked(hosts: Callable[..., Host]) -> None:
    host = hosts("json", IVR_LOG_FORMAT="json")
    place_calls(host, 2)
    host.stop()
    rows = [json.loads(line) for line in host.log.read_text().splitlines()]
    assert rows
    assert all({"time", "level", "process", "logger", "message"} <= row.keys() for row in rows)
    assert any(row["logger"] == "ivr.library" and "in force" in row["message"] for row in rows)


def named_metrics(text: str) -> set[str]:
    names = set(re.findall(r"\bivr_[a-z0-9_]+", text))
    return {re.sub(r"_(bucket|count|sum)$", "", name) for name in names}


def test_the_alert_rules_and_the_dashboard_name_metrics_that_exist(watched) -> None:  # type: ignore[no-untyped-def]
    _, metrics, _, _ = watched
    exposed = {re.sub(r"_(bucket|count|sum|created)$", "", name) for name in metrics}
    rules = yaml.safe_load((PROJECT_ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {"SafePathInUse", "NobodyOnDutyNow", "NobodyOnDutySoon", "RecordsFailing",
            "SpoolGrowing"} <= {rule["alert"] for rule in alerts}
    for rule in alerts:
        assert {"alert", "expr", "labels", "annotations"} <= rule.keys()
        assert named_metrics(rule["expr"]) <= exposed, rule["alert"]
    dashboard = json.loads((PROJECT_ROOT / "deploy" / "grafana" / "ivr150.json").read_text())
    targets = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert targets
    for expr in targets:
        assert named_metrics(expr) <= exposed, expr


def test_a_prometheus_rules_file_parses_as_promtool_would() -> None:
    rules = yaml.safe_load((PROJECT_ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    for group in rules["groups"]:
        assert set(group) == {"name", "rules"}
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
            assert rule["expr"].count("(") == rule["expr"].count(")")
            assert rule["labels"]["severity"] in ("page", "ticket", "info")
    assert Path(PROJECT_ROOT / "deploy" / "grafana" / "ivr150.json").is_file()
