"""What an operator hears before accepting a call, assembled from recorded pieces.

Kazakh has no Twilio voice, so the whisper is built from prompts: the line, "language:" and
the caller's language, "region:" and the region's name, a flag if the caller is silent or
speaks a language the operator does not, and "press 1 to accept". It is spoken in the caller's
language when the operator speaks it, else in the operator's first language. The library
checks, for every version, that each prompt the whisper may use exists in every language it
may be spoken in (`prompts_needed`).
"""

from __future__ import annotations

from collections.abc import Iterable

from ivr.engine.model import CallState, Speech
from ivr.routing.roster import Operator

DEFAULT_LANGUAGE = "ru"
FIXED = ("whisper_call", "whisper_language", "whisper_region", "whisper_silent",
         "whisper_other_language", "whisper_accept", "region_unknown", "language_unknown")


def whisper_language(state: CallState, operator: Operator | None) -> str:
    if operator is None:
        return state.language or DEFAULT_LANGUAGE
    if state.language in operator.languages:
        return state.language
    return operator.languages[0]


def whisper(state: CallState, operator: Operator | None) -> list[Speech]:
    prompts = [
        "whisper_call",
        "whisper_language", f"language_{state.language or 'unknown'}",
        "whisper_region", region_prompt(state.region) if state.region else "region_unknown",
    ]
    if state.silent:
        prompts.append("whisper_silent")
    if operator is not None and state.language and state.language not in operator.languages:
        prompts += ["whisper_other_language", f"speaks_{state.language}"]
    prompts.append("whisper_accept")
    language = whisper_language(state, operator)
    return [Speech(prompt, language) for prompt in prompts]


def region_prompt(region: str) -> str:
    """The prompt that names a region (its texts live in regions.yaml)."""
    return f"region.{region}"


def prompts_needed(caller_languages: Iterable[str], regions: Iterable[str]) -> list[str]:
    """Every prompt a whisper may play, for callers of these languages and these regions."""
    languages = sorted(set(caller_languages))
    return [*FIXED, *(f"language_{lang}" for lang in languages),
            *(f"speaks_{lang}" for lang in languages), *(region_prompt(r) for r in regions)]
