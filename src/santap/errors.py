"""Errors that carry their own status code, and the one JSON error shape."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

logger = logging.getLogger(__name__)


class SantapError(Exception):
    status_code = 400
    code = "bad_request"
    keeps_changes = False

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers
        if code is not None:
            self.code = code


class NotFound(SantapError):
    status_code = 404
    code = "not_found"


class Conflict(SantapError):
    status_code = 409
    code = "conflict"


class Unprocessable(SantapError):
    status_code = 422
    code = "validation_error"


class Unauthorized(SantapError):
    status_code = 401
    code = "unauthorized"


class Forbidden(SantapError):
    status_code = 403
    code = "forbidden"


class TooManyRequests(SantapError):
    status_code = 429
    code = "too_many_requests"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, details), status_code=status_code, headers=headers
    )


async def _santap_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SantapError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


# Pydantic names the members of a ``Literal[SomeEnum.X, ...]`` by their repr
# (``<OrderStatus.READY: 'ready'>``); clients send and read the values.
_ENUM_REPR = re.compile(r"""<(?:\w+\.)+\w+: ('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+)>""")


def readable(message: str) -> str:
    """A validation message with enum members shown as their values."""
    return _ENUM_REPR.sub(r"\1", message)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [_detail(request, err) for err in exc.errors()]
    body_problems = [d["message"] for d in details if d["field"] == "body"]
    others = [d["field"] for d in details if d["field"] != "body"]
    message = "; ".join(body_problems)
    if others:
        message += ("; also invalid: " if message else "Invalid request: ") + ", ".join(others)
    return error_response(422, "validation_error", message, details)


def _detail(request: Request, err: Mapping[str, Any]) -> dict[str, str]:
    loc = tuple(err.get("loc", ()))
    kind = str(err.get("type", ""))
    message = readable(str(err.get("msg", "")))
    if loc == ("body",):
        # The body as a whole is missing or not an object: say what it must hold.
        message = _body_message(request, missing=kind == "missing")
    return {"field": ".".join(str(part) for part in loc), "message": message, "type": kind}


def _body_message(request: Request, *, missing: bool) -> str:
    fields = _required_body_fields(request)
    if missing:
        if not fields:
            return "A JSON object body is required"
        return f"A JSON body with {_named(fields)} is required"
    if not fields:
        return "The body must be a JSON object"
    return f"The body must be a JSON object with {_named(fields)}"


def _named(fields: Sequence[str]) -> str:
    quoted = [f"'{name}'" for name in fields]
    if len(quoted) == 1:
        return f"the field {quoted[0]}"
    return f"the fields {', '.join(quoted[:-1])} and {quoted[-1]}"


def _required_body_fields(request: Request) -> list[str]:
    """The required top-level fields of the route's JSON body, by the names clients send."""
    route = request.scope.get("route")
    body_field = route.body_field if isinstance(route, APIRoute) else None
    model = body_field.field_info.annotation if body_field is not None else None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return [
        field.validation_alias if isinstance(field.validation_alias, str) else field.alias or name
        for name, field in model.model_fields.items()
        if field.is_required()
    ]


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SantapError, _santap_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled_error)


def document_undecodable_body(routes: Sequence[BaseRoute]) -> None:
    """FastAPI answers 400 before any endpoint runs when a JSON body is not even UTF-8 (bad
    JSON is its 422); document it on every operation that takes a body, as it does the 422."""
    for route in routes:
        if isinstance(route, APIRoute) and route.body_field is not None:
            route.responses.setdefault(400, {"description": "Body is not UTF-8 JSON"})
