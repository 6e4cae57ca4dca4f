"""Placeholder recordings rendered from the prompt texts with espeak-ng (which speaks Kazakh).

They let a flow run end to end before studio recordings exist. Output is 8 kHz mono 16-bit WAV,
the telephone's own quality, so what you hear locally is what a caller hears. Existing files are
kept unless asked for, so a studio recording is never overwritten by accident.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ivr.prompts import AUDIO_SUFFIXES
from ivr.yamlsrc import Node, load_yaml

ESPEAK_VOICES = {"kk": "kk", "ru": "ru", "en": "en"}
WORDS_PER_MINUTE = 200


class ToolMissing(Exception):
    pass


def render(text: str, language: str, out: Path) -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise ToolMissing(f"{tool} is not installed (Debian/Ubuntu: apt-get install {tool})")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", ESPEAK_VOICES[language], "-s", str(WORDS_PER_MINUTE),
                        "-w", str(raw), text], check=True, capture_output=True)
        subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer",
                        str(out)], check=True, capture_output=True)


def build_placeholders(prompts_file: Path, audio_dir: Path, only: set[str] | None = None,
                       overwrite: bool = False) -> list[Path]:
    """Render every prompt that has no recording yet (or those named in `only`)."""
    data = load_yaml(prompts_file)
    prompts = data.get("prompts")
    written: list[Path] = []
    if not isinstance(prompts, Node):
        return written
    for prompt_id, texts in prompts.items():
        if only and prompt_id not in only:
            continue
        for language, text in texts.items():
            if language not in ESPEAK_VOICES:
                continue
            existing = [audio_dir / language / f"{prompt_id}{s}" for s in AUDIO_SUFFIXES]
            if any(p.exists() for p in existing) and not overwrite:
                continue
            out = audio_dir / language / f"{prompt_id}.wav"
            render(str(text), language, out)
            written.append(out)
    return written
