"""The flow engine: typed call flows run one event at a time.

Pure Python: no Flask, Twilio or Redis imports, so it can be tested and simulated in isolation.
Flows are read and checked by `ivr.library`; the engine only runs them.
"""

from ivr.engine.flow import Flow
from ivr.engine.runner import begin, replay, resume

__all__ = ["Flow", "begin", "replay", "resume"]
