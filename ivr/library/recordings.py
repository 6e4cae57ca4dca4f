"""Recordings: a format telephones play well, and made from the text the catalogue has now.

A telephone carries 8 kHz mono; a 44.1 kHz stereo file is bigger, slower to fetch and sounds no
better, and a file that is not WAV or MP3 plays as silence. Twilio plays 8 kHz mono WAV
(16-bit PCM or µ-law) and MP3.

`audio/manifest.yaml` keeps, for each recording, a hash of the prompt text it was recorded
from. When a supervisor edits a sentence in `prompts.yaml`, the recording no longer matches and
the version is refused: callers would still hear the old sentence. `ivr audio build` writes
the entries of the placeholders it renders; `ivr audio accept` those of studio recordings,
once someone has listened to them.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.i18n import _
from ivr.source import Node, Problem

MANIFEST = "audio/manifest.yaml"
MAX_SECONDS = 30.0  # a prompt longer than this keeps callers from a person
PCM, MULAW = 1, 7
MANIFEST_HEADER = """\
# What each recording says: a hash of the prompt text it was recorded from (flows/prompts.yaml,
# or a region's name in flows/regions.yaml). `ivr check` refuses a recording whose prompt text
# has changed since, because callers would still hear the old sentence.
# Kept by `ivr audio build` (placeholders) and `ivr audio accept` (studio recordings): do not
# edit by hand.
"""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()[:16]


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
    encoding, channels, rate, byte_rate, _block, bits = fmt
    return WavInfo(encoding, channels, rate, bits, size / byte_rate if byte_rate else 0.0)


def _is_mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def format_problem(relpath: str, data: bytes) -> str | None:
    """Why a caller would not hear this recording as meant, or None when the format is right."""
    if relpath.endswith(".mp3"):
        return None if _is_mp3(data) else _("not an MP3 file Twilio can play")
    info = wav_info(data)
    if info is None:
        return _("not a WAV file Twilio can play")
    if info.encoding not in (PCM, MULAW) or info.rate != 8000 or info.channels != 1:
        kind = {PCM: f"{info.bits}-bit PCM", MULAW: "µ-law"}.get(info.encoding, "compressed")
        name = relpath.rsplit("/", 1)[-1]
        return _("{kind}, {rate} Hz, {channels} channel(s); telephones need 8 kHz mono: "
                 "sox {name} -r 8000 -c 1 -b 16 fixed.wav").format(
                     kind=kind, rate=info.rate, channels=info.channels, name=name)
    return None


def seconds(data: bytes) -> float | None:
    info = wav_info(data)
    return info.seconds if info else None


def read_manifest(data: Node | None) -> tuple[dict[str, str], list[Problem]]:
    """The manifest's entries (`kk/greeting.wav`: text hash) and any problem in it."""
    if data is None:
        return {}, []
    entries: dict[str, str] = {}
    problems = []
    for relpath, digest in data.items():
        if not isinstance(digest, str):
            problems.append(Problem(MANIFEST, data.line_of(relpath), "", _(
                "'{relpath}' must map to a text hash; run `ivr audio accept {relpath}`").format(
                    relpath=relpath)))
            continue
        entries[relpath] = digest
    return entries, problems


def render_manifest(entries: Mapping[str, str]) -> str:
    lines = [f"{relpath}: {digest}" for relpath, digest in sorted(entries.items())]
    return MANIFEST_HEADER + "\n".join(lines) + "\n"


def text_problem(relpath: str, text: str, manifest: Mapping[str, str]) -> str | None:
    """Why a recording may not say its prompt's text, or None when it was made from it."""
    recorded = manifest.get(relpath)
    if recorded == text_hash(text):
        return None
    if recorded is None:
        return _("nobody has confirmed that audio/{relpath} says this text: listen to it, then "
                 "run `ivr audio accept {relpath}`").format(relpath=relpath)
    return _("audio/{relpath} was recorded from another text, so callers would still hear the "
             "old sentence: record it again (or `ivr audio build --all --prompt {prompt}` for a "
             "placeholder), then run `ivr audio accept {relpath}`").format(
                 relpath=relpath, prompt=relpath.split("/", 1)[-1].rsplit(".", 1)[0])
