"""Twilio request signatures, checked in one place for every webhook.

Twilio signs the full URL it requested plus, for a POST, the sorted form parameters (a GET's
parameters are in the URL it signs). Behind an HTTPS proxy Flask sees `http://internal-host/…`,
which would never match, so when a public base URL is configured the URL is rebuilt from it and
the request's path and query. Forwarded headers are never trusted for this (gunicorn is told not
to either): without IVR_PUBLIC_URL the URL is the one this process was asked for, and a request
that came through a proxy is refused with a message naming the setting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Request

HEADER = "X-Twilio-Signature"
FORWARDED = ("X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-For", "Forwarded")
_FORWARDED_KEYS = tuple("HTTP_" + name.upper().replace("-", "_") for name in FORWARDED)


class SignatureCheck:
    def __init__(self, auth_token: str, public_base_url: str | None) -> None:
        self.validator = RequestValidator(auth_token)
        self.key = auth_token.encode()
        self.public_base_url = public_base_url

    def signature(self, url: str, params: Mapping[str, str]) -> str:
        """Twilio's signature of a URL and (single-valued) parameters, as its
        `RequestValidator.compute_signature` computes it, without its generality."""
        signed = url + "".join(name + params[name] for name in sorted(params))
        return base64.b64encode(hmac.new(self.key, signed.encode(), hashlib.sha1).digest()).decode()

    def url_of(self, request: Request) -> str:
        """The URL as Twilio requested it: the raw query string, never a decoded one."""
        # Built from the request's raw parts: werkzeug's root_url decodes to an IRI, slowly.
        base = self.public_base_url or f"{request.scheme}://{request.host}{request.script_root}"
        query = request.query_string.decode("latin-1")
        return f"{base}{request.path}" + (f"?{query}" if query else "")

    def is_valid(self, request: Request, params: Mapping[str, str]) -> bool:
        """Whether Twilio signed this request; `params` are the form's for a POST."""
        signature = request.headers.get(HEADER, "")
        if not signature:
            return False
        signed = dict(params.items()) if request.method == "POST" else {}
        url = self.url_of(request)
        # One HMAC for the URL as built; Twilio's full check (which also tries the URL with and
        # without a port) only when that does not match.
        if hmac.compare_digest(self.signature(url, signed), signature):
            return True
        return bool(self.validator.validate(url, signed, signature))

    def behind_unknown_proxy(self, request: Request) -> bool:
        """A request that came through a proxy while no public URL is configured."""
        environ = request.environ  # the headers as the server gave them: no parsing needed
        return not self.public_base_url and any(key in environ for key in _FORWARDED_KEYS)
