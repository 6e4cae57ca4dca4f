"""JSON Schemas for the files supervisors edit, so their editor completes keys and underlines
mistakes as they type (any editor with a YAML extension that reads `yaml-language-server`
comments). The flow schema is built from the step-type registry (each step type declares the
schema of its keys), so a new step type appears in editors without a second description. Every
check of a version validates each file against its schema too, after the readers, as a last
net for what they do not catch.

`ivr schemas --write` writes the JSON files shipped in `ivr/schemas/`; a test keeps them current.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from ivr.engine.steps import STEP_TYPES
from ivr.languages import LANGUAGE_NAMES
from ivr.library.scenarios import ANSWERS, EXPECT_KEYS
from ivr.routing.roster import DAY_NAMES, DAY_SHORTCUTS
from ivr.source import Node, Problem

FOLDER = Path(__file__).resolve().parent.parent / "schemas"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
E164 = {"type": "string", "pattern": r"^\+[1-9][0-9]{7,14}$",
        "description": "A full international number, e.g. +77172000000"}
TIME = {"anyOf": [{"type": "string", "pattern": r"^([01]?[0-9]|2[0-4]):[0-5][0-9]$"},
                  {"type": "integer", "minimum": 0, "maximum": 1440}],
        "description": "A local time, \"08:00\"; \"24:00\" is midnight at the end of the day"}
DATE = {"type": "string", "format": "date"}
def flow_schema() -> dict[str, Any]:
    steps = []
    for name, cls in sorted(STEP_TYPES.items()):
        steps.append({
            "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
            "then": {
                "properties": {"type": {"const": name}, **cls.SCHEMA},
                "required": ["type", *cls.REQUIRED], "additionalProperties": False,
            },
        })
    return {
        "$schema": DRAFT, "title": "ivr call flow", "type": "object",
        "additionalProperties": False, "required": ["flow", "languages", "start", "steps"],
        "properties": {
            "flow": {"type": "string"}, "description": {"type": "string"},
            "languages": {"type": "array", "items": {"enum": list(LANGUAGE_NAMES)}},
            "start": {"type": "string", "description": "The id of a step in this flow"},
            "numbers": {"type": "object", "additionalProperties": E164},
            "anywhere": {"type": "object", "propertyNames": {"pattern": "^[0-9*#]$"},
                         "additionalProperties": {"type": "string",
                                                  "description": "The id of a step in this flow"}},
            "entry_numbers": {"type": "array", "items": {"type": "string"}},
            "steps": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["type"],
                "properties": {"type": {"enum": sorted(STEP_TYPES)}}, "allOf": steps}},
        },
    }


def prompts_schema() -> dict[str, Any]:
    text = {"type": "string", "minLength": 1}
    return {"$schema": DRAFT, "title": "ivr prompt catalogue", "type": "object",
            "additionalProperties": False, "required": ["prompts"],
            "properties": {"prompts": {"type": "object", "additionalProperties": {
                "type": "object", "minProperties": 1, "additionalProperties": False,
                "properties": {lang: text for lang in LANGUAGE_NAMES}}}}}


def roster_schema() -> dict[str, Any]:
    who = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    days = {"anyOf": [{"enum": list(DAY_SHORTCUTS)},
                      {"type": "array", "items": {"enum": list(DAY_NAMES)}}]}
    moment = {"anyOf": [DATE, {"type": "string", "pattern": r"^\d{4}-\d\d-\d\d \d\d:\d\d$"}]}
    shift = {"type": "object", "additionalProperties": False,
             "properties": {"who": who, "days": days, "date": DATE, "from": TIME, "to": TIME}}
    return {
        "$schema": DRAFT, "title": "ivr duty roster", "type": "object",
        "additionalProperties": False, "required": ["operators"],
        "properties": {
            "timezone": {"type": "string"},
            "operators": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": False,
                "required": ["phone", "languages"],
                "properties": {"name": {"type": "string"}, "phone": E164,
                               "languages": {"type": "array", "minItems": 1,
                                             "items": {"enum": list(LANGUAGE_NAMES)}},
                               "regions": {"type": "array", "items": {"type": "string"}},
                               "active": {"type": "boolean"}}}},
            "weekly": {"type": "array", "items": {**shift, "required": ["who", "days", "from", "to"]}},
            "dated": {"type": "array", "items": {**shift, "required": ["who", "date", "from", "to"]}},
            "away": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["who", "from", "to"],
                "properties": {"who": who, "from": moment, "to": moment, "why": {"type": "string"}}}},
            "holidays": {"type": "object", "additionalProperties": False, "properties": {
                "calendar": {"type": "string"},
                "add": {"type": "array", "items": DATE},
                "remove": {"type": "array", "items": DATE}}},
        },
    }


def regions_schema() -> dict[str, Any]:
    hours = {"type": "object", "additionalProperties": False, "required": ["days", "from", "to"],
             "properties": {"days": roster_schema()["properties"]["weekly"]["items"]["properties"]
                            ["days"], "from": TIME, "to": TIME}}
    return {
        "$schema": DRAFT, "title": "ivr regions", "type": "object",
        "additionalProperties": False, "required": ["regions"],
        "properties": {
            "regions": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": False, "required": ["kk", "ru"],
                "properties": {
                    "kk": {"type": "string"}, "ru": {"type": "string"},
                    "lines": {"type": "array", "items": E164},
                    "hours": {"anyOf": [{"const": "always"}, {"type": "array", "items": hours}]},
                    "entry_numbers": {"type": "array", "items": {"type": "string"}},
                    "landline_prefixes": {"type": "array",
                                          "items": {"type": "string", "pattern": r"^\d+$"}}}}},
            "menu": {"type": "object", "maxProperties": 5,
                     "propertyNames": {"pattern": "^[1-9]$"},
                     "additionalProperties": {"type": "array", "minItems": 1, "maxItems": 5,
                                              "items": {"type": "string"}}},
        },
    }


def scenarios_schema() -> dict[str, Any]:
    seconds = {"type": "number", "minimum": 0, "maximum": 86400}
    call = {
        "to": {"type": "string"}, "caller": {"type": "string"},
        "press": {"type": "array", "items": {"type": ["string", "integer", "null"]}},
        "answers": {"type": "array", "items": {"enum": list(ANSWERS)}},
        "talks": seconds, "after": seconds,
        "while_waiting": {"type": "object", "additionalProperties": False, "required": ["after"],
                          "properties": {"after": seconds,
                                         "press": {"type": ["string", "integer"]},
                                         "hangs_up": {"type": "boolean"}}},
        "expect": {"type": "object", "additionalProperties": False,
                   "properties": {key: {} for key in EXPECT_KEYS}}}
    scenario = {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": "string"}, "at": {"type": "string"}, **call,
        "callers": {"type": "array", "minItems": 1,
                    "items": {"type": "object", "additionalProperties": False,
                              "properties": call}}}}
    return {"$schema": DRAFT, "title": "ivr flow scenarios", "type": "object",
            "additionalProperties": False, "required": ["scenarios"],
            "properties": {"defaults": scenario, "scenarios": {"type": "array",
                                                                "items": scenario}}}


SCHEMAS = {"flow": flow_schema, "prompts": prompts_schema, "roster": roster_schema,
           "regions": regions_schema, "scenarios": scenarios_schema}


def rendered(name: str) -> str:
    return json.dumps(SCHEMAS[name](), ensure_ascii=False, indent=2) + "\n"


def write_all() -> list[Path]:
    paths = []
    for name in SCHEMAS:
        path = FOLDER / f"{name}.schema.json"
        path.write_text(rendered(name), encoding="utf-8")
        paths.append(path)
    return paths


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FOLDER / f"{name}.schema.json").read_text("utf-8"))
    return data


def kind_of(path: str) -> str:
    """Which schema a file of a version answers to, by its path (`flows/roster.yaml`)."""
    if path.startswith("flows/scenarios/"):
        return "scenarios"
    return {"flows/prompts.yaml": "prompts", "flows/roster.yaml": "roster",
            "flows/regions.yaml": "regions"}.get(path, "flow")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat() if not isinstance(value, dt.datetime) else value.strftime(
            "%Y-%m-%d %H:%M")
    return value


def _line(data: Node, path: Sequence[Any]) -> int:
    node: Any = data
    line = data.line
    for part in path:
        if isinstance(node, Node) and part in node:
            line = node.line_of(str(part))
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            line = node.line if isinstance(node, Node) else line
        else:
            break
    return line


@cache
def _fingerprint(step_types: tuple[str, ...]) -> str:
    text = json.dumps({kind: make() for kind, make in sorted(SCHEMAS.items())}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def fingerprint() -> str:
    """A hash of every schema as this code builds them: a verdict kept under it holds for as
    long as the schemas (and so the step types) are the same."""
    return _fingerprint(tuple(sorted(STEP_TYPES)))


@cache
def _validator(kind: str, step_types: tuple[str, ...]) -> Draft202012Validator:
    return Draft202012Validator(SCHEMAS[kind]())


def schema_problems(data: Node, path: str) -> list[Problem]:
    """Where a parsed file departs from its schema (built from the registered step types, the
    same as the shipped files), as `file:line: sentence` problems."""
    problems = []
    errors = _validator(kind_of(path), tuple(sorted(STEP_TYPES))).iter_errors(_plain(data))
    for error in sorted(errors, key=lambda e: [str(p) for p in e.path]):
        where = "/".join(str(p) for p in error.path)[:120] or "the file"
        message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
        problems.append(Problem(path, _line(data, list(error.path)), "",
                                f"{where}: {message} (schema)"))
    return problems
