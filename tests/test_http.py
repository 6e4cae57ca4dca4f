"""The router over real HTTP, as the Procfile runs it under gunicorn.

Whatever arrives (any method, any body up to several MB, any bytes, signed or not) nothing
gets a 5xx; no query string with a caller's data reaches the access log; and forwarded
headers are trusted from nobody.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from ivr.sim.simulator import HttpClient, SimulatedCall, answer, press
from tests.conftest import CALLER
from tests.servers import PUBLIC_URL, SHIPPED, TOKEN, Host, hosts

__all__ = ["hosts"]  # the fixture

VOICE_PATHS = ["/voice", "/voice/gather?t=3", "/voice/dial?legs=op:olga&t=5", "/voice/status",
               "/voice/fallback", "/voice/fallback/dial?leg=1", "/voice/some/other/path",
               "/voice/operator/whisper?c=" + "b" * 32 + "&leg=op:olga",
               "/voice/operator/answer?c=" + "b" * 32 + "&leg=op:olga"]
OTHER_PATHS = ["/api/tags", "/healthz", "/audio/kk/greeting.wav", "/audio/kk/.env",
               "/audio/../flows/roster.yaml", "/", "/voice%00", "/%ff"]
FIELDS = ["CallSid", "From", "To", "Digits", "DialCallStatus", "DialBridged", "CallStatus",
          "CallDuration", "AccountSid"]
values = st.one_of(st.text(max_size=30), st.sampled_from(
    ["CA" + "2" * 32, CALLER, "150", "1", "completed", "no-answer", "²", "9" * 4300, ""]))
SIZES = [0, 0, 0, 0, 10, 70 * 1024, 600 * 1024, 4 * 1024 * 1024]


def send(host: Host, method: str, path: str, body: bytes | None,
         headers: dict[str, str]) -> tuple[int, bytes]:
    """One request on its own connection. The body goes out from a thread while the answer is
    read, so an answer given before the body was read (a refusal) is still seen."""
    sock = socket.create_connection(("127.0.0.1", host.port), timeout=30)
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{host.port}", "Connection: close",
            *(f"{k}: {v}" for k, v in headers.items())]
    if body is not None:
        head.append(f"Content-Length: {len(body)}")
    payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b"")

    def write() -> None:
        with contextlib.suppress(OSError):  # the server may stop reading once it has answered
            sock.sendall(payload)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        reply = http.client.HTTPResponse(sock, method=method)
        reply.begin()
        return reply.status, reply.read()
    finally:
        sock.close()
        writer.join()


def signature(url: str, params: dict[str, str]) -> str:
    return str(RequestValidator(TOKEN).compute_signature(url, params))


@settings(max_examples=70, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_nothing_over_http_gets_a_5xx(hosts: Callable[..., Host], data: st.DataObject) -> None:
    host = getattr(test_nothing_over_http_gets_a_5xx, "host", None)
    if host is None or not host.alive():
        host = hosts("fuzz", workers=2)
        test_nothing_over_http_gets_a_5xx.host = host  # type: ignore[attr-defined]
    method = data.draw(st.sampled_from(["POST", "POST", "GET", "HEAD", "PUT", "OPTIONS"]))
    path = data.draw(st.sampled_from(VOICE_PATHS + OTHER_PATHS))
    params = data.draw(st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))
    size = data.draw(st.sampled_from(SIZES))
    if size:
        params["Junk"] = "x" * size
    shape = data.draw(st.sampled_from(["form", "form", "bytes", "json"]))
    signed = data.draw(st.booleans())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    body: bytes | None = None
    url = path
    if method == "GET" and params:  # Twilio sends its parameters in the query string
        url += ("&" if "?" in path else "?") + urlencode(params)
        sign_over: dict[str, str] = {}
    elif method == "GET":
        sign_over = {}
    elif shape == "form":
        body = urlencode(params).encode()
        sign_over = params
    elif shape == "bytes":
        body = data.draw(st.binary(max_size=3000)) * max(1, size // 3000)
        sign_over = {}
    else:
        body = json.dumps(params).encode()
        headers["Content-Type"] = "application/json"
        sign_over = {}
    if signed:
        headers["X-Twilio-Signature"] = signature(PUBLIC_URL + url, sign_over)
    status, reply = send(host, method, url, body, headers)
    assert status < 500, (method, url, size, shape, status, reply[:300])
    route = path.split("?")[0]
    voice = (route == "/voice" or route.startswith("/voice/")) and method in ("GET", "POST")
    if voice and signed and shape == "form" and len(url) < 4000:
        assert status == 200, (method, url, size, status, reply[:300])
        ET.fromstring(reply)  # TwiML: what Twilio would play, never an error
    elif voice and signed and status == 200:  # a body that is no form: the URL alone is signed
        ET.fromstring(reply)
    elif voice and len(url) < 4000:
        assert status == 403, (method, url, status)


def test_a_number_set_to_get_leaves_no_caller_data_in_the_access_log(
        hosts: Callable[..., Host]) -> None:
    host = hosts("get")
    sids = []
    for keys in (["2", "1"], ["1", "9"], []):
        sid = "CA" + "3" * 30 + str(len(sids)).zfill(2)
        sids.append(sid)
        call = SimulatedCall(HttpClient(host.url), TOKEN, SHIPPED.catalogue, PUBLIC_URL,
                             call_sid=sid, caller=CALLER, to="150", method="GET")
        assert call.run(press(keys), answer([])).connected_to is not None
    host.stop()  # flush every line
    log = host.log.read_text()
    assert "\"GET /voice\" 200" in log  # the requests were logged, by path ...
    for needle in [*sids, CALLER, CALLER[1:], "%2B7701", "CallSid", "?"]:
        assert needle not in log, needle  # ... and never with their query strings


def test_behind_a_proxy_without_the_public_url_the_router_refuses_and_says_why(
        hosts: Callable[..., Host]) -> None:
    host = hosts("proxied", IVR_PUBLIC_URL="")
    params = {"CallSid": "CA" + "6" * 32, "From": CALLER, "To": "150"}
    body = urlencode(params).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    direct = f"http://127.0.0.1:{host.port}/voice"
    assert send(host, "POST", "/voice", body, {**form, "X-Twilio-Signature": signature(
        direct, params)})[0] == 200  # no proxy: the URL the router sees is the one signed
    attempts: list[dict[str, Any]] = [
        # a TLS proxy in front: Twilio signed https://, the router sees http://
        {"X-Forwarded-Proto": "https", "X-Twilio-Signature": signature(
            f"https://127.0.0.1:{host.port}/voice", params)},
        # a request Twilio signed for another host, sent here with forwarded headers
        {"X-Forwarded-Host": "other.example", "X-Forwarded-Proto": "https",
         "X-Twilio-Signature": signature("https://other.example/voice", params)},
        # even a signature that would match is not taken through an unknown proxy
        {"X-Forwarded-For": "203.0.113.9", "X-Twilio-Signature": signature(direct, params)},
    ]
    for headers in attempts:
        status, reply = send(host, "POST", "/voice", body, {**form, **headers})
        assert status == 403
        assert b"IVR_PUBLIC_URL" in reply
    host.stop()
    assert "IVR_PUBLIC_URL is not set" in host.log.read_text()


def test_with_the_public_url_forwarded_headers_change_nothing(
        hosts: Callable[..., Host]) -> None:
    host = hosts("behind-lb")
    params = {"CallSid": "CA" + "8" * 32, "From": CALLER, "To": "150"}
    body = urlencode(params).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    good = {**form, "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7",
            "X-Twilio-Signature": signature(PUBLIC_URL + "/voice", params)}
    assert send(host, "POST", "/voice", body, good)[0] == 200
    elsewhere = {**form, "X-Forwarded-Host": "other.example",
                 "X-Twilio-Signature": signature("https://other.example/voice", params)}
    assert send(host, "POST", "/voice", body, elsewhere)[0] == 403
