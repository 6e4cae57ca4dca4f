"""Nothing links a record or a copy of Redis to a caller's number.

Each test takes one thing an attacker might hold (a dump of Redis, the database, the TwiML
Twilio logs next to the number, the public endpoints) and shows what it does not give them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from ivr.calls.pseudonyms import CallerKeys
from ivr.cli.processes import development_env
from ivr.library.files import FolderSource
from ivr.library.pipeline import Options
from ivr.library.publish import publish
from ivr.settings import ConfigError, Settings
from ivr.source import LoadError
from ivr.web.app import create_app
from tests.conftest import HOTLINE_ID, Clock, Phone, make_app, redis_values

BLOCK = "+7701123"  # a block of 10,000 mobile numbers: +7701123 0000 to 9999
CALLERS = [f"{BLOCK}{n:04d}" for n in (4567, 17, 9999, 3141, 4567)]  # one calls twice


@pytest.fixture
def records_settings(settings: Settings) -> Settings:
    return settings  # the records on SQLite: what they hold is the same on PostgreSQL


@pytest.fixture
def calls(records_settings: Settings) -> tuple[Phone, list[str], list[dict[str, object]]]:
    """Calls from numbers of one block, their TwiML (whispers included) and their records."""
    phone = Phone(make_app(records_settings, Clock()), records_settings)
    twiml: list[str] = []
    for number, keys in zip(CALLERS, (["2", "1"], [], ["1", "9"], ["2", "2", "1"], ["1", "1"]),
                            strict=True):
        twiml += phone.call(keys, ["no-answer", "completed"], caller=number).responses
    return phone, twiml, phone.store_records()


def candidate_secrets(values: list[bytes]) -> set[bytes]:
    """Everything the attacker holds that could be a key (the router's secrets are 32 random
    bytes, and an attacker would try any 16 to 64 bytes): every value of that length whole,
    and every hex run within a value, as text and decoded."""
    found: set[bytes] = set()
    for value in values:
        if 16 <= len(value) <= 64:
            found.add(value)
        for part in re.findall(rb"[0-9a-fA-F]{16,128}", value):
            found.add(part)
            if len(part) % 2 == 0:
                found.add(bytes.fromhex(part.decode()))
    return found


NUMBERS = [f"{BLOCK}{n:04d}".encode() for n in range(10_000)]


def hits(secrets: set[bytes], stored_keys: set[str]) -> list[str]:
    """The numbers of the block whose key under any candidate secret is a stored key."""
    found = []
    for secret in secrets:
        keyed = hmac.new(secret, digestmod=hashlib.sha256)
        for number in NUMBERS:
            attempt = keyed.copy()
            attempt.update(number)
            if attempt.hexdigest()[:32] in stored_keys:
                found.append(number.decode())
    return found


def test_a_dump_of_redis_the_twiml_and_the_database_give_no_number(
        calls: tuple[Phone, list[str], list[dict[str, object]]],
        records_settings: Settings) -> None:
    phone, twiml, rows = calls
    client = redis.Redis.from_url(records_settings.redis_url or "")
    dump = redis_values(client, records_settings.redis_prefix + "*")
    database = [str(value).encode() for row in rows for value in row.values()]
    stored = {str(r["caller_key"]) for r in rows if r["caller_key"]}
    stored |= set(re.findall(r"[0-9a-f]{32}", b"\n".join(dump).decode("latin-1")))
    assert len({r["caller_key"] for r in rows}) == 4  # five calls, four numbers
    secrets = candidate_secrets([*dump, *(body.encode() for body in twiml), *database])
    assert len(secrets) > 50  # the attacker has plenty to try ...
    assert hits(secrets, stored) == []  # ... and no number of the block matches any key
    # The attack itself works: with the month's secret unwrapped (which needs IVR_HMAC_SECRET,
    # never in Redis), every caller is found.
    month = CallerKeys(client, phone.app.extensions["ivr.voice"].caller_keys.keys, Clock(),
                       records_settings.hmac_secret)._secret("2026-12")
    assert sorted(set(hits({month}, stored))) == sorted(set(CALLERS))


def test_deleting_a_months_secret_makes_its_keys_unlinkable(
        calls: tuple[Phone, list[str], list[dict[str, object]]],
        records_settings: Settings) -> None:
    phone, _, rows = calls
    client = redis.Redis.from_url(records_settings.redis_url or "")
    keys = phone.app.extensions["ivr.voice"].caller_keys
    assert client.delete(keys.secret_key("2026-12")) == 1
    fresh = CallerKeys(client, keys.keys, Clock(), records_settings.hmac_secret)
    assert fresh.key(CALLERS[0]) not in {r["caller_key"] for r in rows}


def test_twilio_logs_cannot_be_joined_to_the_records(
        calls: tuple[Phone, list[str], list[dict[str, object]]]) -> None:
    """Twilio logs every URL it calls next to the caller's number: none of what those URLs
    carry appears in the database."""
    _, twiml, rows = calls
    urls = [el.get(attr) or el.text or "" for body in twiml for el in ET.fromstring(body).iter()
            for attr in ("action", "url") if el.get(attr) or el.tag in ("Redirect", "Play")]
    tokens = set(re.findall(r"[0-9a-f]{12,}", " ".join(urls)))
    assert any(len(t) == 32 for t in tokens)  # whisper URLs name the call ...
    cells = {str(value) for row in rows for value in row.values()}
    assert not tokens & cells  # ... by a token the records never hold
    assert all(row["call_key"] not in " ".join(twiml) for row in rows)


def test_every_dial_shows_the_hotlines_own_number(
        calls: tuple[Phone, list[str], list[dict[str, object]]]) -> None:
    _, twiml, _ = calls
    dials = [d for body in twiml for d in ET.fromstring(body).iter("Dial")]
    assert len(dials) >= 10
    assert {d.get("callerId") for d in dials} == {HOTLINE_ID}


def test_the_router_refuses_to_start_without_a_caller_id(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="IVR_CALLER_ID is not set"):
        create_app(replace(settings, caller_id=None), background=False)
    env = development_env({}, lambda line: None)  # `ivr serve` for local use sets one
    assert env["IVR_CALLER_ID"].startswith("+7")


def test_healthz_says_only_ready_version_and_redis(settings: Settings, flows_dir: Path) -> None:
    app = make_app(settings)
    roster = flows_dir / "roster.yaml"
    roster.write_text(roster.read_text().replace('"+77010000101"', '"+7 (701) 000-01-01 ext 9"'))
    library = app.extensions["ivr.voice"].library
    with pytest.raises(LoadError):  # a refused edit, kept in the store for `ivr status`
        publish(library.store, FolderSource(flows_dir, settings.audio_dir), Options(), "dana")
    assert library.store.last_refusal() is not None
    health = app.test_client().get("/healthz")
    assert health.status_code == 200
    assert set(health.get_json()) == {"status", "version", "redis"}
    body = health.get_data(as_text=True)
    for secret in ("701", "roster.yaml", str(flows_dir), "dana"):
        assert secret not in body


@pytest.mark.parametrize("name", [
    ".manifest.yaml", "manifest.yaml", "greeting.wav", "notes.txt", ".env", "..%2Froster.yaml",
    "greeting.0000000000.wav", "../../flows/roster.yaml"])
def test_audio_serves_only_recordings_of_published_versions_by_their_names(
        app, name: str) -> None:  # type: ignore[no-untyped-def]
    assert app.test_client().get(f"/audio/kk/{name}").status_code == 404


def test_audio_serves_a_published_recording(app) -> None:  # type: ignore[no-untyped-def]
    catalogue = app.extensions["ivr.voice"].snapshot().catalogue
    recording = catalogue.recording("greeting", "kk")
    answer = app.test_client().get(f"/audio/{recording.published_name}")
    assert answer.status_code == 200
    assert answer.mimetype == "audio/wav"
