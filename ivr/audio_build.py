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


def prompt_texts(flows_dir: Path) -> dict[str, dict[str, str]]:
    """Every prompt's texts: prompts.yaml, and the region names of regions.yaml."""
    texts: dict[str, dict[str, str]] = {}
    prompts = load_yaml(flows_dir / "prompts.yaml").get("prompts")
    if isinstance(prompts, Node):
        texts.update({pid: dict(t) for pid, t in prompts.items() if isinstance(t, Node)})
    regions = load_yaml(flows_dir / "regions.yaml").get("regions")
    if isinstance(regions, Node):
        texts.update({f"region.{rid}": {k: str(r[k]) for k in ("kk", "ru") if k in r}
                      for rid, r in regions.items() if isinstance(r, Node)})
    return texts


def build_placeholders(flows_dir: Path, audio_dir: Path, only: set[str] | None = None,
                       overwrite: bool = False) -> list[Path]:
    """Render every prompt that has no recording yet (or those named in `only`)."""
    written: list[Path] = []
    for prompt_id, texts in prompt_texts(flows_dir).items():
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
