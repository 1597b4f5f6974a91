"""Per-request id, access log line and HTTP metrics, as a pure ASGI middleware.

Pure ASGI rather than ``BaseHTTPMiddleware``: no extra task per request, streaming bodies are
untouched, and the request id's contextvar is visible to everything the request runs."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from santap.net import Network, client_ip
from santap.observability import metrics
from santap.observability.logging import request_id_var

access_logger = logging.getLogger("santap.access")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Probes and scrapes arrive every few seconds; their access lines are DEBUG to keep logs useful.
_QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[Network] = ()) -> None:
        self.app = app
        self.trusted_proxies = list(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        root_path = scope.get("root_path", "")
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self._record(scope, root_path, status, elapsed)
            request_id_var.reset(token)

    def _record(self, scope: Scope, root_path: str, status: int, elapsed: float) -> None:
        method = scope["method"]
        route = route_template(scope, root_path)
        metrics.observe_request(method, route, status, elapsed)
        access_logger.log(
            logging.DEBUG if route in _QUIET_ROUTES else logging.INFO,
            "%s %s %d",
            method,
            route,
            status,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "client_ip": client_ip(Request(scope), self.trusted_proxies),
            },
        )


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_template(scope: Scope, root_path: str) -> str:
    """The matched route's path template, mount prefixes included; "unmatched" for a 404
    no route claimed. The router records its match in the (shared) scope dict."""
    route: Any = scope.get("route")
    if route is None:
        return metrics.UNMATCHED_ROUTE
    # Each Mount on the way appends its prefix to root_path.
    prefix = str(scope.get("root_path", ""))[len(root_path) :]
    if isinstance(route, Mount):
        return f"{prefix}/{{path}}"
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return f"{prefix}{template}" if template else metrics.UNMATCHED_ROUTE
