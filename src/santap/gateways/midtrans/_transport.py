"""The HTTP transport under the client's ``httpx.AsyncClient``: aiohttp, through httpx-aiohttp.

httpx keeps the API (auth, timeouts, typed errors, ``MockTransport`` in tests); aiohttp moves the
bytes. httpx's own transport (httpcore on anyio) costs about 1 ms of CPU per call and more with
every pooled connection (encode/httpx#3215); aiohttp's costs a fraction of that, which is what
``bench/gateway.py`` measures. httpx-aiohttp is maintained by one of httpx's maintainers.
"""

from __future__ import annotations

import asyncio

import httpx
from httpx_aiohttp import AiohttpTransport


class MidtransTransport(AiohttpTransport):
    """``AiohttpTransport`` with one correction to its error mapping.

    httpx-aiohttp maps every ``aiohttp.ClientConnectionError`` to ``httpx.ConnectTimeout``, so a
    refused connection or a server that hangs up would read as a timeout (504). Only a real
    timeout stays one here; anything else is a ``ConnectError`` (502), as with httpcore.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as exc:
            if isinstance(exc.__cause__, asyncio.TimeoutError):
                raise
            raise httpx.ConnectError(str(exc), request=request) from exc.__cause__


def default_transport(
    *, max_connections: int, proxy_url: str | None = None
) -> httpx.AsyncBaseTransport:
    """``proxy_url`` is explicit: a custom transport makes httpx ignore ``HTTPS_PROXY``."""
    return MidtransTransport(
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        proxy=httpx.Proxy(proxy_url) if proxy_url else None,
    )
