"""`ivr serve`: the whole router on one machine, started from the Procfile as written.

Runs every Procfile process (web and worker) with `$PORT` set, after starting an embedded Redis
when REDIS_URL is not set and making development secrets when none are configured. Ctrl-C stops
the processes and then Redis.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ivr.embedded_redis import EmbeddedRedis
from ivr.settings import PROJECT_ROOT


def procfile_commands(path: Path) -> dict[str, str]:
    commands: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not line.lstrip().startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


def development_env(env: dict[str, str], say: Callable[[str], None]) -> dict[str, str]:
    env = dict(env)
    if not env.get("TWILIO_AUTH_TOKEN"):
        env["TWILIO_AUTH_TOKEN"] = secrets.token_hex(16)
        say("TWILIO_AUTH_TOKEN is not set: using a development token, printed below. Set your "
            "account's token to take real calls.")
    if not env.get("IVR_HMAC_SECRET"):
        env["IVR_HMAC_SECRET"] = secrets.token_hex(32)
        say("IVR_HMAC_SECRET is not set: using a random secret for this run only.")
    return env


def banner(port: int, env: dict[str, str], embedded: bool, dev_token: bool) -> str:
    base = env.get("IVR_PUBLIC_URL", "").rstrip("/") or f"http://localhost:{port}"
    local = f"http://127.0.0.1:{port}"
    return "\n".join([
        "",
        "The 150 router is running" + (" (embedded Redis; stops with the router)." if embedded
                                       else "."),
        "",
        "Configure your Twilio number (Phone Numbers > your number > Voice configuration):",
        f"  A call comes in  (Voice URL, HTTP POST):    {base}/voice",
        f"  Primary handler fails (Fallback URL, POST):  {base}/voice/fallback",
        f"  Call status changes (Status Callback, POST): {base}/voice/status",
        f"  Health check for a load balancer (GET):      {base}/healthz",
        "",
        "Try a call without a phone, from another terminal:",
        f"  TWILIO_AUTH_TOKEN={env['TWILIO_AUTH_TOKEN'] if dev_token else '<your token>'} "
        f".venv/bin/ivr call --url {local} "
        "--press 2,1",
        "",
        "Press Ctrl-C to stop.",
        "",
    ])


def _signal_group(pgid: int, signum: int) -> bool:
    try:
        os.killpg(pgid, signum)
        return True
    except ProcessLookupError:
        return False


def _wait_for_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until every process of the group has exited (a worker's scheduler child too),
    so that Redis is stopped only after nothing uses it any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.poll()
        if not _signal_group(process.pid, 0):
            return
        time.sleep(0.1)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def serve(port: int, say: Callable[[str], None]) -> int:
    dev_token = not os.environ.get("TWILIO_AUTH_TOKEN")
    env = development_env(dict(os.environ), say)
    env["PORT"] = str(port)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    embedded = None
    if not env.get("REDIS_URL"):
        embedded = EmbeddedRedis().start()
        env["REDIS_URL"] = embedded.url
    processes: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        for name, command in procfile_commands(PROJECT_ROOT / "Procfile").items():
            say(f"starting {name}: {command}")
            processes.append(subprocess.Popen(command, shell=True, env=env,  # noqa: S602
                                              cwd=PROJECT_ROOT, start_new_session=True))
        say(banner(port, env, embedded is not None, dev_token))
        while not stopping:
            if any(p.poll() is not None for p in processes):
                say("a process stopped; shutting the router down")
                return 1
            time.sleep(0.2)
        return 0
    finally:
        for process in processes:
            _signal_group(process.pid, signal.SIGTERM)
        for process in processes:
            _wait_for_group(process, timeout=15)
        if embedded is not None:
            embedded.stop()
