"""The flow engine: YAML call flows loaded into typed steps and run one event at a time.

Pure Python: no Flask, Twilio or Redis imports, so it can be tested and simulated in isolation.
"""

from ivr.engine.flow import Flow, load_flow
from ivr.engine.flowset import FlowSet, load_flowset
from ivr.engine.runner import begin, replay, resume

__all__ = ["Flow", "FlowSet", "begin", "load_flow", "load_flowset", "replay", "resume"]
