"""Reading a supervisor's YAML file into Nodes that remember their lines, within firm limits.

Every YAML file reaches the router through here, so a file written by mistake or by malice is
refused quickly, with a sentence and a line, never a traceback:
- at most `MAX_BYTES` bytes, UTF-8 text (a byte-order mark is allowed);
- no anchors or aliases (`&a`, `*a`): a kilobyte of nested aliases can stand for billions of
  values; supervisors write each value out;
- at most `MAX_DEPTH` levels of nesting and `MAX_NODES` values in all;
- no control characters in any value (they would break the TwiML Twilio reads, or hide in a
  name); PyYAML already refuses them written raw, this also refuses them escaped in quotes;
- no key written twice in a mapping (YAML would silently keep the last one, hiding a menu option).

The pure-Python parser is used everywhere, so that `ivr check`, publishing and every router
process give the same verdict, with the same messages, for the same bytes.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode
from yaml.nodes import Node as YamlNode

from ivr.i18n import _
from ivr.source import LoadError, Node, Problem

MAX_BYTES = 4 * 1024 * 1024  # a roster of 10,000 operators is about 1.5 MB
MAX_DEPTH = 24
MAX_NODES = 500_000
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


class _Refused(yaml.YAMLError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Loader(yaml.SafeLoader):
    duplicates: list[tuple[str, int]]
    depth: int
    nodes: int
    bad_text: list[int]

    def compose_node(self, parent: YamlNode | None, index: object) -> YamlNode:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(line, _("anchors and aliases (& and *) are not allowed: write each "
                                   "value out in full"))
        self.depth += 1
        self.nodes += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(line, _("values are nested more than {max} levels deep").format(
                max=MAX_DEPTH))
        if self.nodes > MAX_NODES:
            raise _Refused(line, _("the file holds more than {max} values").format(max=MAX_NODES))
        node: YamlNode = super().compose_node(parent, index)  # type: ignore[arg-type,assignment]
        self.depth -= 1
        if isinstance(node, ScalarNode) and FORBIDDEN.search(node.value):
            self.bad_text.append(line)
        return node

    def construct_object(self, node: YamlNode, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:  # a date such as 2026-02-30
            why = str(exc).split(":")[0][:80]
            raise _Refused(node.start_mark.line + 1, _("this value cannot be read: {why}").format(
                why=why)) from exc

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> Node:  # type: ignore[override]
        result = Node()
        result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = str(self.construct_object(key_node, deep=True))
            line = key_node.start_mark.line + 1
            if key in result.key_lines:
                self.duplicates.append((key, line))
            result.key_lines[key] = line
            result[key] = self.construct_object(value_node, deep=True)
        return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)


def decode(data: bytes, label: str) -> str:
    """The file's text; LoadError when it is too big or not UTF-8."""
    if len(data) > MAX_BYTES:
        raise LoadError([Problem(label, 1, "", _(
            "the file is {size} bytes; at most {max} are accepted").format(
                size=len(data), max=MAX_BYTES))])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise LoadError([Problem(label, line, "", _(
            "the file is not UTF-8 text; save it as UTF-8 in your editor"))]) from exc


def parse(data: bytes, label: str) -> Node:
    """Parse one YAML file whose top level is a mapping; raise LoadError with its lines."""
    text = decode(data, label)
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader refuses raw control characters here
        loader.duplicates, loader.depth, loader.nodes, loader.bad_text = [], 0, 0, []
        parsed = loader.get_single_data()
    except _Refused as exc:
        raise LoadError([Problem(label, exc.line, "", exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise LoadError([Problem(label, line, "", _("this is not valid YAML: {problem}").format(
            problem=exc.problem))]) from None
    except yaml.reader.ReaderError as exc:
        line = text[:exc.position].count("\n") + 1
        raise LoadError([Problem(label, line, "", _(
            "a control character (code {code}) is in the file; delete it").format(
                code=exc.character if isinstance(exc.character, int) else ord(exc.character)))]
                        ) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise LoadError([Problem(label, 1, "", _("this is not valid YAML: {problem}").format(
            problem=type(exc).__name__))]) from None
    finally:
        if loader is not None:
            loader.dispose()
    problems = [Problem(label, line, "", _("the key '{key}' is written twice; keep one").format(
        key=key)) for key, line in loader.duplicates]
    problems += [Problem(label, line, "", _(
        "a control character is in this value; delete it (tabs and new lines are fine outside "
        "quotes)")) for line in sorted(set(loader.bad_text))]
    if not isinstance(parsed, Node):
        problems.append(Problem(label, 1, "", _("the file must be a mapping of keys to values")))
    if problems:
        raise LoadError(problems)
    assert isinstance(parsed, Node)
    return parsed
