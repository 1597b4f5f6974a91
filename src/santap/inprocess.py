"""An httpx transport into an ASGI app that still honours httpx read timeouts.

httpx's ASGITransport ignores timeouts (they live in the network backend), so an in-process
simulator that is slow would never time out, unlike the real network."""

from __future__ import annotations

import asyncio

import httpx


class InProcessTransport(httpx.ASGITransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        read_timeout = timeouts.get("read")
        try:
            async with asyncio.timeout(read_timeout):
                return await super().handle_async_request(request)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("in-process request timed out", request=request) from exc
