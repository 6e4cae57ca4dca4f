"""The only module that builds TwiML.

`render` turns the engine's Reply into TwiML; `SafePath` builds the static answers used when
anything goes wrong (the Fallback URL, an exception, Redis unreachable). The safe path needs no
Redis and no flow engine: it greets in Kazakh then Russian, dials the configured lines one after
another, and if nobody answers tells the caller where to call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial as DialVerb
from twilio.twiml.voice_response import Gather as GatherVerb
from twilio.twiml.voice_response import VoiceResponse

from ivr.engine.model import Dial, Gather, Hangup, Reply, Speech
from ivr.prompts import SAY_VOICES, Catalogue

GATHER_PATH = "/voice/gather"
DIAL_PATH = "/voice/dial"
SAFE_DIAL_PATH = "/voice/fallback/dial"
SAFE_LANGUAGES = ("kk", "ru")
SAFE_RING_SECONDS = 25
CONNECTED = frozenset({"completed", "answered", "canceled"})  # the call needs nothing more


@dataclass(frozen=True)
class Renderer:
    catalogue: Catalogue
    base_url: str = ""  # the public base URL, or "" for URLs relative to the webhook's own
    caller_id: str | None = None

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def speak(self, verb: VoiceResponse | GatherVerb, speech: Speech) -> None:
        recording = self.catalogue.recording(speech.prompt, speech.language)
        if recording is not None:
            verb.play(self.url(f"/audio/{recording.relpath}?v={recording.version}"))
            return
        voice, language = SAY_VOICES[speech.language]  # load checks guarantee a voice exists
        verb.say(self.catalogue.text(speech.prompt, speech.language), voice=voice,
                 language=language)

    def dial(self, response: VoiceResponse, number: str, action: str, timeout: int) -> None:
        dial = DialVerb(action=self.url(action), method="POST", timeout=timeout,
                        caller_id=self.caller_id)
        dial.number(number)
        response.append(dial)

    def render(self, reply: Reply) -> str:
        response = VoiceResponse()
        then = reply.then
        if isinstance(then, Gather):
            gather = GatherVerb(input="dtmf", num_digits=1, timeout=then.timeout,
                                finish_on_key="", action=self.url(GATHER_PATH), method="POST")
            for speech in reply.speech:
                self.speak(gather, speech)
            response.append(gather)
            # No key before the timeout: Twilio moves on to the next verb, which reports silence.
            response.redirect(self.url(GATHER_PATH), method="POST")
            return str(response)
        for speech in reply.speech:
            self.speak(response, speech)
        if isinstance(then, Dial):
            self.dial(response, then.number, DIAL_PATH, then.timeout)
        elif isinstance(then, Hangup):
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
        self._say_all(response, "fallback")
        self._dial_or_give_up(response, 0)
        return str(response)

    def after_dial(self, status: str, leg: int) -> str:
        """The next step of the safe path once leg `leg` of it has ended with `status`."""
        response = VoiceResponse()
        if status in CONNECTED:
            response.hangup()
            return str(response)
        if leg + 1 < len(self.numbers):
            self._say_all(response, "hold")
        self._dial_or_give_up(response, leg + 1)
        return str(response)

    def _dial_or_give_up(self, response: VoiceResponse, leg: int) -> None:
        if 0 <= leg < len(self.numbers):
            action = f"{SAFE_DIAL_PATH}?leg={leg}"
            self.renderer.dial(response, self.numbers[leg], action, SAFE_RING_SECONDS)
            return
        self._say_all(response, "all_busy")
        response.hangup()
