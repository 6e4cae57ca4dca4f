"""Fixtures: a real Redis, a fresh app per test, and a phone that calls it as Twilio would."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import secrets
import shutil
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import phonenumbers
import pytest
import redis
from flask import Flask, Response
from rq import Queue

from ivr.clock import zone
from ivr.engine.steps import STEP_TYPES, Step
from ivr.languages import SAY_VOICES
from ivr.library.files import FolderSource
from ivr.library.pipeline import Options, build, check
from ivr.library.publish import Outcome, publish
from ivr.library.snapshot import Snapshot
from ivr.records.store import RecordStore, dispose_engines, engine_url
from ivr.records.worker import RecordWorker
from ivr.redis_url import connect
from ivr.settings import PROJECT_ROOT, Settings
from ivr.sim.embedded_redis import EmbeddedRedis
from ivr.sim.simulator import Answers, Keys, SimulatedCall, Transcript, answer, press
from ivr.source import Problem
from ivr.web.app import create_app

NATIONAL = "+77172000150"
HOTLINE_ID = "+77172000100"  # IVR_CALLER_ID in tests: the hotline's own number
EMERGENCY = "+77172000112"
CALLER = "+77011234567"
OPERATOR = "+77010000101"
# Monday 14 December 2026, 10:00 in Kazakhstan (UTC+5): the moment every test call happens
# unless the test moves the clock.
MONDAY_10AM = dt.datetime(2026, 12, 14, 10, 0, tzinfo=zone("Asia/Almaty"))

# The caller's path tests run with one operator on duty around the clock, who speaks both
# languages; the routing tests write rosters of their own.
ONE_OPERATOR = """\
timezone: Asia/Almaty
operators:
  olga: {name: Olga, phone: "+77010000101", languages: [kk, ru]}
weekly:
  - {who: olga, days: daily, from: "00:00", to: "24:00"}
"""


class Clock:
    """A clock tests can set; the app reads it for the time of every event."""

    def __init__(self, at: dt.datetime = MONDAY_10AM) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, at: dt.datetime) -> None:
        self.now = at.timestamp()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The machine's Redis when REDIS_URL names one, else an embedded one for this run."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    with EmbeddedRedis() as server:
        yield server.url


WAIT_LINE = re.compile(r"^ +wait: .*\n", re.MULTILINE)


@pytest.fixture
def flows_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the shipped flows, which a test may edit; messages name `flows/...`.

    The consultant route's waiting line is taken out: most tests follow a call through its
    route's targets at a fixed clock; the line's own tests (`test_line.py`) put it back."""
    target = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", target)
    (target / "roster.yaml").write_text(ONE_OPERATOR)
    flow = target / "hotline150.yaml"
    flow.write_text(WAIT_LINE.sub("", flow.read_text()))
    monkeypatch.chdir(tmp_path)
    return target


POSTGRES_URL = os.environ.get("IVR_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_reachable() -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(engine_url(POSTGRES_URL), poolclass=sa.pool.NullPool)
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each records test runs on SQLite and on PostgreSQL (in a schema of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.sqlite3'}"
        return
    if not postgres_reachable():
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL} (IVR_TEST_POSTGRES_URL)")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(engine_url(POSTGRES_URL))
    with admin.begin() as db:
        db.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    dispose_engines()
    with admin.begin() as db:
        db.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'records.sqlite3'}"
    dispose_engines()


@pytest.fixture
def settings(tmp_path: Path, redis_url: str, flows_dir: Path, sqlite_url: str,
             monkeypatch: pytest.MonkeyPatch) -> Settings:
    database_url = sqlite_url
    monkeypatch.setenv("DATABASE_URL", database_url)  # what the worker's job reads
    return replace(
        Settings.from_env({}),
        twilio_auth_token=secrets.token_hex(16),
        hmac_secret=secrets.token_bytes(32),
        redis_url=redis_url,
        database_url=database_url,
        flows_dir=flows_dir,
        queue_name=f"test-records-{uuid.uuid4().hex}",
        redis_prefix=f"test:{uuid.uuid4().hex}:",
        spool_dir=tmp_path / "spool",
        cache_dir=tmp_path / "cache",
        caller_id=HOTLINE_ID,
        retry_intervals=(0, 0, 0),
    )


@pytest.fixture
def records_settings(settings: Settings, database_url: str,
                     monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings whose records go to SQLite and to PostgreSQL, one test each."""
    monkeypatch.setenv("DATABASE_URL", database_url)  # what the worker's job reads
    return replace(settings, database_url=database_url)


def load(flows_dir: Path, audio_dir: Path = PROJECT_ROOT / "audio") -> Snapshot:
    """The working folders as a snapshot, through the one check pipeline."""
    return build(FolderSource(flows_dir, audio_dir), Options())


def without_columns(problems: Sequence[Problem]) -> list[str]:
    """Problems as `file:line: step: message`: the columns are pinned by the `ivr check` tests."""
    return [str(replace(p, column=0)) for p in problems]


def problems_in(flows_dir: Path, audio_dir: Path = PROJECT_ROOT / "audio") -> list[Problem]:
    return list(check(FolderSource(flows_dir, audio_dir), Options()).problems)


def republish(app: Flask, settings: Settings) -> Outcome:
    """Publish the working folders as `ivr publish` does (LoadError when refused), and let the
    app take the new version, as its background thread would within a second."""
    library = app.extensions["ivr.voice"].library
    outcome = publish(library.store, FolderSource(settings.flows_dir, settings.audio_dir),
                      Options.of(settings), "test")
    library.refresh()
    return outcome


def make_app(settings: Settings, clock: Clock | None = None) -> Flask:
    """The real app, with every TwiML answer it gives checked by `check_twiml`."""
    app = create_app(settings, clock or Clock(), background=False)
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.after_request
    def check_every_answer(response: Response) -> Response:
        if response.mimetype == "text/xml":
            check_twiml(response.get_data(as_text=True))
        return response

    return app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Flask:
    return make_app(settings, clock)


def check_twiml(body: str) -> None:
    """What must hold for every answer: no Kazakh <Say>, no <Dial> to a short number."""
    root = ET.fromstring(body)
    for say in root.iter("Say"):
        language = (say.get("language") or "")[:2]
        assert language != "kk", f"<Say> in Kazakh, which no Twilio voice speaks: {body}"
        assert language in SAY_VOICES, f"<Say> in a language no Twilio voice speaks: {body}"
    for number in root.iter("Number"):
        text = (number.text or "").strip()
        assert phonenumbers.is_valid_number(phonenumbers.parse(text)), f"undiallable: {text}"


class Phone:
    """Places simulated calls against one app; checks every TwiML answer on the way."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.catalogue = app.extensions["ivr.voice"].snapshot().catalogue

    def call(self, keys: Keys | Sequence[str | None] = (), answers: Answers | Sequence[str] = (),
             status: bool = True, sid: str | None = None, to: str = "150",
             caller: str = CALLER, method: str = "POST") -> Transcript:
        sim = self.start(sid, to, caller, method)
        keys_fn = keys if callable(keys) else press(keys)
        answers_fn = answers if callable(answers) else answer(answers)
        transcript = sim.run(keys_fn, answers_fn, status=status)
        for body in transcript.responses:
            check_twiml(body)
        return transcript

    def start(self, sid: str | None = None, to: str = "150",
              caller: str = CALLER, method: str = "POST") -> SimulatedCall:
        return SimulatedCall(self.app.test_client(), self.settings.twilio_auth_token,
                             self.catalogue, self.settings.public_base_url,
                             call_sid=sid or "CA" + uuid.uuid4().hex, caller=caller, to=to,
                             method=method)

    def store_records(self) -> list[dict[str, object]]:
        """Run the real RQ worker over the queue until it is empty, then read the store."""
        assert self.settings.redis_url
        connection = connect(self.settings.redis_url)
        queue = Queue(self.settings.queue_name, connection=connection)
        RecordWorker([queue], connection=connection).work(burst=True)
        store = RecordStore(self.settings.database_url)
        store.upgrade()
        return store.all()


@pytest.fixture
def phone(app: Flask, settings: Settings) -> Phone:
    return Phone(app, settings)


@pytest.fixture
def register_step() -> Iterator[Callable[[type[Step]], None]]:
    """Register a step type for one test only."""
    added: list[str] = []

    def register(cls: type[Step]) -> None:
        STEP_TYPES[cls.TYPE] = cls
        added.append(cls.TYPE)

    yield register
    for name in added:
        STEP_TYPES.pop(name, None)


def redis_values(client: redis.Redis, pattern: str = "*") -> list[bytes]:
    """Every key matching `pattern` and every value it holds, whatever its type: what a dump of
    Redis (an RDB or AOF file, a backup) would give an attacker."""
    parts: list[bytes] = []
    for key in client.scan_iter(match=pattern, count=1000):
        kind = client.type(key)
        if kind == b"string":
            value = client.get(key)
            parts.append(value if isinstance(value, bytes) else b"")
        elif kind == b"list":
            parts.extend(client.lrange(key, 0, -1))
        elif kind == b"hash":
            for field, value in client.hgetall(key).items():
                parts += [field, value]
        elif kind == b"set":
            parts.extend(client.smembers(key))
        elif kind == b"zset":
            parts.extend(member for member, _ in client.zrange(key, 0, -1, withscores=True))
        parts.append(key)
    return parts


def redis_contents(client: redis.Redis, pattern: str = "*") -> bytes:
    return b"\n".join(redis_values(client, pattern))


def parents() -> dict[int, int]:
    """Every running process's parent, read from /proc."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def children(pid: int) -> list[int]:
    return [child for child, parent in parents().items() if parent == pid]


def process_tree(root: int) -> list[int]:
    """A process and all its descendants."""
    known = parents()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(child for child, parent in known.items() if parent == pid)
    return tree

# The console's browser fixtures (Chromium, the Procfile's console process, pages), for every
# module of browser tests.
pytest_plugins = ["tests.console_browser"]
