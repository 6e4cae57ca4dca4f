"""The RQ worker that stores call records: RQ's in-process worker, with two changes.

It says whether it stopped because it was asked to (a stop signal) or because Redis went away
in the middle of a job (`ivr worker` then starts it again). And it stops its pub/sub thread
with a bounded wait: RQ stops that thread and redis-py 8 then waits for it, while the thread
sits in a read that lasts up to a minute once its subscription has ended, so every stop (a
deployment, a burst run in a test) would take that minute.
"""

from __future__ import annotations

from typing import Any

from rq import SimpleWorker

STOP_WAIT_SECONDS = 1.0


class RecordWorker(SimpleWorker):
    asked_to_stop = False

    def request_stop(self, signum: int, frame: Any) -> None:
        self.asked_to_stop = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def unsubscribe(self) -> None:
        thread = self.pubsub_thread
        if thread:
            self.pubsub.unsubscribe()
            thread.stop(timeout=STOP_WAIT_SECONDS)  # the thread, a daemon, ends on its own
            self.pubsub.close()
