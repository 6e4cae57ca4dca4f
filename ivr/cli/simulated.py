"""A router of its own for `ivr call` and `ivr test`: an embedded Redis, the snapshot to try
published into it, and the real app on top, at a clock the simulation sets.

Whatever REDIS_URL says, nothing here touches it: no record is queued, and the live router's
rotation, busy marks and caller-key secrets stay as they are. The local copy of versions and
the spool live in a temporary folder, removed afterwards.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ivr.calls.keys import Keys
from ivr.calls.log import CallLog
from ivr.calls.pseudonyms import call_key
from ivr.engine.model import Event
from ivr.i18n import current_language
from ivr.library.snapshot import Snapshot
from ivr.library.store import SnapshotStore
from ivr.redis_url import connect
from ivr.settings import Settings
from ivr.sim.embedded_redis import EmbeddedRedis
from ivr.sim.scenarios import SimRouter
from ivr.web.app import create_app

PREFIX = "sim:"
SIMULATED_CALLER_ID = "+77172000150"


@contextmanager
def simulated_router(settings: Settings, snapshot: Snapshot) -> Iterator[SimRouter]:
    with EmbeddedRedis() as server, tempfile.TemporaryDirectory(prefix="ivr-sim-") as folder:
        token, secret = secrets.token_hex(16), secrets.token_bytes(32)
        # messages_language: the app sets it as the language of messages; keep `--lang`'s
        own = replace(settings, redis_url=server.url, twilio_auth_token=token, hmac_secret=secret,
                      public_base_url=None, redis_prefix=PREFIX, cache_dir=Path(folder) / "cache",
                      spool_dir=Path(folder) / "spool", messages_language=current_language(),
                      caller_id=settings.caller_id or (snapshot.national_numbers or
                                                       (SIMULATED_CALLER_ID,))[0])
        client = connect(server.url)
        keys = Keys(PREFIX)
        SnapshotStore(client, keys).publish(snapshot.files, "simulation", "", "")
        now = [time.time()]
        app = create_app(own, lambda: now[0], background=False)
        calls = CallLog(client, own.call_ttl_seconds, keys)

        def set_time(seconds: float) -> None:
            now[0] = seconds

        def reset() -> None:
            client.delete(keys.rotation, keys.busy, keys.holds, keys.line, keys.line_info,
                          keys.line_seen, keys.talk, keys.active)

        def occupy(operators: list[str], seconds: float) -> None:
            """Put these operators on calls of nobody's for `seconds` from now."""
            if operators:
                client.zadd(keys.busy, {op: now[0] + seconds for op in operators})

        def log_of(sid: str) -> tuple[str, list[Event]]:
            key = call_key(secret, sid)
            return key, calls.read(key)

        yield SimRouter(app.test_client(), token, set_time, reset, log_of, occupy,
                        lambda: now[0])
        client.close()
