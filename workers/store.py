"""Where call records are kept: a SQLite file by default, self-hosted with the service.

One row per call, keyed by the call's pseudonym: a replayed job finds the row already there and
changes nothing, so a record is never counted twice.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS call_records (
    call_key TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    duration_seconds INTEGER,
    flow TEXT NOT NULL,
    flow_version TEXT NOT NULL,
    language TEXT,
    region TEXT,
    region_source TEXT NOT NULL,
    menu_path TEXT NOT NULL,
    silent INTEGER NOT NULL,
    emergency INTEGER NOT NULL,
    destination TEXT,
    operator TEXT,
    answer_seconds INTEGER,
    outcome TEXT NOT NULL
)
"""
COLUMNS = ("call_key", "started_at", "duration_seconds", "flow", "flow_version", "language",
           "region", "region_source", "menu_path", "silent", "emergency", "destination",
           "operator", "answer_seconds", "outcome")


class StoreError(Exception):
    pass


class RecordStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=10)
        self.db.execute(SCHEMA)

    @classmethod
    def from_url(cls, url: str) -> RecordStore:
        prefix = "sqlite:///"
        if not url.startswith(prefix):
            raise StoreError(f"DATABASE_URL must be a sqlite:/// URL for now, not '{url.split(':')[0]}'")
        return cls(Path(url[len(prefix):]))

    def insert(self, record: dict[str, Any]) -> bool:
        row = dict(record)
        row["menu_path"] = json.dumps(list(row["menu_path"]))
        with self.db:
            cursor = self.db.execute(
                f"INSERT OR IGNORE INTO call_records ({', '.join(COLUMNS)}) "  # noqa: S608
                f"VALUES ({', '.join('?' for _ in COLUMNS)})",
                [row[c] for c in COLUMNS],
            )
        return cursor.rowcount == 1

    def all(self) -> list[dict[str, Any]]:
        self.db.row_factory = sqlite3.Row
        rows = [dict(r) for r in self.db.execute("SELECT * FROM call_records ORDER BY started_at")]
        for row in rows:
            row["menu_path"] = json.loads(row["menu_path"])
        return rows

    def close(self) -> None:
        self.db.close()
