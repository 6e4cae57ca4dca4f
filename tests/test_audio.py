"""`ivr audio check`: recordings present, telephone-shaped, short enough, and used."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.settings import PROJECT_ROOT


@pytest.fixture
def audio_dir(tmp_path: Path) -> Path:
    target = tmp_path / "audio"
    shutil.copytree(PROJECT_ROOT / "audio", target)
    return target


def write_wav(path: Path, seconds: float, rate: int = 8000, channels: int = 1) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * channels * int(rate * seconds))


def check(audio_dir: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audio", "check"],
                                env={"IVR_AUDIO_DIR": str(audio_dir), "IVR_FLOWS_DIR": None})
    return result.exit_code, result.output


def test_the_shipped_recordings_pass(audio_dir: Path) -> None:
    code, output = check(audio_dir)
    assert code == 0, output
    assert "0 error(s), 0 note(s)" in output


def test_a_recording_in_a_bad_format_is_an_error(audio_dir: Path) -> None:
    write_wav(audio_dir / "kk" / "hold.wav", 2, rate=44100, channels=2)
    code, output = check(audio_dir)
    assert code == 1
    assert ("error  audio/kk/hold.wav: 16-bit PCM, 44100 Hz, 2 channel(s); telephones need "
            "8 kHz mono") in output


def test_a_missing_kazakh_recording_is_an_error_and_a_russian_one_a_note(audio_dir: Path) -> None:
    (audio_dir / "kk" / "hold.wav").unlink()
    (audio_dir / "ru" / "hold.wav").unlink()
    code, output = check(audio_dir)
    assert code == 1
    assert "error  audio/kk/hold.wav: missing: no Twilio voice speaks this language" in output
    assert "note   audio/ru/hold.wav: missing: Twilio's voice reads the text instead" in output


def test_long_and_unused_files_are_noted(audio_dir: Path) -> None:
    write_wav(audio_dir / "ru" / "greeting.wav", 31)
    write_wav(audio_dir / "ru" / "greeting_old.wav", 1)
    (audio_dir / "ru" / "notes.txt").write_text("studio notes")
    code, output = check(audio_dir)
    assert code == 0, output
    assert "note   audio/ru/greeting.wav: 31 s long" in output
    assert "note   audio/ru/greeting_old.wav: no prompt uses it" in output
    assert "note   audio/ru/notes.txt: not a recording Twilio can play" in output
