"""Parsed YAML files as JSON, so a router process need not parse a large file again.

Parsing YAML in pure Python is the costliest step of checking a version: about nine seconds
for a roster of 10,000 operators, with hundreds of thousands of objects that make the garbage
collector stop every thread of the process. The publisher has already parsed every file it
checked, so it stores each parse, keyed by the file's content hash, next to the file; a router
process loading the version decodes it with the C JSON reader and runs every other check
itself. The encoding keeps exactly what the YAML reader returns (mappings with their lines,
lists, strings, numbers, booleans, null, dates and times); a file holding anything else is not
stored, and is parsed again where needed.

The text is JSON lines: the first line is the file's top mapping, and the mappings and lists
of the first levels (the roster's operators, each operator, each shift) stand on lines of their
own, referred to as `{"@": line}`. Decoding is then many short calls instead of one long one,
and the other threads of a router (its webhooks) get their turns in between.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from ivr.source import Node

SPLIT_LEVELS = 2  # mappings and lists this many levels below the top get lines of their own


class _Unsupported(Exception):
    pass


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = [""]

    def line(self, value: Any, level: int) -> Any:
        """`value` encoded, on a line of its own when it is a container of the first levels."""
        encoded = self.encode(value, level)
        if level > SPLIT_LEVELS or not isinstance(value, Node | list):
            return encoded
        self.lines.append(json.dumps(encoded, ensure_ascii=False, separators=(",", ":")))
        return {"@": len(self.lines) - 1}

    def encode(self, value: Any, level: int) -> Any:
        if isinstance(value, Node):
            return {"l": value.line, "k": [[key, value.key_lines.get(key, value.line),
                                            self.line(item, level + 1)]
                                           for key, item in value.items()]}
        if isinstance(value, list):
            return [self.line(item, level + 1) for item in value]
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
    """The tree as JSON lines, or None when it holds a value this encoding does not keep
    exactly."""
    writer = _Writer()
    try:
        writer.lines[0] = json.dumps(writer.encode(tree, 0), ensure_ascii=False,
                                     separators=(",", ":"))
    except _Unsupported:
        return None
    return "\n".join(writer.lines)  # (compact JSON never holds a raw new line)


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.decode(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "@" in value:
            return self.decode(json.loads(self.lines[value["@"]]))
        if "l" in value:
            node = Node()
            node.line = value["l"]
            for key, line, item in value["k"]:
                node.key_lines[key] = line
                node[key] = self.decode(item)
            return node
        if "t" in value:
            return dt.datetime.fromisoformat(value["t"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
        return float(value["f"])


def decode(text: str | bytes) -> Node | None:
    """The tree stored by `encode`; None when the text is not one."""
    lines = (text.decode() if isinstance(text, bytes) else text).split("\n")
    try:
        tree = _Reader(lines).decode(json.loads(lines[0]))
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        return None
    return tree if isinstance(tree, Node) else None
