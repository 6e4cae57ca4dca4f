"""What changed between two versions, in a line or two, for the history of publications.

    flows/roster.yaml: operators added nurlan; changed dana · flows/prompts.yaml: prompts
    changed main_menu · audio: kk/main_menu.wav replaced

Files are compared by content; in the YAML files supervisors edit most, the entries of the main
mapping (prompts, operators, regions, steps) are compared one by one, so the line names what a
reviewer would look at first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ivr.source import Node

MAIN = {"flows/prompts.yaml": ("prompts", "prompts"), "flows/roster.yaml": ("operators", "operators"),
        "flows/regions.yaml": ("regions", "regions")}
NAMES_SHOWN = 4
Parse = Callable[[str, bytes], Node | None]


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:NAMES_SHOWN])
    return shown + (f" (+{len(items) - NAMES_SHOWN} more)" if len(items) > NAMES_SHOWN else "")


def _entries(path: str, old: bytes, new: bytes, parse: Parse) -> str:
    key, label = MAIN.get(path, ("steps", "steps"))
    before, after = parse(path, old), parse(path, new)
    if before is None or after is None:
        return "changed"
    was, now = before.get(key), after.get(key)
    if not isinstance(was, dict) or not isinstance(now, dict):
        return "changed"
    added = [k for k in now if k not in was]
    removed = [k for k in was if k not in now]
    changed = [k for k in now if k in was and now[k] != was[k]]
    parts = [f"added {_names(added)}" if added else "", f"removed {_names(removed)}" if removed
             else "", f"changed {_names(changed)}" if changed else ""]
    details = "; ".join(p for p in parts if p)
    others = sorted(k for k in {*before, *after} if k != key and before.get(k) != after.get(k))
    said = [f"{label} {details}" if details else "", f"{', '.join(others)} changed" if others else ""]
    return "; ".join(s for s in said if s) or "layout or comments only"


def describe(old: Mapping[str, bytes] | None, new: Mapping[str, bytes], parse: Parse) -> str:
    if old is None:
        return f"first version ({len(new)} files)"
    parts: list[str] = []
    recordings: list[str] = []
    for path in sorted({*old, *new}):
        if old.get(path) == new.get(path):
            continue
        if path.startswith("audio/") and path != "audio/manifest.yaml":
            what = "added" if path not in old else "removed" if path not in new else "replaced"
            recordings.append(f"{path.removeprefix('audio/')} {what}")
        elif path not in old:
            parts.append(f"{path}: added")
        elif path not in new:
            parts.append(f"{path}: removed")
        elif path.endswith(".yaml") and path != "audio/manifest.yaml":
            parts.append(f"{path}: {_entries(path, old[path], new[path], parse)}")
    if recordings:
        parts.append(f"audio: {_names(recordings)}")
    return " · ".join(parts) or "no change"
