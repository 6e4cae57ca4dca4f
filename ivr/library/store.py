"""Published versions, in the Redis every router host already shares.

Why Redis and not the records database: every web process already needs Redis for the calls in
progress and reaches it on every webhook, so the published versions are wherever the calls are,
and a publication can be announced to every process at once (pub/sub). The records database is
reached only by workers (and by default is a SQLite file on one host). Run Redis with AOF
persistence, as the README says for the calls: the published versions survive a restart; and
each host keeps the versions it served on its own disk (`ivr.library.cache`) in case Redis is
away when a process starts.

Layout (key names in `ivr.calls.keys`): each file's content once, under its SHA-256; each
version as a hash of its files' paths to content hashes; the version in force; the history of
publications; the last refused publication. Old versions are pruned beyond `KEEP_VERSIONS`
(their history stays, their files go), never one that calls may still be using.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, cast

import redis

from ivr.calls.counts import count
from ivr.calls.keys import Keys
from ivr.library.snapshot import digest, version_of
from ivr.source import Problem

log = logging.getLogger("ivr.library")
KEEP_VERSIONS = 50
SCHEMA_MARK_SECONDS = 90 * 24 * 3600  # marks are small; a version published since renews them
KINDS = ("publish", "rollback", "restore")


class StoreError(Exception):
    """The store cannot give what was asked (a version whose files are gone, a damaged file)."""


@dataclass(frozen=True)
class Publication:
    """One entry of the history: a version put in force, when, by whom, why, and what changed."""

    version: str
    at: float
    by: str
    message: str
    summary: str
    kind: str = "publish"  # publish, rollback (an earlier version again) or restore
    previous: str | None = None

    def encode(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: bytes | str) -> Publication:
        data: dict[str, Any] = json.loads(raw)
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class Refusal:
    """The last publication that was refused, with its problems, for `ivr status`."""

    at: float
    by: str
    problems: tuple[Problem, ...]

    def encode(self) -> str:
        return json.dumps({"at": self.at, "by": self.by,
                           "problems": [p.as_dict() for p in self.problems]}, ensure_ascii=False)

    @classmethod
    def decode(cls, raw: bytes | str) -> Refusal:
        data = json.loads(raw)
        problems = tuple(Problem(p["file"], p["line"], p["step"] or "", p["message"],
                                 p["column"] or 0) for p in data["problems"])
        return cls(data["at"], data["by"], problems)


class SnapshotStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    # --- reading ----------------------------------------------------------------------------
    def current(self) -> str | None:
        value = self.client.get(self.keys.current)
        return _text(value) if value else None

    def history(self, limit: int = 0) -> list[Publication]:
        """Publications, oldest first (the last `limit` of them when given)."""
        raw = self.client.lrange(self.keys.history, -limit if limit else 0, -1)
        return [Publication.decode(item) for item in raw]

    def publication(self, version: str) -> Publication | None:
        """The latest publication that put `version` in force."""
        return next((p for p in reversed(self.history()) if p.version == version), None)

    def manifest(self, version: str) -> dict[str, str] | None:
        raw = self.client.hgetall(self.keys.version(version))
        return {_text(k): _text(v) for k, v in raw.items()} or None

    def files(self, version: str, known: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
        """The files of a version, fetched by content hash (those in `known` are not fetched);
        each checked against its hash, and the whole against the version."""
        manifest = self.manifest(version)
        if manifest is None:
            raise StoreError(f"version {version} is not kept in the store")
        known = known or {}
        wanted = sorted({sha for sha in manifest.values() if sha not in known})
        fetched = dict(zip(wanted, self.client.mget([self.keys.blob(s) for s in wanted]) if wanted
                           else [], strict=True))
        files: dict[str, bytes] = {}
        for path, sha in manifest.items():
            data = known.get(sha, fetched.get(sha))
            if data is None or digest(_bytes(data)) != sha:
                raise StoreError(f"version {version}: the file {path} is missing or damaged")
            files[path] = _bytes(data)
        if version_of(files) != version:
            raise StoreError(f"version {version}: its files do not make that version")
        return files

    def last_refusal(self) -> Refusal | None:
        raw = self.client.get(self.keys.refused)
        return Refusal.decode(raw) if raw else None

    # --- writing ----------------------------------------------------------------------------
    def trees(self, digests: list[str]) -> dict[str, bytes]:
        """The parsed YAML files kept for these content hashes (`ivr.library.trees`)."""
        found = self.client.mget([self.keys.tree(d) for d in digests]) if digests else []
        return {d: _bytes(t) for d, t in zip(digests, found, strict=True) if t is not None}

    def schema_passed(self, schemas: str, digests: list[str]) -> set[str]:
        """Which of these files their schemas (in version `schemas`) found nothing wrong with."""
        found = self.client.mget([self.keys.schema_ok(schemas, d) for d in digests]) \
            if digests else []
        return {d for d, mark in zip(digests, found, strict=True) if mark is not None}

    def note_schema_passed(self, schemas: str, digests: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for sha in digests:
            pipe.set(self.keys.schema_ok(schemas, sha), 1, ex=SCHEMA_MARK_SECONDS)
        pipe.execute()

    def put(self, files: Mapping[str, bytes], trees: Mapping[str, str] | None = None) -> str:
        """Keep a version's files, and the parsed form of its YAML files by content hash
        (content already kept is not written again)."""
        version = version_of(files)
        manifest = {path: digest(data) for path, data in files.items()}
        pipe = self.client.pipeline(transaction=False)
        for path, data in files.items():
            pipe.set(self.keys.blob(manifest[path]), data, nx=True)
        for sha, tree in (trees or {}).items():
            pipe.set(self.keys.tree(sha), tree, nx=True)
        pipe.execute()
        # The manifest is replaced in one transaction: two processes keeping the same version at
        # once (two routers starting on an empty store) must never see it missing in between.
        with self.client.pipeline(transaction=True) as manifest_pipe:
            manifest_pipe.delete(self.keys.version(version))
            manifest_pipe.hset(self.keys.version(version),
                               mapping=cast("Mapping[Any, Any]", manifest))
            manifest_pipe.execute()
        return version

    def publish(self, files: Mapping[str, bytes], by: str, message: str, summary: str,
                kind: str = "publish", expected: str | None = None,
                trees: Mapping[str, str] | None = None) -> Publication | None:
        """Put the version of `files` in force and announce it; None when it already is.

        With `expected`, refuse (StoreError) if another version was put in force meanwhile,
        so that a summary of changes is never written against the wrong version."""
        version = self.put(files, trees)
        with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(self.keys.current)  # type: ignore[no-untyped-call]
                    raw = pipe.get(self.keys.current)
                    previous = _text(raw) if raw else None
                    if previous == version:
                        pipe.unwatch()
                        return None
                    if expected is not None and previous != expected:
                        pipe.unwatch()
                        raise StoreError("another version was published meanwhile; try again")
                    entry = Publication(version, time.time(), by, message, summary, kind, previous)
                    pipe.multi()
                    pipe.set(self.keys.current, version)
                    pipe.rpush(self.keys.history, entry.encode())
                    pipe.publish(self.keys.published, version)
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        self.client.delete(self.keys.refused)
        log.info("version %s published (%s) by %s: %s", version, kind, by, message or "-")
        return entry

    def refuse(self, by: str, problems: list[Problem]) -> None:
        self.client.set(self.keys.refused, Refusal(time.time(), by, tuple(problems)).encode())
        count(self.client, self.keys, "refused")
        log.info("publication refused (%s): %d problem(s); `ivr status` lists them", by,
                 len(problems))

    def prune(self, keep: int = KEEP_VERSIONS, also_keep: frozenset[str] = frozenset()) -> int:
        """Forget the files of versions beyond the newest `keep` (never the one in force, nor
        `also_keep`); return how many versions were forgotten."""
        history = self.history()
        kept: list[str] = []
        for entry in reversed(history):
            if entry.version not in kept:
                kept.append(entry.version)
        current = self.current()
        keep_set = {*kept[:keep], *also_keep, *([current] if current else [])}
        dropped = [v for v in kept[keep:] if v not in keep_set]
        if not dropped:
            return 0
        live: set[str] = set()
        for version in keep_set:
            live.update((self.manifest(version) or {}).values())
        doomed: set[str] = set()
        for version in dropped:
            doomed.update((self.manifest(version) or {}).values())
        pipe = self.client.pipeline(transaction=False)
        for version in dropped:
            pipe.delete(self.keys.version(version))
        for sha in doomed - live:
            pipe.delete(self.keys.blob(sha), self.keys.tree(sha))
        pipe.execute()
        return len(dropped)


def in_force_since(history: list[Publication], since: float) -> list[str]:
    """Every version that was in force at some moment after `since`, newest first: calls that
    started on any of them may still be going on."""
    versions: list[str] = []
    for entry in reversed(history):
        if entry.version not in versions:
            versions.append(entry.version)
        if entry.at < since:
            break
    return versions


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
