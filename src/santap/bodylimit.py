"""Request body size limits, enforced while the body is read, as a pure ASGI middleware.

A too-large ``Content-Length`` is answered 413 at once, without calling the app; a chunked
body is counted as it arrives, and the read fails with 413 as soon as the count passes the
limit, so no more than about the limit is ever held in memory. The 413 says ``Connection:
close``: the server then closes the connection instead of reading (and discarding) the rest.

Why not Starlette's and FastAPI's own ``max_body_size`` (app and route option, Starlette 1.x):
it answers a too-large ``Content-Length`` in plain text, outside the one JSON error shape,
and its 413 keeps the connection open, so uvicorn goes on reading a 150 MB body to the end."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from santap.config import Settings
from santap.errors import error_response
from santap.payments.endpoints import MAX_NOTIFICATION_BYTES

# Routes with their own limit; every other route has ``Settings.max_body_bytes``.
NOTIFICATION_PATH = "/api/v1/webhooks/midtrans"


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive``. An ``HTTPException`` because FastAPI's body reading re-raises
    those and turns any other exception into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body is larger than {limit} bytes")
        self.limit = limit


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, default_limit: int, route_limits: Mapping[str, int]
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.route_limits = dict(route_limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.route_limits.get(_route_path(scope), self.default_limit)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await too_large_response(limit)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


def too_large_response(limit: int) -> JSONResponse:
    return error_response(
        413,
        "payload_too_large",
        f"Request body is larger than {limit} bytes",
        details={"max_bytes": limit},
        headers={"Connection": "close"},
    )


async def _body_too_large(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    return too_large_response(exc.limit)


def install_body_limit(app: FastAPI, settings: Settings) -> None:
    """Limit every request body: the Midtrans webhook to ``MAX_NOTIFICATION_BYTES``, the rest
    to ``SANTAP_MAX_BODY_BYTES``."""
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.max_body_bytes,
        route_limits={NOTIFICATION_PATH: MAX_NOTIFICATION_BYTES},
    )
    app.add_exception_handler(BodyTooLarge, _body_too_large)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    return path[len(root_path) :] if root_path and path.startswith(root_path) else path


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses it; if not, the body is counted as it comes
    return None
