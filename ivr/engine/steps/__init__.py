"""Step types, registered by the YAML keyword that names them (see `base.STEP_TYPES`)."""

from ivr.engine.steps.base import (
    DTMF_KEYS,
    STEP_TYPES,
    Exit,
    ParseContext,
    StaleEvent,
    Step,
    register,
)
from ivr.engine.steps.basic import Goto, Hangup, Language, Say
from ivr.engine.steps.menu import Menu, Retry
from ivr.engine.steps.region_menu import RegionMenu
from ivr.engine.steps.route import Emergency, Route

__all__ = ["DTMF_KEYS", "STEP_TYPES", "Emergency", "Exit", "Goto", "Hangup", "Language", "Menu",
           "ParseContext", "RegionMenu", "Retry", "Route", "Say", "StaleEvent", "Step", "register"]
