"""Calls in progress, in Redis: each call's event log, pseudonyms, and every key name.

The key of everything about a call is a keyed pseudonym of its CallSid; the caller's number is
never written here. `keys` names every Redis key the router writes.
"""
