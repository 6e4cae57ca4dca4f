"""The prompt catalogue: what the caller hears, by prompt id and language.

Each prompt has a text per language (the script supervisors review) and, where a file exists in
`audio/<lang>/<id>.wav` (or `.mp3`), a recording. A recording is always preferred. Without one the
text is spoken by a Twilio voice, which exists for Russian but not for Kazakh: a Kazakh prompt
without a recording is refused, because the mistake would otherwise be heard only on a live
call. Recordings are checked by `ivr.library.recordings` (a format telephones play, made from
the text the catalogue has now).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ivr.i18n import _
from ivr.languages import LANGUAGE_NAMES, SAY_VOICES
from ivr.source import Node, Problem

AUDIO_SUFFIXES = (".wav", ".mp3")
PROMPT_ID = re.compile(r"^[a-z0-9][a-z0-9_]{0,40}(\.[A-Za-z0-9][A-Za-z0-9_-]{0,31})?$")


@dataclass(frozen=True)
class Recording:
    """A prompt's file, `kk/greeting.wav` under the audio folder; `version` hashes its content."""

    relpath: str
    version: str
    digest: str = ""  # the whole SHA-256 of the content, its name in the published store

    @property
    def published_name(self) -> str:
        """The file's name as Twilio fetches it, with its content hash: `kk/greeting.3f2a….wav`.

        A re-recorded prompt gets a new name, so no cache anywhere can play the old one, while
        supervisors keep replacing `audio/kk/greeting.wav` under its plain name.
        """
        stem, dot, suffix = self.relpath.rpartition(".")
        return f"{stem}.{self.version}{dot}{suffix}"


@dataclass(frozen=True)
class Prompt:
    id: str
    line: int
    texts: Mapping[str, str]
    recordings: Mapping[str, Recording]
    text_lines: Mapping[str, int] | None = None  # where each language's text is written


@dataclass(frozen=True)
class Catalogue:
    file: str
    prompts: Mapping[str, Prompt]
    version: str

    def text(self, prompt_id: str, language: str) -> str:
        return self.prompts[prompt_id].texts[language]

    def recording(self, prompt_id: str, language: str) -> Recording | None:
        return self.prompts[prompt_id].recordings.get(language)

    def find_recording(self, relpath: str) -> tuple[str, str] | None:
        """Map an audio path such as `kk/greeting.wav` back to (prompt id, language)."""
        for prompt in self.prompts.values():
            for language, rec in prompt.recordings.items():
                if rec.relpath == relpath:
                    return prompt.id, language
        return None

    def by_published_name(self, name: str) -> Recording | None:
        """The recording Twilio asks for as `kk/greeting.3f2a….wav`, if this version has it."""
        language, _, file = name.partition("/")
        prompt = self.prompts.get(file.rsplit(".", 2)[0])  # region.astana.3f2a….wav: 3 parts
        recording = prompt.recordings.get(language) if prompt else None
        return recording if recording is not None and recording.published_name == name else None


@dataclass(frozen=True)
class ExtraPrompt:
    """A prompt whose texts live in another file (region names live in regions.yaml)."""

    file: str
    line: int
    texts: Mapping[str, str]


def is_sound(text: str) -> bool:
    """A text in square brackets describes a sound (a hold tone), not words to speak."""
    text = text.strip()
    return text.startswith("[") and text.endswith("]")


# (language, prompt id) -> the recording the working files have for it, if any
FindRecording = Callable[[str, str], Recording | None]


def read_catalogue(data: Node, name: str, seed: str, extra: Mapping[str, ExtraPrompt],
                   find: FindRecording, require_recordings: bool = True,
                   ) -> tuple[Catalogue, list[Problem]]:
    """The catalogue in `data` (the parsed `prompts.yaml`) with each prompt's recordings, and
    every problem found. `seed` (a hash of the file) starts the catalogue's version."""
    problems: list[Problem] = []
    raw = data.get("prompts")
    if not isinstance(raw, Node):
        problems.append(Problem(name, data.line, "", _("expected a 'prompts:' mapping of prompt ids")))
        raw = Node()
    for key in data:
        if key != "prompts":
            problems.append(Problem(name, data.line_of(key), "", _("unknown key '{key}'").format(key=key)))
    prompts: dict[str, Prompt] = {}
    digest = hashlib.sha256(seed.encode())
    entries: list[tuple[str, str, int, object, Node | None]] = [
        (name, prompt_id, raw.line_of(prompt_id), texts, texts if isinstance(texts, Node) else None)
        for prompt_id, texts in raw.items()
    ]
    entries += [(e.file, prompt_id, e.line, dict(e.texts), None) for prompt_id, e in extra.items()]
    for file, prompt_id, line, texts, node in entries:
        if node is not None and not PROMPT_ID.match(prompt_id):
            problems.append(Problem(file, line, "", _(
                "'{prompt_id}' cannot be a prompt id: use small Latin letters, digits and '_'"
            ).format(prompt_id=prompt_id)))
            continue
        if not isinstance(texts, dict) or not texts:
            problems.append(
                Problem(file, line, prompt_id, _("give the text in each language, e.g. 'ru: ...'"))
            )
            continue
        clean: dict[str, str] = {}
        lines: dict[str, int] = {}
        recordings: dict[str, Recording] = {}
        for language, text in texts.items():
            where = node.line_of(language) if node is not None else line
            if language not in LANGUAGE_NAMES:
                known = ", ".join(LANGUAGE_NAMES)
                problems.append(Problem(file, where, prompt_id, _(
                    "unknown language '{language}' (known: {known})").format(
                        language=language, known=known)))
                continue
            if not isinstance(text, str) or not text.strip():
                problems.append(Problem(file, where, prompt_id, _(
                    "the {language_name} text is empty").format(
                        language_name=_(LANGUAGE_NAMES[language]))))
                continue
            clean[language], lines[language] = text.strip(), where
            rec = find(language, prompt_id)
            if rec is not None:
                recordings[language] = rec
                digest.update(rec.version.encode())
            elif is_sound(text) and require_recordings:
                problems.append(Problem(file, where, prompt_id, _(
                    "no recording audio/{language}/{prompt_id}.wav: a text in square brackets "
                    "is a sound, which no voice can read (`ivr audio build` makes a hold "
                    "tone)").format(language=language, prompt_id=prompt_id)))
            elif language not in SAY_VOICES and require_recordings:
                problems.append(Problem(file, where, prompt_id, _(
                    "no recording audio/{language}/{prompt_id}.wav, and no Twilio voice "
                    "speaks {language_name}: record the prompt (see the README's audio "
                    "section)").format(language=language, prompt_id=prompt_id,
                                       language_name=_(LANGUAGE_NAMES[language]))))
        prompts[prompt_id] = Prompt(prompt_id, line, clean, recordings, lines)
    return Catalogue(file=name, prompts=prompts, version=digest.hexdigest()[:12]), problems
