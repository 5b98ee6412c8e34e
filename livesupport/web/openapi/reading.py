"""The document made readable: operations grouped by tag, schemas as lists of fields with plain types."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

Schema = dict[str, Any]
METHODS = ("get", "post", "put", "patch", "delete")
AUTH_WORDS = {"bearerAuth": "Bearer token", "sessionCookie": "Browser session", "appKey": "Application key"}


CODE = re.compile(r"`([^`]+)`")


def words(text: str) -> Markup:
    """A description as HTML: escaped, with its `code` spans as <code>."""
    return Markup(CODE.sub(lambda m: f"<code>{m.group(1)}</code>", str(escape(text))))


@dataclass
class Field:
    name: str
    type: str
    required: bool
    description: Markup
    children: list[Field] = field(default_factory=list)


def type_of(schema: Schema) -> str:
    """A schema's type in a few words: "integer 1–2147483647", "string (date-time)", "array of object"."""
    if "const" in schema:
        return f'"{schema["const"]}"'
    if "enum" in schema:
        return " | ".join(f'"{v}"' for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(type_of(part) for part in schema["anyOf"])
    if "allOf" in schema:
        return "object"
    kind = schema.get("type")
    if kind is None:
        return "any"
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    words = str(kind)
    if "format" in schema:
        words += f" ({schema['format']})"
    if "minimum" in schema or "maximum" in schema:
        words += f" {schema.get('minimum', '…')}–{schema.get('maximum', '…')}"
    if "maxLength" in schema:
        words += f", at most {schema['maxLength']} characters"
    return words


def _object_parts(schema: Schema) -> tuple[dict[str, Schema], set[str]]:
    parts = schema.get("allOf", [schema])
    props: dict[str, Schema] = {}
    required: set[str] = set()
    for part in parts:
        props.update(part.get("properties", {}))
        required.update(part.get("required", []))
    return props, required


def _inner(schema: Schema) -> Schema:
    """What to open up: the object inside an array or a nullable."""
    if schema.get("type") == "array":
        return _inner(schema.get("items", {}))
    for part in schema.get("anyOf", []):
        if part.get("type") != "null":
            return _inner(part)
    return schema


def fields(schema: Schema, depth: int = 0) -> list[Field]:
    """The fields of an object schema, nested objects opened up to three levels."""
    props, required = _object_parts(_inner(schema))
    return [Field(name, type_of(sub), name in required, words(sub.get("description", "")),
                  fields(sub, depth + 1) if depth < 2 else [])
            for name, sub in props.items()]


@dataclass
class Answer:
    status: str
    description: str
    media_type: str
    type: str
    fields: list[Field]
    codes: list[str]


def _answers(responses: dict[str, Any]) -> list[Answer]:
    out = []
    for status, response in responses.items():
        media_type, content = next(iter(response.get("content", {}).items()), ("", {"schema": {}}))
        schema: Schema = content["schema"]
        codes: list[str] = []
        error = schema.get("properties", {}).get("error", {})
        if "code" in error.get("properties", {}):  # the refusal body (a delivery's own `error` is a text)
            codes = error["properties"]["code"]["enum"]
        out.append(Answer(status, response["description"], media_type, type_of(schema) if media_type else "",
                          [] if codes else fields(schema), codes))
    return out


def operations_by_tag(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """[{name, description, operations: [{method, path, id, summary, description, auth, params, body, answers}]}]"""
    tags: dict[str, dict[str, Any]] = {t["name"]: {**t, "operations": []} for t in doc.get("tags", [])}
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody")
            body_type, body_schema = next(iter(body["content"].items())) if body else ("", {"schema": {}})
            tags.setdefault(op["tags"][0], {"name": op["tags"][0], "operations": []})["operations"].append({
                "method": method.upper(), "path": path, "id": op["operationId"], "summary": op["summary"],
                "description": words(op.get("description", "")),
                "auth": [AUTH_WORDS.get(name, name) for req in op["security"] for name in req],
                "params": [Field(p["name"], type_of(p["schema"]), p["required"], words(p.get("description", "")))
                           for p in op["parameters"]],
                "param_places": {p["name"]: p["in"] for p in op["parameters"]},
                "body": {"type": body_type, "required": body["required"], "fields": fields(body_schema["schema"])}
                if body else None,
                "answers": _answers(op["responses"]),
            })
    return [t for t in tags.values() if t["operations"]]
