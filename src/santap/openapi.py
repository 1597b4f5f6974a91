"""The OpenAPI document tells the truth about errors: every 4xx and 5xx answer of every
operation has the one error shape (``santap.errors``), including the 422 of validation, where
FastAPI would document its own ``HTTPValidationError`` that this app never sends."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

REF = "#/components/schemas/ErrorResponse"
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """The one error shape: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail


def install_error_documentation(app: FastAPI) -> None:
    build = app.openapi  # FastAPI's own: builds the document once and caches it on the app

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_error_shape(build())  # the cached dict, fixed in place once
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_error_shape(schema: dict[str, Any]) -> None:
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                if status[:1] in ("4", "5"):
                    response["content"] = {"application/json": {"schema": {"$ref": REF}}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_ERRORS:
        components.pop(name, None)
    definitions = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(definitions.pop("$defs", {}))
    components["ErrorResponse"] = definitions
