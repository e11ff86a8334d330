"""The JSON Schema of scenario files, made from the vocabulary (so it never drifts)."""

from __future__ import annotations

from typing import Any

from .actions import ACTIONS, END_NAMES, OBJECT_ATTRS

_TYPES: dict[str, dict[str, Any]] = {
    "process": {"type": "string"},
    "fd": {"oneOf": [{"type": "integer", "minimum": 0},
                     {"type": "string",
                      "pattern": r"^[a-z][a-z0-9_-]*\.(" + "|".join(END_NAMES) + ")$"}]},
    "size": {"oneOf": [{"type": "integer", "minimum": 0},
                       {"type": "string",
                        "pattern": r"^\s*(\d+|capacity|PIPE_BUF)\s*([-+*]\s*\d+)?\s*$"}]},
    "int": {"type": "integer"},
    "str": {"type": "string"},
    "bool": {"type": "boolean"},
    "signal": {"type": "string", "pattern": r"^(SIG)?[A-Za-z0-9+-]+$"},
    "signals": {"type": "array", "items": {"type": "string"}},
    "semops": {"type": "array", "minItems": 1, "items": {
        "type": "array", "minItems": 2, "maxItems": 3,
        "prefixItems": [{"type": "integer", "minimum": 0}, {"type": "integer"},
                        {"type": "string"}]}},
}


def _arg_schema(typ: str) -> dict[str, Any]:
    if typ.startswith("object:"):
        return {"type": "string", "description": f"an object ({typ[7:] or 'any kind'})"}
    if typ.startswith("choice:"):
        return {"enum": typ[7:].split("|")}
    return dict(_TYPES.get(typ, {}))


def schema() -> dict[str, Any]:
    name = {"type": "string", "pattern": r"^[a-z][a-z0-9_-]*$"}
    step_common = {
        "process": name,
        "narration": {"type": "string", "minLength": 1},
        "code": {"type": "string"},
        "expect": {"type": "array", "items": {"type": "string"}},
        "narration_zh": {"type": "string"},
        "quiz": {"type": "object", "required": ["question", "choice"],
                 "additionalProperties": False, "properties": {
                     "question": {"type": "string"}, "question_zh": {"type": "string"},
                     "choice": {"type": "array", "minItems": 2, "items": {
                         "type": "object", "required": ["text", "when"],
                         "additionalProperties": False, "properties": {
                             "text": {"type": "string"}, "text_zh": {"type": "string"},
                             "when": {"type": "string"}}}}}},
    }
    variants = []
    for action in ACTIONS.values():
        props = {**step_common, "action": {"const": action.name}}
        required = ["process", "action", "narration"]
        for arg in action.args:
            props[arg.name] = _arg_schema(arg.type)
            if arg.required:
                required.append(arg.name)
        variants.append({"type": "object", "description": action.summary, "properties": props,
                         "required": required, "additionalProperties": False})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ipcviz scenario",
        "type": "object",
        "required": ["title", "process", "step"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1},
            "summary": {"type": "string"},
            "title_zh": {"type": "string"},
            "summary_zh": {"type": "string"},
            "process": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name"], "additionalProperties": False,
                "properties": {"name": name, "parent": name, "description": {"type": "string"}}}},
            "object": {"type": "array", "items": {
                "type": "object", "required": ["name", "kind"], "additionalProperties": False,
                "properties": {"name": name, "kind": {"enum": sorted(OBJECT_ATTRS)}}}},
            "step": {"type": "array", "minItems": 1, "items": {"oneOf": variants}},
        },
    }
