"""The checks that need more than one file: what the roster, the regions, the prompts and the
flows promise each other, and what the safe path and the whisper need in every language."""

from __future__ import annotations

from collections.abc import Iterable

from ivr.engine.safe import SAFE_LANGUAGES, SAFE_PROMPTS
from ivr.engine.whisper import prompts_needed
from ivr.i18n import _
from ivr.languages import LANGUAGE_NAMES
from ivr.library.catalogue import Catalogue
from ivr.routing import Regions, Roster
from ivr.source import Problem, suggest


def operators_regions(roster: Roster, regions: Regions) -> Iterable[Problem]:
    for op in roster.operators.values():
        for region in op.regions:
            if region not in regions.regions:
                yield Problem(roster.file, op.line, "", _(
                    "operator '{id}': unknown region '{region}'{hint}").format(
                        id=op.id, region=region, hint=suggest(region, list(regions.regions))))


def languages_spoken(roster: Roster, languages: Iterable[str]) -> Iterable[Problem]:
    spoken = {lang for op in roster.operators.values() if op.active for lang in op.languages}
    for language in languages:
        if language not in spoken:
            yield Problem(roster.file, 1, "", _(
                "no active operator speaks '{language}', a language of the call flows").format(
                    language=language))


def _missing(catalogue: Catalogue, prompt: str, languages: Iterable[str]) -> list[str]:
    texts = catalogue.prompts[prompt].texts if prompt in catalogue.prompts else {}
    return [lang for lang in languages if lang not in texts]


def safe_path_prompts(catalogue: Catalogue) -> Iterable[Problem]:
    for prompt in SAFE_PROMPTS:
        missing = _missing(catalogue, prompt, SAFE_LANGUAGES)
        if missing:
            yield Problem(catalogue.file, _line_of(catalogue, prompt), prompt, _(
                "the safe path (what callers hear when anything fails) needs this prompt in "
                "{languages}; it is missing in {missing}").format(
                    languages=" and ".join(SAFE_LANGUAGES), missing=", ".join(missing)))


def whisper_prompts(catalogue: Catalogue, roster: Roster, regions: Regions,
                     languages: list[str]) -> Iterable[Problem]:
    spoken: set[str] = set()
    for op in roster.operators.values():
        if op.active and op.languages:
            spoken.add(op.languages[0])
            spoken.update(set(op.languages) & set(languages))
    whisper_languages = sorted(spoken & set(LANGUAGE_NAMES))
    for prompt in prompts_needed(languages, regions.regions):
        missing = _missing(catalogue, prompt, whisper_languages)
        if missing:
            yield Problem(catalogue.file, _line_of(catalogue, prompt), prompt, _(
                "operators hear this prompt in the whisper before they accept a call; it is "
                "missing in {missing}").format(missing=", ".join(missing)))


def _line_of(catalogue: Catalogue, prompt: str) -> int:
    return catalogue.prompts[prompt].line if prompt in catalogue.prompts else 1
