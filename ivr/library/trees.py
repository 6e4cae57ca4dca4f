"""Parsed YAML files as JSON, so a router process need not parse a large file again.

Parsing YAML in pure Python is the costliest step of checking a version: about nine seconds
for a roster of 10,000 operators, with hundreds of thousands of objects that make the garbage
collector stop every thread of the process. The publisher has already parsed every file it
checked, so it stores each parse, keyed by the file's content hash, next to the file; a router
process loading the version decodes it with the C JSON reader and runs every other check
itself. The encoding keeps exactly what the YAML reader returns (mappings with their lines,
lists, strings, numbers, booleans, null, dates and times); a file holding anything else is not
stored, and is parsed again where needed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from ivr.source import Node


class _Unsupported(Exception):
    pass


def _encode(value: Any) -> Any:
    if isinstance(value, Node):
        return {"l": value.line, "k": [[key, value.key_lines.get(key, value.line), _encode(item)]
                                       for key, item in value.items()]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"f": repr(value)}
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise _Unsupported(type(value).__name__)


def encode(tree: Node) -> str | None:
    """The tree as JSON, or None when it holds a value this encoding does not keep exactly."""
    try:
        return json.dumps(_encode(tree), ensure_ascii=False, separators=(",", ":"))
    except _Unsupported:
        return None


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "l" in value:
        node = Node()
        node.line = value["l"]
        for key, line, item in value["k"]:
            node.key_lines[key] = line
            node[key] = _decode(item)
        return node
    if "t" in value:
        return dt.datetime.fromisoformat(value["t"])
    if "d" in value:
        return dt.date.fromisoformat(value["d"])
    return float(value["f"])


def decode(text: str | bytes) -> Node | None:
    """The tree stored by `encode`; None when the text is not one."""
    try:
        tree = _decode(json.loads(text))
    except (ValueError, KeyError, TypeError):
        return None
    return tree if isinstance(tree, Node) else None
