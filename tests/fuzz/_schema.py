"""The OpenAPI document under fuzz and how schemathesis is told to fuzz it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import schemathesis
from schemathesis.filters import HasAPIOperation

from santap.main import create_app
from tests.fixtures.database import make_settings

SEED = 20261126
MAX_EXAMPLES = {"positive": 30, "negative": 20}

# Mixed into generated values: what breaks a PostgreSQL-backed app (NUL in text, integers
# past BIGINT) and what trips naive text handling.
HOSTILE_VALUES: dict[str, list[Any]] = {
    "string": [
        "\x00",
        "nasi\x00goreng",
        "🍜 Mie Ayam",
        "Ｚ\u200b\u202e",
        "' OR 1=1 --",
        "%00",
        " ",
    ],
    "integer": [2**63, 2**63 - 1, -(2**63) - 1, 2**53 + 1, 2**31, 0, -1],
}
HOSTILE_PROBABILITY = 0.25

# Only what is asked of every operation: no 5xx, and every answer as documented (status code,
# content type, headers, body schema). Schemathesis' other checks judge design choices (such
# as accepting unknown JSON fields) rather than find bugs.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def load_schema(mode: Literal["positive", "negative"]) -> schemathesis.BaseSchema:
    """Positive: schemathesis' boundary-value coverage, then valid requests carrying hostile
    values. Negative: malformed requests only (wrong types, broken bodies), to reach past
    validation into the error paths. Separate runs, so neither crowds out the other.

    The document does not depend on the database, so it is read from an app never started;
    the started app, on the test database, is handed to each call."""
    document = create_app(make_settings("sqlite://")).openapi()
    config = fuzz_config(document, mode)
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config.from_dict(config))
    # An event stream's 200 never ends, and the in-memory transport waits for a whole body;
    # the streams' answers, refusals included, are tested over a socket in tests/events.
    schema = schema.exclude(tag="live updates")
    # Nothing to malform in an operation without parameters or body.
    return schema if mode == "positive" else schema.exclude(func=_takes_no_input)


def _takes_no_input(ctx: HasAPIOperation) -> bool:
    definition = ctx.operation.definition.raw
    return not (definition.get("parameters") or definition.get("requestBody"))


def fuzz_config(document: dict[str, Any], mode: Literal["positive", "negative"]) -> dict[str, Any]:
    type_bindings = {
        kind: {"dictionary": f"hostile-{kind}", "probability": HOSTILE_PROBABILITY}
        for kind in HOSTILE_VALUES
    }
    return {
        "seed": SEED,
        "dictionaries": {f"hostile-{kind}": {"values": v} for kind, v in HOSTILE_VALUES.items()},
        "generation": {
            "mode": mode,
            "max-examples": MAX_EXAMPLES[mode],
            "deterministic": True,
            "database": "none",
            # Path, query and header parameters by type; body fields need a binding each.
            "dictionaries": type_bindings,
        },
        "parameters": {
            f"body.{path}": type_bindings[kind]
            for path, kind in _body_leaves(document)
            if kind in type_bindings
        },
        # Boundary values, valid and not, once: with the positive run.
        "phases": {"coverage": {"enabled": mode == "positive", "generation": {"mode": "all"}}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    }


def _body_leaves(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, type) of every scalar field of every JSON request body, as ``items[*].note``."""
    for operations in document["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                yield from _leaves(content["application/json"]["schema"], document, "")


def _leaves(
    schema: dict[str, Any], document: dict[str, Any], path: str
) -> Iterator[tuple[str, str]]:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    for option in schema.get("anyOf", ()):
        yield from _leaves(option, document, path)
    kind = schema.get("type")
    if kind == "object":
        for name, field in schema.get("properties", {}).items():
            yield from _leaves(field, document, f"{path}.{name}" if path else name)
    elif kind == "array" and path:
        yield from _leaves(schema.get("items", {}), document, f"{path}[*]")
    elif kind is not None and path:
        yield path, kind
