"""Call state lives in Redis, not in a web process: any instance can take any webhook."""

from __future__ import annotations

from typing import Any

import redis
from flask import Flask

from ivr.settings import Settings
from ivr.sim.simulator import SimulatedCall, answer, press
from tests.conftest import EMERGENCY, OPERATOR, Phone, check_twiml, make_app


class Alternating:
    """Sends each webhook of a call to the next of several app instances, like a load balancer."""

    def __init__(self, apps: list[Flask]) -> None:
        self.clients = [a.test_client() for a in apps]
        self.turn = 0

    def post(self, path: str, *, data: dict[str, str], headers: dict[str, str]) -> Any:
        client = self.clients[self.turn % len(self.clients)]
        self.turn += 1
        return client.post(path, data=data, headers=headers)


def test_two_web_instances_behave_exactly_like_one(app: Flask, settings: Settings,
                                                   phone: Phone) -> None:
    one = phone.call(["2", "7", "9"], ["busy"], sid="CA" + "a" * 32)
    two_apps = Alternating([make_app(settings), make_app(settings)])
    sim = SimulatedCall(two_apps, settings.twilio_auth_token, phone.catalogue,
                        call_sid="CA" + "b" * 32)
    two = sim.run(press(["2", "7", "9"]), answer(["busy"]))
    for body in two.responses:
        check_twiml(body)
    assert two_apps.turn > 4
    assert two.prompts == one.prompts
    assert two.dialled == one.dialled == [(EMERGENCY, "busy"), (OPERATOR, "completed")]


def test_each_webhook_keeps_the_call_log_alive_for_hours(settings: Settings, phone: Phone) -> None:
    sim = phone.start()
    sim.post("/voice")
    assert settings.redis_url
    client = redis.Redis.from_url(settings.redis_url)
    keys = client.keys(settings.redis_prefix + "call:*")
    ttls = [client.ttl(k) for k in keys]
    assert ttls
    assert all(0 < t <= settings.call_ttl_seconds for t in ttls)
