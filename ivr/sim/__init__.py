"""Simulated calls: a simulated Twilio and caller, scenarios, and a Redis of their own.

`ivr call` and `ivr test` run here on an embedded Redis started for them, whatever REDIS_URL
says, so a simulation never touches a live router's calls, records or statistics.
"""
