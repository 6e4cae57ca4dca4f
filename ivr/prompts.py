"""The prompt catalogue: what the caller hears, by prompt id and language.

Each prompt has a text per language (the script supervisors review) and, where a file exists in
`audio/<lang>/<id>.wav` (or `.mp3`), a recording. A recording is always preferred. Without one the
text is spoken by a Twilio voice, which exists for Russian but not for Kazakh: a Kazakh prompt
without a recording is refused at load, because the mistake would otherwise be heard only on a
live call.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.i18n import N_, _
from ivr.yamlsrc import LoadError, Node, Problem, load_yaml

# Languages a Twilio <Say> voice speaks well, with the voice and its language tag.
SAY_VOICES: Mapping[str, tuple[str, str]] = {
    "ru": ("Polly.Tatyana", "ru-RU"),
    "en": ("Polly.Joanna", "en-US"),
}
LANGUAGE_NAMES: Mapping[str, str] = {"kk": N_("Kazakh"), "ru": N_("Russian"), "en": N_("English")}
AUDIO_SUFFIXES = (".wav", ".mp3")


def language_codes(value: object) -> tuple[str, ...] | None:
    """A non-empty list of known language codes as a tuple, or None if it is not one."""
    if isinstance(value, list) and value and all(v in LANGUAGE_NAMES for v in value):
        return tuple(value)
    return None


@dataclass(frozen=True)
class Recording:
    """A prompt file under the audio directory; `version` is a hash of its content."""

    relpath: str
    version: str

    @property
    def published_name(self) -> str:
        """The file's name as Twilio fetches it, with its content hash: `kk/greeting.3f2a….wav`.

        A re-recorded prompt gets a new name, so no cache anywhere can play the old one, while
        supervisors keep replacing `audio/kk/greeting.wav` under its plain name.
        """
        stem, dot, suffix = self.relpath.rpartition(".")
        return f"{stem}.{self.version}{dot}{suffix}"


HASHED_NAME = re.compile(r"^(?P<stem>.+)\.[0-9a-f]{12}(?P<suffix>\.[a-z0-9]+)$")


def plain_name(name: str) -> str:
    """`greeting.3f2a….wav` → `greeting.wav`: the file on disk behind a published name."""
    match = HASHED_NAME.match(name)
    return f"{match['stem']}{match['suffix']}" if match else name


@dataclass(frozen=True)
class Prompt:
    id: str
    line: int
    texts: Mapping[str, str]
    recordings: Mapping[str, Recording]


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


def _find_recording(audio_dir: Path, language: str, prompt_id: str) -> Recording | None:
    for suffix in AUDIO_SUFFIXES:
        path = audio_dir / language / f"{prompt_id}{suffix}"
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            return Recording(relpath=f"{language}/{prompt_id}{suffix}", version=digest)
    return None


@dataclass(frozen=True)
class ExtraPrompt:
    """A prompt whose texts live in another file (region names live in regions.yaml)."""

    file: str
    line: int
    texts: Mapping[str, str]


def load_catalogue(
    path: Path,
    audio_dir: Path,
    label: str | None = None,
    extra: Mapping[str, ExtraPrompt] | None = None,
    require_recordings: bool = True,
) -> Catalogue:
    """Load `prompts.yaml` and find each prompt's recordings; raise LoadError listing every problem."""
    name = label or path.name
    data = load_yaml(path, name)
    problems: list[Problem] = []
    raw = data.get("prompts")
    if not isinstance(raw, Node):
        raise LoadError([Problem(name, data.line, "", _("expected a 'prompts:' mapping of prompt ids"))])
    for key in data:
        if key != "prompts":
            problems.append(Problem(name, data.line_of(key), "", _("unknown key '{key}'").format(key=key)))
    prompts: dict[str, Prompt] = {}
    digest = hashlib.sha256(path.read_bytes())
    entries: list[tuple[str, str, int, object, Node | None]] = [
        (name, prompt_id, raw.line_of(prompt_id), texts, texts if isinstance(texts, Node) else None)
        for prompt_id, texts in raw.items()
    ]
    entries += [(e.file, prompt_id, e.line, dict(e.texts), None) for prompt_id, e in (extra or {}).items()]
    for file, prompt_id, line, texts, node in entries:
        if not isinstance(texts, dict) or not texts:
            problems.append(
                Problem(file, line, prompt_id, _("give the text in each language, e.g. 'ru: ...'"))
            )
            continue
        clean: dict[str, str] = {}
        recordings: dict[str, Recording] = {}
        for language, text in texts.items():
            where = node.line_of(language) if node is not None else line
            if language not in LANGUAGE_NAMES:
                known = ", ".join(LANGUAGE_NAMES)
                problems.append(
                    Problem(
                        file,
                        where,
                        prompt_id,
                        _("unknown language '{language}' (known: {known})").format(
                            language=language, known=known
                        ),
                    )
                )
                continue
            if not isinstance(text, str) or not text.strip():
                problems.append(
                    Problem(
                        file,
                        where,
                        prompt_id,
                        _("the {language_name} text is empty").format(
                            language_name=_(LANGUAGE_NAMES[language])
                        ),
                    )
                )
                continue
            clean[language] = text.strip()
            rec = _find_recording(audio_dir, language, prompt_id)
            if rec is not None:
                recordings[language] = rec
                digest.update(rec.version.encode())
            elif language not in SAY_VOICES and require_recordings:
                problems.append(
                    Problem(
                        file,
                        where,
                        prompt_id,
                        _(
                            "no recording audio/{language}/{prompt_id}.wav, and no Twilio voice "
                            "speaks {language_name}: record the prompt (see the README's audio "
                            "section)"
                        ).format(
                            language=language, prompt_id=prompt_id, language_name=_(LANGUAGE_NAMES[language])
                        ),
                    )
                )
        prompts[prompt_id] = Prompt(prompt_id, line, clean, recordings)
    if problems:
        raise LoadError(problems)
    return Catalogue(file=name, prompts=prompts, version=digest.hexdigest()[:12])
