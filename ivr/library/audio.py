"""Supervisors' audio tools: `ivr audio check`, `ivr audio build`, `ivr audio accept`.

- check: every prompt without a recording (an error in Kazakh, a note in Russian, which
  Twilio's voice can read), every recording the checks refuse (format, or made from another
  text), prompts longer than 30 seconds, and files no prompt uses;
- build: placeholder recordings rendered from the prompt texts with espeak-ng (which speaks
  Kazakh), 8 kHz mono 16-bit WAV, the telephone's own quality, so a flow runs end to end before
  studio recordings exist; existing files are kept unless asked for, so a studio recording is
  never overwritten by accident;
- accept: record in `audio/manifest.yaml` that recordings say their prompts' current texts.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ivr.i18n import _
from ivr.languages import SAY_VOICES
from ivr.library.catalogue import AUDIO_SUFFIXES, Catalogue, is_sound
from ivr.library.files import FolderSource
from ivr.library.pipeline import Options, check
from ivr.library.recordings import (
    MANIFEST,
    MAX_SECONDS,
    read_manifest,
    render_manifest,
    seconds,
    text_hash,
)
from ivr.library.yamlfile import parse
from ivr.source import LoadError, Problem

ESPEAK_VOICES = {"kk": "kk", "ru": "ru", "en": "en"}
WORDS_PER_MINUTE = 200


class ToolMissing(Exception):
    pass


@dataclass(frozen=True)
class Finding:
    path: str
    message: str
    serious: bool  # a caller would hear it, or hear nothing

    def __str__(self) -> str:
        error, note = _("error"), _("note")
        label = error if self.serious else note
        return f"{label:<{max(len(error), len(note))}}  {self.path}: {self.message}"


def _catalogue(flows_dir: Path, audio_dir: Path) -> tuple[Catalogue, list[Problem]]:
    verdict = check(FolderSource(flows_dir, audio_dir), Options(), require_recordings=False)
    if verdict.catalogue is None:
        raise LoadError([p for p in verdict.problems
                         if p.file in ("flows/prompts.yaml", "flows/regions.yaml")]
                        or list(verdict.problems))
    return verdict.catalogue, list(verdict.problems)


def check_audio(flows_dir: Path, audio_dir: Path) -> tuple[Catalogue, list[Finding]]:
    """What `ivr audio check` reports; LoadError when the prompts cannot be read at all."""
    catalogue, problems = _catalogue(flows_dir, audio_dir)
    findings = [Finding(p.file if p.file.startswith("audio/") else f"{p.file}:{p.line}",
                        f"{p.step + ': ' if p.step else ''}{p.message}", True)
                for p in problems if p.file.startswith("audio/") or "audio/" in p.message]
    used: set[str] = set()
    for prompt in catalogue.prompts.values():
        for language in prompt.texts:
            recording = prompt.recordings.get(language)
            if recording is None:
                kazakh_like = language not in SAY_VOICES
                findings.append(Finding(
                    f"audio/{language}/{prompt.id}.wav",
                    _("missing: no Twilio voice speaks this language") if kazakh_like else
                    _("missing: Twilio's voice reads the text instead"), kazakh_like))
                continue
            used.add(recording.relpath)
            length = seconds((audio_dir / recording.relpath).read_bytes())
            if length is not None and length > MAX_SECONDS:
                findings.append(Finding(f"audio/{recording.relpath}", _(
                    "{seconds} s long; keep prompts under {max} s so callers reach a person "
                    "quickly").format(seconds=f"{length:.0f}", max=f"{MAX_SECONDS:.0f}"), False))
    for path in sorted(audio_dir.rglob("*")):
        relative = path.relative_to(audio_dir).as_posix()
        if not path.is_file() or relative in used or f"audio/{relative}" == MANIFEST:
            continue
        why = (_("no prompt uses it (old or misnamed?)") if path.suffix in AUDIO_SUFFIXES
               else _("not a recording Twilio can play (use .wav or .mp3)"))
        findings.append(Finding(f"audio/{relative}", why, False))
    return catalogue, findings


# A soft two-note chime every two seconds, four seconds in all: quiet enough to wait with,
# present enough that nobody thinks the line has dropped.
TONE = ["synth", "0.35", "sine", "523.25", "sine", "659.25", "fade", "q", "0.05", "0.35", "0.2",
        "vol", "0.15", "pad", "0.15", "1.5", "repeat", "1"]


def render(text: str, language: str, out: Path) -> None:
    for tool in ("sox",) if is_sound(text) else ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise ToolMissing(_("{tool} is not installed (Debian/Ubuntu: apt-get install {tool})")
                              .format(tool=tool))
    out.parent.mkdir(parents=True, exist_ok=True)
    if is_sound(text):
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
                        str(out), *TONE], check=True, capture_output=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", ESPEAK_VOICES[language], "-s", str(WORDS_PER_MINUTE),
                        "-w", str(raw), text], check=True, capture_output=True)
        subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
                        str(out)], check=True, capture_output=True)


def _manifest_path(audio_dir: Path) -> Path:
    return audio_dir / MANIFEST.removeprefix("audio/")


def _update_manifest(audio_dir: Path, entries: dict[str, str]) -> None:
    path = _manifest_path(audio_dir)
    current: dict[str, str] = {}
    if path.is_file():
        current, problems = read_manifest(parse(path.read_bytes(), MANIFEST))
        if problems:
            raise LoadError(problems)
    current.update(entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_manifest(current), encoding="utf-8")


def build_placeholders(flows_dir: Path, audio_dir: Path, only: set[str] | None = None,
                       overwrite: bool = False) -> list[Path]:
    """Render every prompt that has no recording yet (or those named in `only`), and note in
    the manifest which text each placeholder says."""
    catalogue, _problems = _catalogue(flows_dir, audio_dir)
    written: list[Path] = []
    entries: dict[str, str] = {}
    for prompt in catalogue.prompts.values():
        if only and prompt.id not in only:
            continue
        for language, text in prompt.texts.items():
            if language not in ESPEAK_VOICES:
                continue
            existing = [audio_dir / language / f"{prompt.id}{s}" for s in AUDIO_SUFFIXES]
            if any(p.exists() for p in existing) and not overwrite:
                continue
            out = audio_dir / language / f"{prompt.id}.wav"
            for other in existing:
                if other != out:
                    other.unlink(missing_ok=True)
            render(text, language, out)
            written.append(out)
            entries[f"{language}/{prompt.id}.wav"] = text_hash(text)
    if entries:
        _update_manifest(audio_dir, entries)
    return written


def accept(flows_dir: Path, audio_dir: Path, relpaths: Iterable[str]) -> list[str]:
    """Note that these recordings (`kk/greeting.wav`; all when none is named) say their
    prompts' current texts. LookupError for a path that is no prompt's recording."""
    catalogue, _problems = _catalogue(flows_dir, audio_dir)
    by_path = {rec.relpath: prompt.texts[language] for prompt in catalogue.prompts.values()
               for language, rec in prompt.recordings.items()}
    wanted = [p.removeprefix("audio/") for p in relpaths] or sorted(by_path)
    unknown = [p for p in wanted if p not in by_path]
    if unknown:
        raise LookupError(_("no prompt has the recording {recordings}; recordings are named like "
                            "kk/greeting.wav").format(recordings=", ".join(unknown)))
    _update_manifest(audio_dir, {p: text_hash(by_path[p]) for p in wanted})
    return wanted
