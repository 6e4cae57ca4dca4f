"""The published versions one router process serves, kept current in the background.

A process starts on the version in force in the shared store, and also loads every version that
was in force within the last hours (a call lasts at most that long), so a call that started on
another host, or before this process restarted, finishes on its own version. It never reads the
working folders, except once: when the store holds no version at all (a new deployment), the
first process publishes them if they pass, and otherwise refuses to start with the problems.

New versions arrive in a background thread: a notification through Redis wakes it, and it also
looks every second; each process takes a new version at a random moment within three seconds,
so that the processes of a host do not all load it at once. Loading runs the check pipeline
off the request path; a webhook only reads what is already in memory, and never waits for a
version to load. A webhook for a version this process does not have yet asks for it and is
answered with the safe path.

If Redis is unreachable when the process starts, it serves the last version this host served,
from its local copy (`ivr.library.cache`).

Loading a large version (a roster of thousands) must not stall the webhooks served by the same
process, so it runs "quietly": it takes each YAML file's parse from the store rather than
parsing it again (`ivr.library.trees`) and the schemas' verdict on the very same bytes, the
garbage collector is paused while the version's
objects are made and then those objects are frozen out of its sight (a full collection over
them would stop every thread for half a second), and threads take turns every fifth of a
millisecond.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator

import redis

from ivr.library.cache import LocalCache
from ivr.library.catalogue import Recording
from ivr.library.changes import describe
from ivr.library.files import MemorySource, Source
from ivr.library.pipeline import (
    Options,
    build,
    forget_parsed,
    parse_trees,
    parsed,
    remember,
    remember_schema_passed,
)
from ivr.library.publish import note_checked
from ivr.library.schemas import fingerprint
from ivr.library.snapshot import Snapshot, digest
from ivr.library.store import Publication, SnapshotStore, StoreError, in_force_since
from ivr.library.trees import decode
from ivr.source import LoadError

log = logging.getLogger("ivr.library")
LOOK_EVERY_SECONDS = 1.0
PREPARE_DAYS = 3  # duty days built ahead of the calls that need them
LOAD_SWITCH_INTERVAL = 0.0002  # seconds a thread may hold the interpreter while a version loads
MAX_VERSIONS = 16  # held at once; an older version a call still uses is loaded when asked for
RETRY_SECONDS = 60.0  # before trying again a version that could not be loaded
SPREAD_SECONDS = 3.0  # each process waits up to this long, at random, before taking a version
_LOADING = threading.Lock()


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Make a version's objects without stopping the other threads of the process."""
    with _LOADING:
        interval, collecting = sys.getswitchinterval(), gc.isenabled()
        gc.disable()
        sys.setswitchinterval(LOAD_SWITCH_INTERVAL)
        try:
            yield
        finally:
            sys.setswitchinterval(interval)
            gc.freeze()  # long-lived from now on: no collection needs to look at them again
            if collecting:
                gc.enable()


class NothingToServe(Exception):
    """No published version can be had: the store is unreachable and this host has none."""


class Library:
    def __init__(self, store: SnapshotStore, options: Options, cache: LocalCache | None = None,
                 keep_seconds: float = 6 * 3600, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.options = options
        self.cache = cache
        self.keep_seconds = keep_seconds
        self.clock = clock
        self._versions: dict[str, Snapshot] = {}
        self._retired: dict[str, float] = {}  # version: when it stopped being in force
        self._wanted: set[str] = set()
        self._failed: dict[str, float] = {}  # version: when it could not be loaded
        self._due: dict[str, float] = {}  # version: when this process takes it
        self.spread = 0.0
        self._current: Snapshot | None = None
        self.publication: Publication | None = None
        self.loaded_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- what webhooks read (no I/O) ------------------------------------------------------------
    @property
    def current(self) -> Snapshot:
        if self._current is None:
            raise NothingToServe("the library has not started")
        return self._current

    def get(self, version: str) -> Snapshot | None:
        """A version this process has; else None, and the version is loaded in the background."""
        found = self._versions.get(version)
        if found is None and version:
            with self._lock:
                self._wanted.add(version)
        return found

    def recording(self, published_name: str) -> tuple[Recording, bytes] | None:
        """A recording of any version this process serves, by its content-addressed name."""
        for snapshot in [self.current, *self._versions.values()]:
            found = snapshot.recording(published_name)
            if found is not None:
                return found
        return None

    # --- start-up -------------------------------------------------------------------------------
    def boot(self, working: Callable[[], Source] | None = None) -> Snapshot:
        """Load what is in force (and recent versions); see the module's docstring."""
        try:
            version = self.store.current()
        except redis.RedisError as exc:
            return self._boot_from_cache(exc)
        if version is None:
            return self._boot_empty_store(working)
        history = self.store.history()
        window = in_force_since(history, self.clock() - self.keep_seconds)
        errors: list[Exception] = []
        for candidate in dict.fromkeys([version, *(p.version for p in reversed(history))]):
            try:
                snapshot = self._load(candidate)
            except (LoadError, StoreError) as exc:
                errors.append(exc)
                log.error("version %s cannot be served (%s); trying the one before", candidate,
                          str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                continue
            self._install(snapshot, self.store.publication(snapshot.version))
            break
        else:
            if isinstance(errors[0], LoadError):
                raise errors[0]
            raise NothingToServe(str(errors[0]))
        for older in window[1:MAX_VERSIONS]:
            self._load_quietly(older)
        return self.current

    def _boot_from_cache(self, exc: Exception) -> Snapshot:
        version = self.cache.current() if self.cache else None
        files = self.cache.files(version) if self.cache and version else None
        if files is None:
            raise NothingToServe(
                f"Redis is unreachable ({type(exc).__name__}) and this host has no published "
                "version of its own to serve; start Redis (REDIS_URL) and try again") from exc
        log.warning("Redis is unreachable (%s): serving version %s from this host's copy until "
                    "it is back", type(exc).__name__, version)
        snapshot = build(MemorySource(files), self.options)
        self._install(snapshot, None)
        return snapshot

    def _boot_empty_store(self, working: Callable[[], Source] | None) -> Snapshot:
        version = self.cache.current() if self.cache else None
        files = self.cache.files(version) if self.cache and version else None
        if files is not None:
            snapshot = build(MemorySource(files), self.options)
            self.store.publish(files, "router", "restored from a router host's copy",
                               f"version {snapshot.version} again", kind="restore",
                               trees=parse_trees(files))
            log.warning("the store held no published version: restored version %s, the last "
                        "this host served", snapshot.version)
        elif working is not None:
            snapshot = build(working(), self.options)  # LoadError: refuse to start
            self.store.publish(snapshot.files, "router start-up", "the first version",
                               describe(None, snapshot.files, parsed),
                               trees=parse_trees(snapshot.files))
            note_checked(self.store, snapshot.files)
            log.info("the store held no published version: published the working folders as "
                     "version %s", snapshot.version)
        else:
            raise NothingToServe("nothing is published yet: run `ivr publish`")
        current = self.store.current() or snapshot.version  # another process may have won
        self._install(self._load(current), self.store.publication(current))
        return self.current

    # --- loading --------------------------------------------------------------------------------
    def _load(self, version: str) -> Snapshot:
        found = self._versions.get(version)
        if found is not None:
            return found
        known = {}
        for snapshot in self._versions.values():  # files shared with versions held here
            known.update({digest(data): data for data in snapshot.files.values()})
        files = self.cache.files(version) if self.cache else None
        if files is None:
            files = self.store.files(version, known)
        files = {path: known.get(digest(data), data) for path, data in files.items()}
        with quietly():
            self._remember_trees(files)
            snapshot = build(MemorySource(files), self.options)
            forget_parsed()
        if self.cache:
            self.cache.save(version, files)
        with self._lock:
            self._versions = {**self._versions, version: snapshot}
        return snapshot

    def _remember_trees(self, files: dict[str, bytes]) -> None:
        """Take from the store what the publisher found in these very bytes: each file's parse,
        and the schemas' verdict (only under the same schemas as this code's)."""
        yaml_files = {digest(data): (path, data) for path, data in files.items()
                      if path.endswith(".yaml")}
        try:
            stored = self.store.trees(sorted(yaml_files))
            passed = self.store.schema_passed(fingerprint(), sorted(yaml_files))
        except redis.RedisError:
            return  # the files are parsed and checked here instead
        for sha, text in stored.items():
            tree = decode(text)
            if tree is not None:
                remember(*yaml_files[sha], tree)
        for sha in passed:
            remember_schema_passed(*yaml_files[sha])

    def _load_quietly(self, version: str) -> Snapshot | None:
        """Load a version, or log why not (once a minute at most for the same version)."""
        failed = self._failed.get(version)
        if failed is not None and time.monotonic() - failed < RETRY_SECONDS:
            return None
        try:
            return self._load(version)
        except (LoadError, StoreError, redis.RedisError) as exc:
            self._failed[version] = time.monotonic()
            log.error("could not load version %s (%s); version %s stays in force", version,
                      str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                      self._current.version if self._current else "none")
            return None

    def _install(self, snapshot: Snapshot, publication: Publication | None) -> None:
        with self._lock:
            previous = self._current
            self._versions = {**self._versions, snapshot.version: snapshot}
            if previous is not None and previous.version != snapshot.version:
                self._retired[previous.version] = self.clock()
            self._retired.pop(snapshot.version, None)
            self._current = snapshot
        self.publication = publication
        self.loaded_at = time.time()
        if self.cache:
            self.cache.save(snapshot.version, snapshot.files)
            self.cache.set_current(snapshot.version)
        if previous is None or previous.version != snapshot.version:
            log.info("version %s in force", snapshot.version)

    # --- in the background --------------------------------------------------------------------
    def refresh(self) -> bool:
        """One look at the store: put a new version in force, load versions webhooks asked
        for, forget versions no call can be using. True when a new version came into force."""
        version = self.store.current()
        changed = False
        if version is None:
            current = self.current
            self.store.publish(current.files, "router", "restored from a running router",
                               f"version {current.version} again", kind="restore")
            log.warning("the store lost its published versions: restored version %s",
                        current.version)
        elif version != self.current.version and self._due_now(version):
            snapshot = self._load_quietly(version)
            if snapshot is not None:
                self._install(snapshot, self.store.publication(version))
                changed = True
        with self._lock:
            wanted_now, self._wanted = self._wanted, set()
        for wanted in wanted_now:
            if wanted not in self._versions:
                self._load_quietly(wanted)
        self._forget_old()
        self._prepare_days()
        return changed

    def _due_now(self, version: str) -> bool:
        """Whether to take a new version now: the processes of a host take it at moments spread
        over a few seconds, so that they do not all load it at once next to their calls."""
        if not self.spread:
            return True
        jitter = random.uniform(0, self.spread)  # noqa: S311 (timing, not secrecy)
        due = self._due.setdefault(version, time.monotonic() + jitter)
        return time.monotonic() >= due

    def _forget_old(self) -> None:
        horizon = self.clock() - self.keep_seconds
        old = [v for v, at in self._retired.items() if at < horizon]
        newest = sorted(self._retired, key=self._retired.__getitem__, reverse=True)
        old += [v for v in newest[MAX_VERSIONS - 1:] if v not in old]
        if old:
            with self._lock:
                self._versions = {v: s for v, s in self._versions.items() if v not in old}
                for version in old:
                    del self._retired[version]

    def _prepare_days(self) -> None:
        routing = self.current.routing
        today = dt.datetime.fromtimestamp(self.clock(), routing.roster.timezone).date()
        routing.duty.prepare(today - dt.timedelta(days=1), PREPARE_DAYS + 1)

    def start(self, every: float = LOOK_EVERY_SECONDS, spread: float = SPREAD_SECONDS) -> None:
        """Keep the versions current in a background thread (one per web process)."""
        if self._thread is not None:
            return
        self.spread = spread
        self._thread = threading.Thread(target=self._watch, args=(every,), name="ivr-library",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _watch(self, every: float) -> None:
        pubsub = None
        while not self._stop.is_set():
            try:
                if pubsub is None:
                    pubsub = self.store.client.pubsub(  # type: ignore[no-untyped-call, unused-ignore]
                        ignore_subscribe_messages=True)
                    pubsub.subscribe(self.store.keys.published)
                self.refresh()
                pubsub.get_message(timeout=every)  # a publication wakes us at once
            except redis.RedisError as exc:
                log.debug("the library waits for Redis (%s)", type(exc).__name__)
                _close(pubsub)
                pubsub = None
                self._stop.wait(every)
            except Exception:  # never let the thread die: the process would stop learning
                log.exception("the library could not look for a new version; trying again")
                _close(pubsub)
                pubsub = None
                self._stop.wait(every)
        _close(pubsub)


def _close(pubsub: redis.client.PubSub | None) -> None:
    if pubsub is not None:
        with contextlib.suppress(redis.RedisError):
            pubsub.close()
