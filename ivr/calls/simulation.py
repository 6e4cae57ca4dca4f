"""The mark that a call is a simulation (`ivr call`), which no real caller can produce.

A simulated call is sent to a router like Twilio's own webhooks, signed with the account's
auth token. Each request of it also carries `IvrSimulation`: an HMAC of the request's CallSid
under that same token. Twilio never sends a parameter of that name (a SIP caller's custom
headers arrive prefixed `SipHeader_`), and without the auth token nobody can compute it, so a
caller cannot pass a real call off as a simulation. A marked call is served like any other but
leaves no trace outside its own call log: no record, no move of the rotation, no busy mark, no
caller-key secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

PARAMETER = "IvrSimulation"


def mark(auth_token: str, call_sid: str) -> str:
    return hmac.new(auth_token.encode(), b"ivr-simulation:" + call_sid.encode(),
                    hashlib.sha256).hexdigest()[:32]


def is_simulated(auth_token: str, params: Mapping[str, str]) -> bool:
    given = params.get(PARAMETER, "")
    if not given:
        return False
    return hmac.compare_digest(given, mark(auth_token, params.get("CallSid", "")))
