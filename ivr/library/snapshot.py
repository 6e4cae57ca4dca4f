"""A snapshot: one checked, immutable version of everything supervisors edit.

It holds the files of the version (flows, prompts, roster, regions, scenarios, the recordings
the prompts use, the recordings' manifest) and what the check pipeline read from them: the
prompt catalogue, every call flow, the routing tables and the scenarios. Its `version` is a
hash of the files alone, so the same files are the same version on every host, whoever
publishes them. Snapshots come into being only through `ivr.library.pipeline`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.engine.flow import Flow
from ivr.library.catalogue import Catalogue, Recording
from ivr.library.scenarios import Scenario
from ivr.routing import Routing

CATALOGUE_FILE = "flows/prompts.yaml"
ROSTER_FILE = "flows/roster.yaml"
REGIONS_FILE = "flows/regions.yaml"
NOT_FLOWS = frozenset({CATALOGUE_FILE, ROSTER_FILE, REGIONS_FILE})


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def version_of(files: Mapping[str, bytes]) -> str:
    """The content version of a set of files: the same files give the same version anywhere."""
    listing = "".join(f"{path}\0{digest(data)}\n" for path, data in sorted(files.items()))
    return digest(listing.encode())[:12]


@dataclass(frozen=True)
class Snapshot:
    version: str
    files: Mapping[str, bytes]
    catalogue: Catalogue
    flows: Mapping[str, Flow]
    default: str
    routing: Routing
    scenarios: tuple[Scenario, ...] = ()

    def for_number(self, to: str) -> Flow:
        """The flow whose `entry_numbers` list the number dialled, else the default flow."""
        for flow in self.flows.values():
            if to in flow.entry_numbers:
                return flow
        return self.flows[self.default]

    @property
    def national_numbers(self) -> tuple[str, ...]:
        """The default flow's national and emergency lines: the safe path's destinations."""
        numbers = self.flows[self.default].numbers
        return tuple(numbers[k] for k in ("national", "emergency") if k in numbers)

    @property
    def languages(self) -> list[str]:
        return sorted({lang for flow in self.flows.values() for lang in flow.languages})

    def recording(self, published_name: str) -> tuple[Recording, bytes] | None:
        """A recording Twilio asks for by its published name, `kk/greeting.3f2a….wav`."""
        recording = self.catalogue.by_published_name(published_name)
        if recording is None:
            return None
        data = self.files.get(f"audio/{recording.relpath}")
        return (recording, data) if data is not None else None
