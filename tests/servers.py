"""Real processes for the tests: gunicorn hosts as the Procfile runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.intermediate_queue import IntermediateQueue
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry

from ivr.cli.processes import procfile_commands
from ivr.records.worker import RecordWorker
from ivr.settings import PROJECT_ROOT, Settings
from tests.conftest import children, load

TOKEN = "hosts-test-token"
PUBLIC_URL = "https://ivr.example.org"  # the load balancer's address, which Twilio signs
SHIPPED = load(PROJECT_ROOT / "flows")  # the prompts callers hear, to name what they hear


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


class Host:
    """One web host: gunicorn with the Procfile's settings (one worker, so a test knows which
    process answers), on its own port and cache folder."""

    def __init__(self, settings: Settings, folder: Path, workers: int = 1,
                 **env: str) -> None:
        self.port, self.metrics_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = procfile_commands(PROJECT_ROOT / "Procfile")["web"]
        self.command = command.replace("--workers 2", f"--workers {workers}")
        self.env = {**os.environ, "PORT": str(self.port), "TWILIO_AUTH_TOKEN": TOKEN,
                    "IVR_HMAC_SECRET": "h" * 32, "REDIS_URL": settings.redis_url or "",
                    "IVR_PUBLIC_URL": PUBLIC_URL,
                    "IVR_REDIS_PREFIX": settings.redis_prefix, "IVR_CALLER_ID": "+77172000150",
                    "IVR_FLOWS_DIR": str(settings.flows_dir), "IVR_AUDIO_DIR": str(settings.audio_dir),
                    "IVR_CACHE_DIR": str(folder / "cache"), "IVR_SPOOL_DIR": str(folder / "spool"),
                    "IVR_QUEUE": settings.queue_name, "DATABASE_URL": settings.database_url,
                    "IVR_METRICS_PORT": str(self.metrics_port),
                    "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
                    **env}
        self.log = folder / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Host:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, shell=True, env=self.env,  # noqa: S602
                                            cwd=PROJECT_ROOT, start_new_session=True,
                                            stdout=log, stderr=log)
        wait_for(lambda: self.health()["status"] == "ok")
        return self

    def health(self) -> dict[str, str]:
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as reply:  # noqa: S310
            data: dict[str, str] = json.loads(reply.read())
        return data

    def workers(self) -> list[int]:
        assert self.process is not None
        masters = children(self.process.pid) or [self.process.pid]  # the shell, then gunicorn
        return [pid for master in masters for pid in children(master)]

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        stop_group(self.process)
        self.process = None


@pytest.fixture
def hosts(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Host]]:
    started: list[Host] = []

    def make(name: str, workers: int = 1, **env: str) -> Host:
        folder = tmp_path / name
        folder.mkdir()
        host = Host(settings, folder, workers, **env).start()
        started.append(host)
        return host

    yield make
    for host in started:
        host.stop()




def recover_abandoned_jobs(connection: redis.Redis, queue_name: str) -> None:
    """What a worker's maintenance and RQ's scheduler do within minutes, now: jobs a worker
    held when it died or lost Redis (started, or just taken off the queue) are queued again,
    and retries waiting for their time are due."""
    queue = Queue(queue_name, connection=connection)
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_job_ids():
        scheduled.remove(job_id)
        queue.enqueue_job(Job.fetch(job_id, connection=connection))
    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)
    taken = IntermediateQueue(queue.key, connection)
    helper = RecordWorker([queue], connection=connection)
    taken.cleanup(helper, queue)  # first seen ...
    for job_id in taken.get_job_ids():
        connection.set(taken.get_first_seen_key(job_id), time.time() - 120)
    taken.cleanup(helper, queue)  # ... and stuck for over a minute: retried


def stop_group(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a process started in a session of its own, and its children, as a process
    manager would: SIGTERM, then SIGKILL after half a minute. Returns once every process of
    the group is gone (the shell that started gunicorn may go first), so its ports are free."""
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _group_alive(process):
            time.sleep(0.05)
        if _group_alive(process):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        while _group_alive(process):
            time.sleep(0.05)


def _group_alive(process: subprocess.Popen[bytes]) -> bool:
    """Whether a process of the group still runs (zombies waiting to be reaped do not)."""
    process.poll()  # reap the group's leader once it exits
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == process.pid:  # state, process group
            return True
    return False
