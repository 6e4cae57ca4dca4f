"""The voice webhooks (`/voice` and `/voice/...`), answered straight from WSGI.

Flask is the router's framework, and every other endpoint (health, recordings, tags, Twilio's
debugger webhook, metrics) is a Flask view. The voice webhooks are the hot path: every step of
every call. For them, Flask's per-request machinery (its contexts, URL matching, hooks, signals
and response processing) cost as much as a good part of the call's own work, and they need
none of it. So `Lean` sits in front of the Flask app (`app.wsgi_app`, which the test client
goes through too) and answers those paths itself, the way the Flask routes did:

- the request is werkzeug's `Request` (the class Flask's derives from) with the router's body
  limits, so parameters, signatures and malformed bodies are read exactly as before;
- a method no voice route takes is a 405 before anything else; every other request is checked
  for Twilio's signature first (403), then given to the view its path names, or to the view of
  unknown voice paths; HEAD is answered as GET without a body, OPTIONS with the methods allowed;
- a view that raises is answered by its route's error view: the safe path on the caller's
  webhooks, a hang-up on an operator's leg;
- each answer's latency is observed in `ivr_webhook_seconds`, by route.

The views and their routes are registered in `ivr.web.voice`; this module only dispatches.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from ivr.web.context import ANSWERING, Voice
from ivr.web.metrics import WEBHOOK_SECONDS

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PREFIX = "/voice"
MAX_BODY_BYTES = 16 * 1024 * 1024  # read (and so verify) any body up to this; beyond, 403
MAX_FORM_PARTS = 100_000
METHODS = frozenset({"GET", "POST"})  # a number's URLs may be set to either
ALLOWED = "GET, HEAD, OPTIONS, POST"
URLENCODED = "application/x-www-form-urlencoded"


class Webhook(Request):
    """A voice webhook's request, with the router's limits on what it will read."""

    max_content_length = MAX_BODY_BYTES
    max_form_memory_size = MAX_BODY_BYTES
    max_form_parts = MAX_FORM_PARTS

    def _load_form_data(self) -> None:
        """A URL-encoded form of known length, as Twilio sends, is read the way werkzeug's
        parser reads it (the same decoding, the same parse, nothing on a body that is not
        UTF-8) without the parser's setup; any other body goes to werkzeug's parser."""
        if "form" in self.__dict__:
            return
        length = self.content_length
        if self.mimetype != URLENCODED or length is None or length > MAX_BODY_BYTES \
                or self.shallow:
            super()._load_form_data()
            return
        body = self.environ["wsgi.input"].read(length)
        try:
            items = parse_qsl(body.decode(), keep_blank_values=True, errors="werkzeug.url_quote")
        except ValueError:  # not UTF-8: werkzeug's parser gives an empty form too
            items = []
        found = self.__dict__
        found["stream"] = io.BytesIO()
        found["form"] = self.parameter_storage_class(items)
        found["files"] = self.parameter_storage_class()


@dataclass(frozen=True)
class Route:
    view: Callable[[], Response]
    on_error: Callable[[Exception], Response]  # the answer when the view raises


@dataclass(frozen=True)
class Routes:
    by_path: Mapping[str, Route]
    unknown: Callable[[str], Response]  # a voice path no route has (the rest of the path)
    unknown_label: str  # its endpoint in the metrics
    on_unknown_error: Callable[[Exception], Response]
    check: Callable[[], Response | None]  # the signature check: None, or the refusal


class Lean:
    """WSGI middleware: voice paths answered here, everything else by `app`."""

    def __init__(self, app: WSGIApplication, ctx: Voice, routes: Routes) -> None:
        self.app = app
        self.ctx = ctx
        self.routes = routes
        self.timers = {label: WEBHOOK_SECONDS.labels(label)
                       for label in (*routes.by_path, routes.unknown_label)}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            return self.app(environ, start_response)
        began = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in METHODS and method not in ("HEAD", "OPTIONS"):
            return _plain(405, "Method Not Allowed\n", environ, start_response,
                          [("Allow", ALLOWED)])
        request = Webhook(environ)
        route = self.routes.by_path.get(request.path)
        token = ANSWERING.set((request, self.ctx))
        try:
            response = self._answer(request, method, route)
        finally:
            ANSWERING.reset(token)
        self.timers[request.path if route else self.routes.unknown_label].observe(
            time.perf_counter() - began)
        # The answer as werkzeug would send it, without its general header processing (not
        # needed for the plain 200 and 403 answers of these views).
        body = response.get_data()
        start_response(response.status, list(response.headers.items()))
        return [] if method == "HEAD" else [body]

    def _answer(self, request: Request, method: str, route: Route | None) -> Response:
        try:
            refused = self.routes.check()
            if refused is not None:
                return refused
            if method == "OPTIONS":
                return Response("", status=200, headers={"Allow": ALLOWED})
            if route is None:
                return self.routes.unknown(request.path[len(PREFIX) + 1:])
            return route.view()
        except Exception as exc:
            return (route.on_error if route else self.routes.on_unknown_error)(exc)


def _plain(status: int, text: str, environ: WSGIEnvironment, start_response: StartResponse,
           headers: list[tuple[str, str]]) -> Iterable[bytes]:
    return Response(text, status=status, mimetype="text/plain", headers=headers)(
        environ, start_response)
