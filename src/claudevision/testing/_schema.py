"""A value that satisfies a JSON Schema: the local server's default tool input and JSON reply.

Deterministic and bounded: it follows ``$ref`` (local ``#/...`` pointers), ``allOf``,
``anyOf`` / ``oneOf`` (the first branch that is not ``null``), ``enum``, ``const``,
``default`` and ``examples``, and meets ``required``, ``minItems``, ``minLength``,
``minimum`` / ``maximum`` (and their exclusive forms), ``multipleOf`` and common
``format`` values. A schema nested deeper than :data:`MAX_DEPTH` gives ``None``.

>>> example({"type": "object", "properties": {"name": {"type": "string"},
...          "age": {"type": "integer", "minimum": 18}}, "required": ["name", "age"]})
{'name': 'name', 'age': 18}
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["MAX_DEPTH", "example"]

MAX_DEPTH = 32
_OPTIONAL_DEPTH = 3
"""Optional properties and a first array item are filled in only this near the top."""
_NOTE = re.compile(r"\{(\w+: [^{}]+)\}")
_PAIR = re.compile(r"(\w+): ([^,]+)")
_NOTED = frozenset(
    {
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "format",
    }
)
_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
}


def example(schema: object, *, name: str = "value") -> Any:
    """A value valid against ``schema`` (``name`` seeds strings without other hints)."""
    root = schema if isinstance(schema, dict) else {}
    return _value(schema, root, name, 0)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while isinstance(schema.get("$ref"), str) and seen < MAX_DEPTH:
        target: Any = root
        for part in schema["$ref"].lstrip("#").strip("/").split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**(target if isinstance(target, dict) else {}), **rest}
        seen += 1
    return schema


def _noted(schema: dict[str, Any]) -> dict[str, Any]:
    """Constraints the SDK's structured-output transform moved into the description
    (``"{maximum: 130, minimum: 18}"``), put back."""
    note = _NOTE.search(str(schema.get("description", "")))
    if note is None:
        return schema
    found: dict[str, Any] = {}
    for key, text in _PAIR.findall(note.group(1)):
        if key in _NOTED and key not in schema:
            try:
                found[key] = json.loads(text)
            except ValueError:
                found[key] = text.strip()
    return {**schema, **found}


def _value(schema: object, root: dict[str, Any], name: str, depth: int) -> Any:
    if depth > MAX_DEPTH or not isinstance(schema, dict):
        return None if depth > MAX_DEPTH else name
    schema = _noted(_resolve(schema, root))
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(part, root) if isinstance(part, dict) else {}
            for key, value in part.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged.setdefault(key, value)
        return _value(merged, root, name, depth + 1)
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches:
            chosen = next((b for b in branches if not _is_null(b, root)), branches[0])
            return _value(chosen, root, name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = _guess(schema)
    return _typed(kind, schema, root, name, depth)


def _is_null(branch: object, root: dict[str, Any]) -> bool:
    return isinstance(branch, dict) and _resolve(branch, root).get("type") == "null"


def _guess(schema: dict[str, Any]) -> str:
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "multipleOf")):
        return "number"
    return "string"


def _typed(
    kind: object, schema: dict[str, Any], root: dict[str, Any], name: str, depth: int
) -> Any:
    if kind == "object":
        properties = schema.get("properties") or {}
        required = [k for k in schema.get("required") or [] if isinstance(k, str)]
        result = {}
        for key in [*properties, *(k for k in required if k not in properties)]:
            if key in required or depth < _OPTIONAL_DEPTH:
                result[key] = _value(properties.get(key, {}), root, key, depth + 1)
        minimum = schema.get("minProperties", 0)
        extra = schema.get("additionalProperties")
        while len(result) < minimum:
            result[f"key{len(result)}"] = _value(extra or {}, root, "value", depth + 1)
        return result
    if kind == "array":
        prefix = schema.get("prefixItems") or []
        items = [_value(s, root, name, depth + 1) for s in prefix]
        minimum = int(schema.get("minItems", 0))
        if depth < _OPTIONAL_DEPTH and schema.get("maxItems", 1) >= 1:
            minimum = max(minimum, 1)
        while len(items) < minimum:
            items.append(_value(schema.get("items", {}), root, name, depth + 1))
        return items
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, name)


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    low = schema.get("minimum")
    if low is None and schema.get("exclusiveMinimum") is not None:
        low = schema["exclusiveMinimum"] + (1 if integer else 0.5)
    high = schema.get("maximum")
    if high is None and schema.get("exclusiveMaximum") is not None:
        high = schema["exclusiveMaximum"] - (1 if integer else 0.5)
    value: float = low if low is not None else (min(high, 1) if high is not None else 1)
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0:
        value = math.ceil(value / step) * step
    if integer:
        return math.ceil(value)
    return value


def _string(schema: dict[str, Any], name: str) -> str:
    fmt = schema.get("format")
    text = _FORMATS.get(fmt, name) if isinstance(fmt, str) else name
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    if len(text) < low:
        text = (text * (low // max(len(text), 1) + 1))[: max(low, 1)]
    if isinstance(high, int):
        text = text[:high]
    return text
