"""`python3 dev.py run` as a developer, an IDE or a service manager stops it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from ivr.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def marked(mark: str) -> list[int]:
    """The processes whose environment carries `mark` (every child inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # gone, or not ours to read
                continue
    return found


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc to find left processes")
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "Ctrl-C"])
def test_a_stop_signal_to_dev_py_run_stops_everything(tmp_path: Path, how: str) -> None:
    """SIGINT or SIGTERM to the PID alone (`kill`, an IDE's stop button, a service manager),
    or Ctrl-C in a terminal (SIGINT to the whole foreground process group)."""
    port, metrics = free_port(), free_port()
    mark = f"ivr-dev-{uuid.uuid4().hex}"
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "TWILIO_AUTH_TOKEN", "IVR_PUBLIC_URL")}
    env.update(IVR_DEV_MARK=mark, TMPDIR=str(temporary), IVR_METRICS_PORT=str(metrics),
               IVR_CONSOLE_PORT=str(free_port()),
               DATABASE_URL=f"sqlite:///{tmp_path / 'records.sqlite3'}",
               IVR_CACHE_DIR=str(tmp_path / "cache"), IVR_SPOOL_DIR=str(tmp_path / "spool"))
    run = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "dev.py"), "run", "--port",
                            str(port)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120  # a first run may install the environment
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                            timeout=2) as response:
                    if b'"redis":"ok"' in response.read():
                        break
            except OSError:
                time.sleep(0.3)
            assert run.poll() is None, run.communicate()
        else:
            raise AssertionError("the router did not answer")
        assert len(marked(mark)) >= 4  # ivr serve, gunicorn, a worker, Redis, the publisher
        if how == "Ctrl-C":
            os.killpg(run.pid, signal.SIGINT)
        else:
            run.send_signal(getattr(signal, how))
        out, errors = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, errors
    assert "Traceback" not in errors + out
    left = marked(mark)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []
    assert not listening(port)
    assert not listening(metrics)
    assert list(temporary.iterdir()) == []  # Redis's folder, the metrics folder: all removed
