"""The files of a version: read from the supervisors' working folders, or held in memory.

A version is a set of files named by their place in the working folders: `flows/hotline150.yaml`,
`flows/scenarios/hotline150.yaml`, `audio/kk/greeting.wav`, `audio/manifest.yaml`. The check
pipeline reads them through a `Source`, so the same checks run on the working folders (`ivr
check`, `ivr publish`) and on a published version (a router loading it): the same bytes get the
same verdict. Problems name files by these paths wherever the folders really are.

Only what can belong to a version is listed: `*.yaml` files (not hidden ones such as an
editor's `.#hotline150.yaml` lock), and recordings (`*.wav`, `*.mp3`) in a folder per language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ivr.i18n import _
from ivr.languages import LANGUAGE_NAMES
from ivr.library.catalogue import AUDIO_SUFFIXES
from ivr.library.recordings import MANIFEST
from ivr.source import LoadError, Problem

FLOWS, AUDIO, SCENARIOS = "flows", "audio", "flows/scenarios"
MAX_RECORDING_BYTES = 8 * 1024 * 1024  # 8 kHz mono: over eight minutes of sound
MAX_FILES = 2000


class Source(Protocol):
    def names(self) -> list[str]:
        """Every file path available, sorted."""
        ...

    def read(self, name: str) -> bytes:
        """The file's content; LoadError when it cannot be read or is too big."""
        ...


@dataclass(frozen=True)
class MemorySource:
    """A version's files held in memory (a published version, or a test's)."""

    files: Mapping[str, bytes]

    def names(self) -> list[str]:
        return sorted(self.files)

    def read(self, name: str) -> bytes:
        return self.files[name]


class FolderSource:
    """The working folders: IVR_FLOWS_DIR as `flows/`, IVR_AUDIO_DIR as `audio/`."""

    def __init__(self, flows_dir: Path, audio_dir: Path) -> None:
        self.flows_dir = flows_dir
        self.audio_dir = audio_dir
        self.problems: list[Problem] = []  # what could not be listed
        self._paths = self._list()

    def names(self) -> list[str]:
        return sorted(self._paths)

    def read(self, name: str) -> bytes:
        path = self._paths[name]
        limit = MAX_RECORDING_BYTES if name.startswith(f"{AUDIO}/") else 4 * 1024 * 1024
        try:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise LoadError([Problem(name, 1, "", _("cannot read the file ({why})").format(
                why=exc.strerror or type(exc).__name__))]) from None
        if len(data) > limit:
            raise LoadError([Problem(name, 1, "", _(
                "the file is larger than {max} bytes").format(max=limit))])
        return data

    def _list(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        folders: list[tuple[str, Path, tuple[str, ...]]] = [
            (FLOWS, self.flows_dir, (".yaml",)), (SCENARIOS, self.flows_dir / "scenarios", (".yaml",))]
        folders += [(f"{AUDIO}/{lang}", self.audio_dir / lang, AUDIO_SUFFIXES)
                    for lang in LANGUAGE_NAMES]
        for prefix, folder, suffixes in folders:
            for path in _files(folder):
                if path.suffix == ".yml" and prefix in (FLOWS, SCENARIOS):
                    self.problems.append(Problem(f"{prefix}/{path.name}", 1, "", _(
                        "only .yaml files are read: rename it to {name}.yaml, or move it away"
                    ).format(name=path.stem)))
                elif path.suffix in suffixes:
                    found[f"{prefix}/{path.name}"] = path
        manifest = self.audio_dir / MANIFEST.removeprefix(f"{AUDIO}/")
        if manifest.is_file():
            found[MANIFEST] = manifest
        if len(found) > MAX_FILES:
            self.problems.append(Problem(FLOWS, 1, "", _(
                "the folders hold more than {max} files; move unused ones away").format(
                    max=MAX_FILES)))
            found = dict(sorted(found.items())[:MAX_FILES])
        return found


def _files(folder: Path) -> list[Path]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    result = []
    for path in entries:
        try:
            if not path.name.startswith(".") and path.is_file():
                result.append(path)
        except OSError:  # removed while we looked
            continue
    return result
