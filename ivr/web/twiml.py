"""The only module that builds TwiML, and the one place that names the router's URL paths.

`render` turns the engine's Reply into TwiML, each distinct reply built once (see `Renderer`);
`SafePath` builds the static answers used when
anything goes wrong (the Fallback URL, an exception, Redis unreachable). The safe path needs no
Redis and no flow engine: it greets in Kazakh then Russian, dials the configured lines one after
another, and if nobody answers tells the caller where to call. The views register their routes
under the paths named here, so a URL in TwiML and the route that answers it cannot drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlencode

from twilio.twiml.voice_response import Dial as DialVerb
from twilio.twiml.voice_response import Gather as GatherVerb
from twilio.twiml.voice_response import VoiceResponse

from ivr.engine.model import Dial, Gather, Hangup, Hold, Reply, Speech
from ivr.engine.safe import ALL_BUSY, FALLBACK, HOLD, SAFE_LANGUAGES
from ivr.languages import SAY_VOICES
from ivr.library.catalogue import Catalogue
from ivr.routing.legs import Leg, line_leg

VOICE_PATH = "/voice"  # the number's Voice URL
GATHER_PATH = "/voice/gather"
WAIT_PATH = "/voice/wait"  # a caller waiting in line: the hold loop asks again
DIAL_PATH = "/voice/dial"
STATUS_PATH = "/voice/status"  # the number's Status Callback
FALLBACK_PATH = "/voice/fallback"  # the number's Fallback URL
SAFE_DIAL_PATH = "/voice/fallback/dial"
WHISPER_PATH = "/voice/operator/whisper"
ANSWER_PATH = "/voice/operator/answer"
AUDIO_PATH = "/audio"
HEALTH_PATH = "/healthz"
DEBUGGER_PATH = "/twilio/debugger"  # Twilio's debugger webhook (`ivr.web.debugger`)
WHISPER_TIMEOUT = 8
SAFE_RING_SECONDS = 25
XML = "text/xml"
CONNECTED = frozenset({"completed", "answered", "canceled"})  # the call needs nothing more
# Stand-ins for what differs from one call to the next in an answer's URLs: letters that URL
# encoding and XML escaping leave as they are, and that no number, prompt or path contains.
TOKEN_MARK, TURN_MARK, ROUND_MARK, LEG_MARK = "QqTOKENqQ", "QqTURNqQ", "QqROUNDqQ", "QqLEGqQ"
MAX_TEMPLATES = 4096  # distinct answers kept per version; a flow has a few hundred


@dataclass(frozen=True)
class Renderer:
    """TwiML for one published version. Calls hear the same few hundred answers, differing only
    in their URLs' call token, turn and round: each distinct answer is built once with stand-ins
    for those, and later answers fill them in (the same text, built in a fraction of the time)."""

    catalogue: Catalogue
    base_url: str  # the public base URL, or "" for URLs relative to the webhook's own
    caller_id: str  # IVR_CALLER_ID: every <Dial> shows the hotline's number, never the caller's
    templates: dict[object, str] = field(default_factory=dict, compare=False, repr=False)

    def _template(self, key: object, build: Callable[[], str]) -> str:
        found = self.templates.get(key)
        if found is None:
            found = build()
            if len(self.templates) >= MAX_TEMPLATES:
                self.templates.clear()
            self.templates[key] = found
        return found

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def speak(self, verb: VoiceResponse | GatherVerb, speech: Speech) -> None:
        recording = self.catalogue.recording(speech.prompt, speech.language)
        if recording is not None:
            verb.play(self.url(f"{AUDIO_PATH}/{recording.published_name}"))
            return
        voice, language = SAY_VOICES[speech.language]  # load checks guarantee a voice exists
        verb.say(self.catalogue.text(speech.prompt, speech.language), voice=voice,
                 language=language)

    def dial(self, response: VoiceResponse, legs: Sequence[Leg], action: str, timeout: int,
             token: str = "") -> None:
        """Ring `legs`; an operator's leg runs the whisper first, its URL naming the call by
        `token` (never by the key of its record)."""
        dial = DialVerb(action=self.url(action), method="POST", timeout=timeout,
                        caller_id=self.caller_id)
        for leg in legs:
            if leg.whisper:
                query = urlencode({"c": token, "leg": leg.id})
                dial.number(leg.number, url=self.url(f"{WHISPER_PATH}?{query}"), method="POST")
            else:
                dial.number(leg.number)
        response.append(dial)

    def render(self, reply: Reply, token: str = "", turn: int = 0, round_: int = 0) -> str:
        """TwiML for the caller. The action URLs carry the call's `turn` (the place in its log
        of the event this answers, plus one), so each answer's URLs are its own: a repeated
        delivery of a webhook is then told apart from the same key pressed again in the next
        menu, and is answered with the very same TwiML. A hold's next poll also carries its
        `round_` (the moment of asking), which tells one poll from the next."""
        template = self._template((reply.speech, reply.then), lambda: self._render(
            reply, TOKEN_MARK, TURN_MARK, ROUND_MARK))
        return template.replace(TURN_MARK, str(turn)).replace(ROUND_MARK, str(round_)) \
            .replace(TOKEN_MARK, quote_plus(token))

    def _render(self, reply: Reply, token: str, turn: str, round_: str) -> str:
        response = VoiceResponse()
        then = reply.then
        if isinstance(then, Gather | Hold):
            action = self.url(f"{GATHER_PATH}?{urlencode({'t': turn})}")
            gather = GatherVerb(input="dtmf", num_digits=1, timeout=then.timeout,
                                finish_on_key="", action=action, method="POST")
            for speech in reply.speech:
                self.speak(gather, speech)
            response.append(gather)
            # No key before the timeout: Twilio moves on to the next verb. In a menu that
            # reports silence; on hold it asks the line again.
            if isinstance(then, Hold):
                action = self.url(f"{WAIT_PATH}?{urlencode({'t': turn, 'r': round_})}")
            response.redirect(action, method="POST")
            return str(response)
        for speech in reply.speech:
            self.speak(response, speech)
        if isinstance(then, Dial):
            legs = ",".join(leg.id for leg in then.legs)
            self.dial(response, then.legs, f"{DIAL_PATH}?{urlencode({'legs': legs, 't': turn})}",
                      then.timeout, token)
        elif isinstance(then, Hangup):
            response.hangup()
        return str(response)

    def whisper(self, speech: Sequence[Speech], token: str, leg: str) -> str:
        """The operator's leg: who is calling, then press 1 to accept; anything else hangs up."""
        template = self._template(("whisper", tuple(speech)), lambda: self._whisper(
            speech, TOKEN_MARK, LEG_MARK))
        return template.replace(TOKEN_MARK, quote_plus(token)).replace(LEG_MARK, quote_plus(leg))

    def _whisper(self, speech: Sequence[Speech], token: str, leg: str) -> str:
        response = VoiceResponse()
        query = urlencode({"c": token, "leg": leg})
        gather = GatherVerb(input="dtmf", num_digits=1, timeout=WHISPER_TIMEOUT, finish_on_key="",
                            action=self.url(f"{ANSWER_PATH}?{query}"), method="POST")
        for item in speech:
            self.speak(gather, item)
        response.append(gather)
        response.hangup()
        return str(response)


@dataclass(frozen=True)
class SafePath:
    """Static TwiML that reaches a person without Redis or the flow engine."""

    renderer: Renderer
    numbers: Sequence[str]

    def _say_all(self, response: VoiceResponse, prompt: str) -> None:
        for language in SAFE_LANGUAGES:
            self.renderer.speak(response, Speech(prompt, language))

    def answer(self) -> str:
        """The Fallback URL's answer, and every webhook's answer when something failed."""
        response = VoiceResponse()
        self._say_all(response, FALLBACK)
        self._dial_or_give_up(response, 0)
        return str(response)

    def after_dial(self, status: str, leg: int) -> str:
        """The next step of the safe path once leg `leg` of it has ended with `status`."""
        response = VoiceResponse()
        if status in CONNECTED:
            response.hangup()
            return str(response)
        if leg + 1 < len(self.numbers):
            self._say_all(response, HOLD)
        self._dial_or_give_up(response, leg + 1)
        return str(response)

    def _dial_or_give_up(self, response: VoiceResponse, leg: int) -> None:
        if 0 <= leg < len(self.numbers):
            self.renderer.dial(response, [Leg(line_leg(f"safe{leg}"), "safe", self.numbers[leg])],
                               f"{SAFE_DIAL_PATH}?leg={leg}", SAFE_RING_SECONDS)
            return
        self._say_all(response, ALL_BUSY)
        response.hangup()


@functools.cache
def nothing() -> str:
    """An answer that asks Twilio for nothing (a status callback, an accepted whisper)."""
    return str(VoiceResponse())


@functools.cache
def hang_up() -> str:
    """End this leg: an operator's leg that was declined or failed."""
    response = VoiceResponse()
    response.hangup()
    return str(response)
