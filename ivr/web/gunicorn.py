"""gunicorn's settings for the web process (`gunicorn -c python:ivr.web.gunicorn`).

- Logging, the access log without query strings, no control socket: `ivr.gunicorn_base`,
  which the console shares.
- Metrics: the Prometheus client adds up every worker process's metrics from files in
  PROMETHEUS_MULTIPROC_DIR (a fresh folder for each start unless one is given; a worker that
  exits is marked dead there). `/metrics` is served on the internal listener the Procfile
  binds (`127.0.0.1:$IVR_METRICS_PORT`).
- Forwarded headers (X-Forwarded-*) are trusted from nobody: behind a proxy, IVR_PUBLIC_URL
  says the address Twilio signs, and nothing a client sends can change it.
- Shared memory: the master imports the router's code (Flask, Twilio's library, redis-py, RQ,
  the flow engine) before it forks, and freezes those objects out of the garbage collector's
  reach, so the workers share those pages instead of each holding a copy. The app itself is
  still made in each worker (no `preload_app`): its Redis connections and the thread that
  loads new versions must not cross a fork.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ivr.gunicorn_base import (  # noqa: F401 - gunicorn reads them from this module
    access_log_format,
    accesslog,
    control_socket_disable,
    forwarded_allow_ips,
    logconfig_dict,
    logger_class,
)

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


def when_ready(server: Any) -> None:
    """Once the master listens, and before it forks its first workers: import the router, and
    load what the workers' roster checks load on first use (every country's public holidays,
    the time zone data), so the workers share those pages (see above). Here rather than at the
    top: the master binds its ports at once, and the metrics' multiprocess folder is set
    before the Prometheus client is first imported."""
    import ivr.web.app  # noqa: F401
    from ivr.clock import zone
    from ivr.library.roster import warm_up

    importlib.import_module("_strptime")  # datetime's parser, imported on its first use
    warm_up()
    zone()


def pre_fork(server: Any, worker: Any) -> None:
    import gc

    gc.freeze()  # what the master holds stays put: the collector never writes to those pages
