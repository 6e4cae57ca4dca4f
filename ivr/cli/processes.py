"""`ivr serve` and `ivr worker`: the router's processes.

`ivr serve` runs the whole router on one machine, from the Procfile as written: every Procfile
process (web and worker) with `$PORT` set, after starting an embedded Redis when REDIS_URL is
not set and making development secrets when none are configured. When nothing is published yet
it publishes the working folders first (and does not start if they fail the checks); with
`--watch` it also runs `ivr publish --watch`, so each edit is checked and published within
seconds. Ctrl-C stops the processes and then Redis.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import click
import redis

from ivr import logs
from ivr.calls.keys import Keys
from ivr.cli.common import settings as current_settings
from ivr.cli.texts import Command
from ivr.library.files import FolderSource
from ivr.library.pipeline import Options, check
from ivr.library.publish import publish, who
from ivr.library.store import SnapshotStore
from ivr.redis_url import connect
from ivr.settings import PROJECT_ROOT, Settings
from ivr.sim.embedded_redis import EmbeddedRedis
from ivr.source import LoadError

WATCH_COMMAND = "ivr publish --watch"


def procfile_commands(path: Path) -> dict[str, str]:
    commands: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not line.lstrip().startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


DEVELOPMENT_CALLER_ID = "+77172000150"  # the example national line of the shipped flow


def development_env(env: dict[str, str], say: Callable[[str], None]) -> dict[str, str]:
    env = dict(env)
    if not env.get("IVR_CALLER_ID"):
        env["IVR_CALLER_ID"] = DEVELOPMENT_CALLER_ID
        say(f"IVR_CALLER_ID is not set: using {DEVELOPMENT_CALLER_ID} for this run. Set it to "
            "your Twilio number to take real calls.")
    if not env.get("TWILIO_AUTH_TOKEN"):
        env["TWILIO_AUTH_TOKEN"] = secrets.token_hex(16)
        say("TWILIO_AUTH_TOKEN is not set: using a development token, printed below. Set your "
            "account's token to take real calls.")
    if not env.get("IVR_HMAC_SECRET"):
        env["IVR_HMAC_SECRET"] = secrets.token_hex(32)
        say("IVR_HMAC_SECRET is not set: using a random secret for this run only.")
    if not env.get("IVR_CONSOLE_SECRET"):
        env["IVR_CONSOLE_SECRET"] = secrets.token_hex(32)
        say("IVR_CONSOLE_SECRET is not set: using a random secret for this run only (console "
            "logins end when the router stops).")
    return env


def banner(port: int, env: dict[str, str], embedded: bool, dev_token: bool, watch: bool) -> str:
    local = f"http://127.0.0.1:{port}"
    public = env.get("IVR_PUBLIC_URL", "").rstrip("/")
    console_host = env.get("IVR_CONSOLE_BIND") or "127.0.0.1"
    if console_host in ("0.0.0.0", "::"):  # noqa: S104 - every address, this machine's among them
        console_host = "127.0.0.1"
    console = f"http://{console_host}:{env.get('IVR_CONSOLE_PORT') or '8150'}"
    lines = ["", "The 150 router is running on " + local
             + (" (embedded Redis; it stops with the router)." if embedded else "."), ""]
    if public:
        lines += [
            "Configure your Twilio number (Phone Numbers > your number > Voice configuration):",
            f"  A call comes in  (Voice URL, HTTP POST):    {public}/voice",
            f"  Primary handler fails (Fallback URL, POST):  {public}/voice/fallback",
            f"  Call status changes (Status Callback, POST): {public}/voice/status",
        ]
    else:
        lines += [
            "Twilio cannot reach this machine's own address. To take real calls, give it an",
            f"HTTPS address that leads here (a tunnel such as `ngrok http {port}` or",
            f"`cloudflared tunnel --url {local}`, or your server's proxy), set IVR_PUBLIC_URL",
            "to that address, and start again: the router refuses forwarded webhooks until",
            "then, and prints the three URLs to give Twilio.",
        ]
    lines += [
        "",
        "Try a call without a phone, from another terminal:",
        f"  TWILIO_AUTH_TOKEN={env['TWILIO_AUTH_TOKEN'] if dev_token else '<your token>'} "
        f"{Path(sys.executable).parent / 'ivr'} call --url {local} --press 2,1",
        "",
        ("Edits to flows/ and audio/ are checked and, if they pass, published within seconds."
         if watch else "Publish edits to flows/ and audio/ with: ivr publish -m 'why'"),
        "",
        f"The supervisors' console: {console} (make the first supervisor with",
        f"  {Path(sys.executable).parent / 'ivr'} users add NAME --role supervisor)",
        "",
        "Press Ctrl-C to stop.",
        "",
    ]
    return "\n".join(lines)


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


def first_publication(settings: Settings, redis_url: str, say: Callable[[str], None]) -> bool:
    """Publish the working folders when nothing is published yet; False when they fail."""
    store = SnapshotStore(connect(redis_url, timeout=5.0), Keys(settings.redis_prefix))
    in_force = store.current()
    if in_force is not None:
        working = check(FolderSource(settings.flows_dir, settings.audio_dir),
                        Options.of(settings)).snapshot
        if working is None or working.version != in_force:
            say(f"version {in_force} is in force; the working folders differ from it "
                "(`ivr status` tells how; `ivr publish` puts them in force)")
        return True
    try:
        outcome = publish(store, FolderSource(settings.flows_dir, settings.audio_dir),
                          Options.of(settings), who(), "published by ivr serve")
    except LoadError as exc:
        say(f"{exc}\nThe router was not started: fix the files and try again.")
        return False
    say(f"published the working folders as version {outcome.snapshot.version}")
    return True


class _Stopped(Exception):
    """A stop signal arrived while the router was still starting."""


def _stop_at_once(signum: int, frame: object) -> None:
    raise _Stopped


def serve(port: int, settings: Settings, watch: bool, say: Callable[[str], None]) -> int:
    """Run the router until a stop signal; 0 when stopped by one, 1 when it could not start
    or a process of it stopped by itself. Whatever it started is stopped before it returns."""
    logs.configure(settings.log_format, settings.log_level)
    # Until every process is started, a stop signal unwinds at once (Redis is stopped below);
    # after that it only sets a flag, so no process is ever left half started.
    signal.signal(signal.SIGINT, _stop_at_once)
    signal.signal(signal.SIGTERM, _stop_at_once)
    dev_token = not os.environ.get("TWILIO_AUTH_TOKEN")
    env = development_env(dict(os.environ), say)
    env["PORT"] = str(port)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    embedded: EmbeddedRedis | None = None
    processes: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    try:
        if not env.get("REDIS_URL"):
            embedded = EmbeddedRedis().start()
            env["REDIS_URL"] = embedded.url
        try:
            if not first_publication(settings, env["REDIS_URL"], say):
                return 1
        except redis.RedisError as exc:
            say(f"cannot reach Redis at REDIS_URL ({type(exc).__name__}); the router was not "
                "started")
            return 1
        commands = procfile_commands(PROJECT_ROOT / "Procfile")
        if watch:
            commands["publisher"] = WATCH_COMMAND
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, command in commands.items():
            if stopping:
                return 0
            say(f"starting {name}: {command}")
            processes.append(subprocess.Popen(command, shell=True, env=env,  # noqa: S602
                                              cwd=PROJECT_ROOT, start_new_session=True))
        say(banner(port, env, embedded is not None, dev_token, watch))
        while not stopping:
            if any(p.poll() is not None for p in processes):
                say("a process stopped; shutting the router down")
                return 1
            time.sleep(0.2)
        return 0
    except _Stopped:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for process in processes:
            _signal_group(process.pid, signal.SIGTERM)
        for process in processes:
            _wait_for_group(process, timeout=15)
        if embedded is not None:
            embedded.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@click.command("serve", cls=Command)
@click.option("--port", type=click.IntRange(1, 65535),
              default=lambda: int(os.environ.get("PORT", "5000")),
              show_default="$PORT or 5000", help="Port for the web process.")
@click.option("--watch", is_flag=True, help="Also publish the working folders each time a file "
              "changes (for trying edits; `python3 dev.py run` turns it on).")
def serve_command(port: int, watch: bool) -> None:
    """Run web, worker and (when REDIS_URL is unset) an embedded Redis, from the Procfile."""
    sys.exit(serve(port, current_settings(), watch, lambda line: click.echo(line, err=True)))


@click.command(cls=Command)
def worker() -> None:
    """Run an RQ worker that stores call records (needs REDIS_URL).

    Jobs run inside the worker process (no work-horse per job): a record is one insert, and
    keeping the database connection pool makes the worker about seven times faster
    (bench/records.py). A worker that dies is restarted by the process manager; its job is
    retried, and stored once.
    """
    from rq import Queue

    from ivr.records.worker import RecordWorker
    from workers.records import configure

    settings = current_settings()
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set; `ivr serve` runs a worker with Redis.")
    logs.configure(settings.log_format, settings.log_level)
    configure(settings)
    connection = connect(settings.redis_url)
    queue = Queue(settings.queue_name, connection=connection)
    _upkeep_in_background(settings, settings.spool_every_seconds)
    log = logging.getLogger("ivr.worker")
    while True:
        _wait_for_redis(connection)
        # Maintenance every minute (RQ's default is ten): a job left by a worker that died is
        # retried within a few minutes.
        rq_worker = RecordWorker([queue], connection=connection, maintenance_interval=60)
        with contextlib.suppress(redis.RedisError):
            rq_worker.work(with_scheduler=True)
        if rq_worker.asked_to_stop:
            return
        # RQ stops its loop when Redis goes away in the middle of a job: start it again, so
        # records go on being stored without waiting for a process manager.
        log.warning("the worker lost Redis; it goes on once Redis is back")
        time.sleep(1)


def _wait_for_redis(connection: redis.Redis) -> None:
    """A worker that starts while Redis is away waits for it (RQ's own loop rides out an
    outage once it works, but not one at its start)."""
    wait = 0.5
    while True:
        try:
            connection.ping()
            return
        except redis.RedisError as exc:
            logging.getLogger("ivr.worker").warning(
                "Redis cannot be reached (%s); trying again in %.0f s", type(exc).__name__, wait)
            time.sleep(wait)
            wait = min(wait * 2, 5.0)


def _upkeep_in_background(settings: Settings, every: float = 60.0) -> None:
    """A worker settles its host's spool once Redis is back, and records the calls whose final
    status never came (the sweep)."""
    from ivr.records.maintenance import replay_spool, sweep

    log = logging.getLogger("ivr.records")

    def loop() -> None:
        while True:
            for name, task in (("spool", replay_spool), ("sweep", sweep)):
                try:
                    if (count := task(settings)) > 0:
                        log.info("%s: %d record(s) queued", name, count)
                except Exception as exc:  # Redis still away: try later
                    log.warning("%s waits: %s", name, type(exc).__name__)
            time.sleep(every)

    threading.Thread(target=loop, name="upkeep", daemon=True).start()


COMMANDS = [serve_command, worker]
