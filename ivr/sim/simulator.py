"""A simulated Twilio and caller: signed webhooks in, TwiML followed as Twilio would.

Used by `ivr call`, `ivr test` and the tests, so all exercise the real webhooks, the real call
log in Redis and the real flow, with no Twilio account and no phone. It signs each request with
twilio's own RequestValidator, plays `<Play>`/`<Say>` by writing down what the caller hears,
answers `<Gather>` with the caller's next key (or silence), and answers `<Dial>` with the
outcome the operator's phone gives. With `mark`, every request carries the simulation mark
(`ivr.calls.simulation`), so the router keeps no record of the call and moves nothing that
real calls share; the tests leave it off, to be exactly Twilio.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from twilio.request_validator import RequestValidator

from ivr.calls import simulation
from ivr.i18n import _
from ivr.library.catalogue import Catalogue

MAX_REQUESTS = 2000  # a call waiting half an hour in line asks about every five seconds
# How long things take on a simulated call, in seconds of the simulation's clock.
PROMPT_SECONDS = 3.0  # a prompt whose recording's length is not known
RING_SECONDS = 5.0  # until a phone that answers is picked up
WHISPER_SECONDS = 6.0  # the operator hears who is calling and presses 1
SHORT_SECONDS = {"busy": 2.0, "failed": 1.0, "canceled": 5.0}  # how soon a dial gives up
TALK_SECONDS = 30.0  # a conversation, unless the caller says otherwise
WAIT_PATH = "/voice/wait"
HOLD_TONE = "hold_tone"
ANSWERED = ("completed", "answered")  # the phone answers (and its person presses 1 if asked)
DECLINED = "declined"  # the phone answers, but nobody presses 1 (a voicemail, a busy person);
# a line without a whisper (a regional centre, the national line) is put through all the same
NOT_BRIDGED = "not-bridged"  # the phone answered, but the router did not put the caller through
HANG_UP = "hang up"  # a "key" that hangs up instead: the caller leaves in the middle of a menu
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
Keys = Callable[[], str | None]
Answers = Callable[[str], str]
WhileWaiting = Callable[[float], str | None]  # seconds in line -> a key, HANG_UP, or nothing


@dataclass(frozen=True)
class Heard:
    prompt: str | None
    language: str | None
    text: str
    via: str  # "play" or "say"


@dataclass
class Transcript:
    heard: list[Heard] = field(default_factory=list)
    dialled: list[tuple[str, str]] = field(default_factory=list)  # (number, outcome)
    dial_actions: list[str] = field(default_factory=list)  # each dial's action URL, or ""
    whispers: list[tuple[str, list[Heard]]] = field(default_factory=list)  # (number, heard)
    responses: list[str] = field(default_factory=list)
    status_codes: list[int] = field(default_factory=list)
    ended: str = ""
    seconds: float = 0.0  # how long the call lasted on the simulation's clock
    waited: float | None = None  # seconds on hold in a waiting line, if the caller waited

    @property
    def prompts(self) -> list[tuple[str | None, str | None]]:
        return [(h.prompt, h.language) for h in self.heard]

    @property
    def numbers(self) -> list[str]:
        return [number for number, _ in self.dialled]

    @property
    def connected_to(self) -> str | None:
        done = [n for n, outcome in self.dialled if outcome in ANSWERED]
        return done[-1].split(",")[0] if done else None


def press(keys: Iterable[str | None]) -> Keys:
    """Keys pressed one per menu; None or "" is silence, and silence follows the last key."""
    it: Iterator[str | None] = iter(keys)
    return lambda: next(it, None)


def answer(outcomes: Iterable[str]) -> Answers:
    """Dial outcomes, one per connection attempt; attempts after the last are answered."""
    it = iter(outcomes)
    return lambda number: next(it, "completed")


class Client(Protocol):
    """What the simulator needs of an HTTP client: Flask's test client has exactly this."""

    def post(self, path: str, *, data: dict[str, str], headers: dict[str, str]) -> Any: ...

    def get(self, path: str, *, headers: dict[str, str]) -> Any: ...


@dataclass(frozen=True)
class HttpResponse:
    """An answer over HTTP, with what the simulator reads of Flask's test responses."""

    status_code: int
    body: bytes

    def get_data(self, as_text: bool = False) -> str | bytes:
        return self.body.decode() if as_text else self.body


@dataclass(frozen=True)
class HttpClient:
    """The same calls over real HTTP, to a router that is already running."""

    base_url: str
    timeout: float = 15.0  # Twilio's own limit for a webhook

    def post(self, path: str, *, data: dict[str, str], headers: dict[str, str]) -> HttpResponse:
        return self._send(path, urlencode(data).encode(), headers, "POST")

    def get(self, path: str, *, headers: dict[str, str]) -> HttpResponse:
        return self._send(path, None, headers, "GET")

    def _send(self, path: str, data: bytes | None, headers: dict[str, str],
              method: str) -> HttpResponse:
        url = self.base_url.rstrip("/") + path
        if not url.startswith(("http://", "https://")):
            raise ValueError(_("not an http(s) URL: {url}").format(url=url))
        request = Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return HttpResponse(response.status, response.read())
        except HTTPError as exc:
            return HttpResponse(exc.code, exc.read())


class SimulatedCall:
    def __init__(self, client: Client, auth_token: str, catalogue: Catalogue | None,
                 public_url: str | None = None, call_sid: str = "CA" + "0" * 32,
                 caller: str = "+77011234567", to: str = "+77172000150",
                 echo: Callable[[str], None] | None = None, mark: bool = False,
                 method: str = "POST", tokens: bool = True,
                 again: Callable[[], bool] | None = None,
                 durations: Mapping[str, float] | None = None, talk: float = TALK_SECONDS,
                 while_waiting: WhileWaiting | None = None, ring: float = RING_SECONDS,
                 whisper: float = WHISPER_SECONDS) -> None:
        self.client = client
        self.ring, self.whisper = ring, whisper  # seconds to pick up, and to hear and press 1
        self.durations = durations or {}  # prompt id: seconds its recording lasts
        self.talk = talk  # seconds a conversation lasts once someone answers
        self.while_waiting = while_waiting or (lambda seconds: None)
        self._hold_started: float | None = None
        self.method = method  # how the number's Voice URL and Status Callback are set
        self.tokens = tokens  # send an idempotency token with each request, as Twilio does
        self.again = again or (lambda: False)  # deliver this request a second time?
        self.echo = echo or (lambda line: None)
        self.auth_token = auth_token
        self.mark = mark
        self.validator = RequestValidator(auth_token)
        self.catalogue = catalogue
        self.base = (public_url or "http://localhost").rstrip("/")
        self.params = {"CallSid": call_sid, "AccountSid": "AC" + "1" * 32, "From": caller,
                       "To": to, "Direction": "inbound", "CallStatus": "in-progress"}
        self.transcript = Transcript()

    def post(self, url: str, extra: dict[str, str] | None = None,
             own: bool = False, method: str = "POST") -> ET.Element:
        """Send a signed webhook to `url` (absolute or a path) and parse the TwiML it returns;
        a GET carries the parameters in its query string, which the signature then covers.

        `own`: `extra` is the whole parameter set (an operator's leg), not additions to the call's.
        """
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        params = dict(extra or {}) if own else {**self.params, **(extra or {})}
        params.setdefault("AccountSid", self.params["AccountSid"])
        if self.mark:
            params[simulation.PARAMETER] = simulation.mark(self.auth_token,
                                                           params.get("CallSid", ""))
        headers = {IDEMPOTENCY_HEADER: uuid.uuid4().hex} if self.tokens else {}
        if method == "GET":
            path += ("&" if parts.query else "?") + urlencode(params)
            headers["X-Twilio-Signature"] = self.validator.compute_signature(self.base + path, {})
        else:
            headers["X-Twilio-Signature"] = self.validator.compute_signature(self.base + path,
                                                                             params)
        response = self._send(method, path, params, headers)
        if self.again():  # Twilio retried the very same request, and follows the retry's answer
            response = self._send(method, path, params, headers)
        body = response.get_data(as_text=True)
        self.transcript.status_codes.append(response.status_code)
        self.transcript.responses.append(body)
        if response.status_code != 200:
            raise AssertionError(_("{path} answered {status}: Twilio would hang up").format(
                path=path, status=response.status_code))
        return ET.fromstring(body)

    def _send(self, method: str, path: str, params: dict[str, str],
              headers: dict[str, str]) -> Any:
        if method == "GET":
            return self.client.get(path, headers=headers)
        return self.client.post(path, data=params, headers=headers)

    def heard_from(self, verb: ET.Element) -> Heard:
        text = (verb.text or "").strip()
        catalogue = self.catalogue
        if verb.tag == "Play":
            path = urlsplit(text).path.removeprefix("/audio/")
            folder, _slash, name = path.partition("/")
            recording = catalogue.by_published_name(path) if catalogue else None
            found = catalogue.find_recording(recording.relpath) if catalogue and recording else None
            # a version this simulator has not read: the name still tells the prompt
            played = found[0] if found else name.rsplit(".", 2)[0]
            spoken = catalogue.text(played, folder) if catalogue and found else text
            return Heard(played, folder or None, spoken, "play")
        language = (verb.get("language") or "")[:2] or None
        said = next((p.id for p in catalogue.prompts.values()
                     if language and p.texts.get(language) == text), None) if catalogue else None
        return Heard(said, language, text, "say")

    def hear(self, verb: ET.Element) -> Heard:
        heard = self.heard_from(verb)
        self.transcript.heard.append(heard)
        voice = "  " + _("(Twilio voice)") if heard.via == "say" else ""
        self.echo(_("caller hears [{language}] {text}").format(
            language=heard.language or "?", text=heard.text) + voice)
        return heard

    def operator_leg(self, number: ET.Element, accept: bool) -> bool:
        """The operator's phone answers: Twilio runs the whisper on their leg. True if bridged."""
        operator = (number.text or "").strip()
        leg = {"CallSid": "CA" + format(len(self.transcript.whispers) + 1, "032x"),
               "ParentCallSid": self.params["CallSid"], "Direction": "outbound-dial",
               "To": operator, "CallStatus": "in-progress"}
        heard: list[Heard] = []
        self.transcript.whispers.append((operator, heard))
        document = self.post(number.get("url", ""), leg, own=True)
        for verb in document:
            if verb.tag == "Gather":
                heard.extend(self.heard_from(inner) for inner in verb)
                said = " ".join(h.text for h in heard)
                self.echo("  " + _("operator {number} hears [{language}] {text}").format(
                    number=operator, language=heard[0].language if heard else "?", text=said))
                if accept:
                    self.echo("  " + _("operator {number} presses 1").format(number=operator))
                    answer_doc = self.post(verb.get("action", ""), {**leg, "Digits": "1"}, own=True)
                    return not any(v.tag == "Hangup" for v in answer_doc)
                self.echo("  " + _("operator {number} presses nothing").format(number=operator))
            elif verb.tag == "Hangup":
                return False
        return True

    def run(self, keys: Keys | None = None, answers: Answers | None = None,
            status: bool = True, advance: Callable[[float], None] | None = None) -> Transcript:
        """Place the call and follow it to its end; then send the final status callback.
        With `advance`, the router's clock moves on by the time each step takes."""
        for seconds in self.steps(keys, answers, status):
            if advance is not None:
                advance(seconds)
        return self.transcript

    def steps(self, keys: Keys | None = None, answers: Answers | None = None,
              status: bool = True) -> Iterator[float]:
        """The call, one webhook at a time: each is sent when the generator is resumed, and
        it yields how many seconds pass (prompts played, phones ringing, a conversation)
        before the next one. Several calls interleave on one clock this way."""
        keys = keys or press([])
        answers = answers or answer([])
        document = self.post("/voice", method=self.method)
        for _request in range(MAX_REQUESTS):
            next_url, seconds = self.follow(document, keys, answers)
            self.transcript.seconds += seconds
            yield seconds
            if next_url is None:
                break
            document = self.post(*next_url)
        else:
            raise AssertionError(_("the call did not end after {count} webhooks").format(
                count=MAX_REQUESTS))
        self._end_hold()
        if status:
            self.post("/voice/status", {"CallStatus": "completed",
                                        "CallDuration": str(round(self.transcript.seconds))},
                      method=self.method)

    def _played(self, heard: Heard) -> float:
        return self.durations.get(heard.prompt or "", PROMPT_SECONDS)

    def _start_hold(self, at: float) -> None:
        if self._hold_started is None:
            self._hold_started = at
            if self.transcript.waited is None:
                self.transcript.waited = 0.0
            self.echo(_("caller waits on hold"))

    def _end_hold(self) -> None:
        if self._hold_started is not None and self.transcript.waited is not None:
            held = self.transcript.seconds - self._hold_started
            self.transcript.waited += held
            self.echo(_("... after {seconds} s on hold").format(seconds=f"{held:.0f}"))
        self._hold_started = None

    def follow(self, document: ET.Element, keys: Keys,
               answers: Answers) -> tuple[tuple[str, dict[str, str]] | None, float]:
        """Play one TwiML document: the next webhook Twilio would make, if any, and the
        seconds that pass before it."""
        seconds = 0.0
        redirect = next((v for v in document if v.tag == "Redirect"), None)
        holding = redirect is not None and \
            urlsplit((redirect.text or "").strip()).path == WAIT_PATH
        if holding:
            self._start_hold(self.transcript.seconds)
        for verb in document:
            if verb.tag in ("Play", "Say"):
                seconds += self._played(self.hear(verb))
            elif verb.tag == "Gather":
                for inner in verb:
                    heard = self.heard_from(inner)
                    if holding and heard.prompt == HOLD_TONE:
                        self.transcript.heard.append(heard)  # not echoed, round after round
                    else:
                        self.hear(inner)
                    seconds += self._played(heard)
                if holding and self._hold_started is not None:
                    key = self.while_waiting(
                        self.transcript.seconds + seconds - self._hold_started)
                else:
                    key = keys()
                if key == HANG_UP:
                    self._end_hold()
                    self.transcript.ended = "caller hung up"
                    self.echo(_("caller hangs up"))
                    return None, seconds
                if key:
                    self._end_hold()
                    self.echo(_("caller presses {key}").format(key=key))
                    return (verb.get("action", ""), {"Digits": key}), seconds
                if not holding:
                    self.echo(_("caller presses nothing"))
                seconds += float(verb.get("timeout", "5"))
            elif verb.tag == "Redirect":
                return ((verb.text or "").strip(), {}), seconds
            elif verb.tag == "Dial":
                self._end_hold()
                after, seconds_ = self._dial(verb, answers)
                return after, seconds + seconds_
            elif verb.tag == "Hangup":
                self.transcript.ended = "hangup"
                self.echo(_("router hangs up"))
                return None, seconds
            elif verb.tag == "Pause":
                seconds += float(verb.get("length", "1"))
            else:
                raise AssertionError(f"unexpected TwiML verb <{verb.tag}>")
        self.transcript.ended = "end of document"
        self.echo(_("call ends"))
        return None, seconds

    def _dial(self, verb: ET.Element, answers: Answers
              ) -> tuple[tuple[str, dict[str, str]] | None, float]:
        numbers = [n for n in verb if n.tag == "Number"]
        dialled = ",".join((n.text or "").strip() for n in numbers)
        outcome = answers(dialled)
        self.echo(_("router dials {numbers}: {outcome}").format(numbers=dialled, outcome=outcome))
        status, bridged = outcome, outcome in ANSWERED
        seconds = SHORT_SECONDS.get(outcome, float(verb.get("timeout", "30")))
        talked = 0.0
        if outcome in (*ANSWERED, DECLINED) and numbers:
            status = "completed"
            seconds = self.ring
            if numbers[0].get("url"):
                bridged = self.operator_leg(numbers[0], accept=outcome != DECLINED)
                seconds += self.whisper
            else:  # a line without a whisper is put through when it answers
                outcome, bridged = "completed", True
            talked = self.talk if bridged else 0.0
        self.transcript.dialled.append(
            (dialled, NOT_BRIDGED if outcome in ANSWERED and not bridged else outcome))
        self.transcript.dial_actions.append(verb.get("action", ""))
        if not verb.get("action"):
            return None, seconds + talked
        result = {"DialCallStatus": status, "DialBridged": "true" if bridged else "false"}
        if talked:
            result["DialCallDuration"] = str(round(talked))
        return (verb.get("action", ""), result), seconds + talked
