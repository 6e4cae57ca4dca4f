"""This host's own copy of the versions it served, for a process that starts while Redis is away.

A router process normally loads the version in force from the shared store. If Redis cannot be
reached when a process starts (a worker restarted during an outage), it serves the last version
this host put in force, from here, rather than failing to start. These are published, checked
versions, never the working folders; each file is checked against its content hash on reading.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ivr.library.snapshot import digest, version_of


class LocalCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, version: str, files: Mapping[str, bytes]) -> None:
        """Keep a version's files; best effort (a full or read-only disk only loses the copy)."""
        try:
            for data in files.values():
                blob = self.folder / "blobs" / digest(data)
                if not blob.exists():
                    _write(blob, data)
            manifest = {path: digest(data) for path, data in files.items()}
            _write(self.folder / "versions" / f"{version}.json", json.dumps(manifest).encode())
        except OSError:
            return

    def set_current(self, version: str) -> None:
        try:
            _write(self.folder / "current", version.encode())
        except OSError:
            return

    def current(self) -> str | None:
        try:
            return (self.folder / "current").read_text().strip() or None
        except OSError:
            return None

    def files(self, version: str) -> dict[str, bytes] | None:
        """The files of a version kept here, or None if they are not all here and intact."""
        try:
            manifest = json.loads((self.folder / "versions" / f"{version}.json").read_bytes())
            files = {path: (self.folder / "blobs" / sha).read_bytes()
                     for path, sha in manifest.items()}
        except (OSError, ValueError, AttributeError):
            return None
        if any(digest(files[path]) != sha for path, sha in manifest.items()):
            return None
        return files if version_of(files) == version else None


def _write(path: Path, data: bytes) -> None:
    """Write atomically: readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise
