"""`ivr audio check`: is every recording there, in a format telephones play well, and used?

A telephone carries 8 kHz mono; a 44.1 kHz stereo file is bigger, slower to fetch and sounds no
better. Twilio plays 8 kHz mono WAV (16-bit PCM or µ-law) and MP3.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from ivr.prompts import AUDIO_SUFFIXES, SAY_VOICES, Catalogue

MAX_SECONDS = 30.0  # a prompt longer than this keeps callers from a person
PCM, MULAW = 1, 7


@dataclass(frozen=True)
class Finding:
    path: str
    message: str
    serious: bool  # a caller would hear it, or hear nothing

    def __str__(self) -> str:
        return f"{'error' if self.serious else 'note '}  {self.path}: {self.message}"


@dataclass(frozen=True)
class WavInfo:
    encoding: int
    channels: int
    rate: int
    bits: int
    seconds: float


def wav_info(data: bytes) -> WavInfo | None:
    """The format chunk and length of a RIFF/WAVE file, or None if it is not one."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    offset, fmt, size = 12, None, 0
    while offset + 8 <= len(data):
        chunk, length = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        body = data[offset + 8:offset + 8 + length]
        if chunk == b"fmt " and len(body) >= 16:
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif chunk == b"data":
            size = length
        offset += 8 + length + (length & 1)
    if fmt is None:
        return None
    encoding, channels, rate, byte_rate, _, bits = fmt
    return WavInfo(encoding, channels, rate, bits, size / byte_rate if byte_rate else 0.0)


def check_recording(path: Path, label: str) -> list[Finding]:
    if path.suffix == ".mp3":
        return []
    info = wav_info(path.read_bytes())
    if info is None:
        return [Finding(label, "not a WAV file Twilio can play", True)]
    findings = []
    if info.encoding not in (PCM, MULAW) or info.rate != 8000 or info.channels != 1:
        kind = {PCM: f"{info.bits}-bit PCM", MULAW: "µ-law"}.get(info.encoding, "compressed")
        findings.append(Finding(
            label, f"{kind}, {info.rate} Hz, {info.channels} channel(s); telephones need 8 kHz "
            f"mono: sox {path.name} -r 8000 -c 1 -b 16 fixed.wav", True))
    if info.seconds > MAX_SECONDS:
        findings.append(Finding(label, f"{info.seconds:.0f} s long; keep prompts under "
                                f"{MAX_SECONDS:.0f} s so callers reach a person quickly", False))
    return findings


def check_audio(catalogue: Catalogue, audio_dir: Path) -> list[Finding]:
    findings: list[Finding] = []
    used: set[str] = set()
    for prompt in catalogue.prompts.values():
        for language in prompt.texts:
            recording = prompt.recordings.get(language)
            if recording is None:
                kazakh_like = language not in SAY_VOICES
                findings.append(Finding(
                    f"audio/{language}/{prompt.id}.wav",
                    "missing: no Twilio voice speaks this language" if kazakh_like else
                    "missing: Twilio's voice reads the text instead", kazakh_like))
                continue
            used.add(recording.relpath)
            findings += check_recording(audio_dir / recording.relpath,
                                        f"audio/{recording.relpath}")
    for path in sorted(audio_dir.rglob("*")):
        relative = path.relative_to(audio_dir).as_posix()
        if path.is_file() and relative not in used:
            why = ("no prompt uses it (old or misnamed?)" if path.suffix in AUDIO_SUFFIXES
                   else "not a recording Twilio can play (use .wav or .mp3)")
            findings.append(Finding(f"audio/{relative}", why, False))
    return findings
