"""gunicorn's settings for the web process (`gunicorn -c python:ivr.web.gunicorn`).

- Logging: the same lines as every other process (`ivr.logs`, IVR_LOG_FORMAT and
  IVR_LOG_LEVEL), gunicorn's own and its access log included. The access log holds the method,
  the path and the status, never the query string: a number whose Voice URL is set to GET
  sends the caller's number and the CallSid in it.
- Metrics: the Prometheus client adds up every worker process's metrics from files in
  PROMETHEUS_MULTIPROC_DIR (a fresh folder for each start unless one is given; a worker that
  exits is marked dead there). `/metrics` is served on the internal listener the Procfile
  binds (`127.0.0.1:$IVR_METRICS_PORT`).
- Forwarded headers (X-Forwarded-*) are trusted from nobody: behind a proxy, IVR_PUBLIC_URL
  says the address Twilio signs, and nothing a client sends can change it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ivr.logs import dict_config, settings_of

_format, _level = settings_of(os.environ)
logconfig_dict = dict_config(_format, _level, {
    "gunicorn.error": {"level": _level, "handlers": ["stderr"], "propagate": False},
    "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
})
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
forwarded_allow_ips = ""
# No control socket (gunicorn 27+): it lives at one path per user, which several routers on
# one host would fight over, and nothing here manages gunicorn through it.
control_socket_disable = True

_ours = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _ours:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="ivr-metrics-")
_metrics = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
_metrics.mkdir(parents=True, exist_ok=True)
for _stale in _metrics.glob("*.db"):  # the counts of an earlier run are not this run's
    _stale.unlink(missing_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _ours:
        shutil.rmtree(_metrics, ignore_errors=True)
