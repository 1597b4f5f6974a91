"""MidtransClient over its real transport (aiohttp) against tiny local TCP servers."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from pydantic import SecretStr

from santap.config import Settings
from santap.gateways.midtrans import MidtransClient, MidtransTimeout, MidtransUnavailable

KEY = "SB-Mid-server-TRANSPORTKEY"
STATUS_BODY = {
    "status_code": "200",
    "transaction_status": "settlement",
    "order_id": "O-1",
    "gross_amount": "10000.00",
    "transaction_id": "t-1",
}

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return head[0], headers


def assert_unavailable_not_timeout(error: MidtransUnavailable) -> None:
    """A 502 (Midtrans unreachable), not a 504, and nothing of the server key in it."""
    assert not isinstance(error, MidtransTimeout)
    assert error.http_status == 502
    assert KEY not in str(error)
    assert KEY not in repr(error)


def client_for(base: str, *, read_timeout: float = 5.0) -> MidtransClient:
    return MidtransClient(
        server_key=KEY,
        snap_base_url=base,
        core_base_url=base,
        read_timeout=read_timeout,
        connect_timeout=1.0,
        max_retries=0,
    )


async def test_real_exchange_sends_auth_and_reuses_the_connection() -> None:
    seen: list[tuple[str, dict[str, str]]] = []
    connections = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        body = json.dumps(STATUS_BODY).encode()
        while not reader.at_eof():
            try:
                seen.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                break
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()

    async with serve(answer) as base, client_for(base) as client:
        first = await client.get_status("O-1")
        second = await client.get_status("O-1")
    assert first.transaction_status == second.transaction_status == "settlement"
    assert [line for line, _ in seen] == ["GET /v2/O-1/status HTTP/1.1"] * 2
    headers = seen[0][1]
    assert headers["authorization"] == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert headers["accept"] == "application/json"
    assert connections == 1, "the second call should reuse the pooled keep-alive connection"


async def test_refused_connection_is_unavailable_not_timeout() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused
        async with client_for(f"http://127.0.0.1:{port}") as client:
            with pytest.raises(MidtransUnavailable) as caught:
                await client.get_status("O-1")
    assert_unavailable_not_timeout(caught.value)


async def test_server_hanging_up_is_unavailable_not_timeout() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async with serve(hang_up) as base, client_for(base) as client:
        with pytest.raises(MidtransUnavailable) as caught:
            await client.get_status("O-1")
    assert_unavailable_not_timeout(caught.value)


async def test_silent_server_is_a_read_timeout() -> None:
    release = asyncio.Event()

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await release.wait()
        writer.close()

    async with serve(stall) as base, client_for(base, read_timeout=0.2) as client:
        with pytest.raises(MidtransTimeout) as caught:
            await client.get_status("O-1")
        release.set()
    assert caught.value.http_status == 504


async def test_calls_go_through_the_configured_proxy() -> None:
    """MIDTRANS_PROXY_URL: the request reaches the proxy in absolute form, auth included."""
    seen: list[tuple[str, dict[str, str]]] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        body = json.dumps(STATUS_BODY).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    async with serve(proxy) as proxy_url:
        settings.midtrans_proxy_url = SecretStr(proxy_url)
        client = MidtransClient.from_settings(
            settings, server_key=KEY, core_base_url="http://core.midtrans.invalid"
        )
        async with client:
            status = await client.get_status("O-1")
    assert status.transaction_status == "settlement"
    [(line, headers)] = seen
    assert line == "GET http://core.midtrans.invalid/v2/O-1/status HTTP/1.1"
    assert headers["authorization"].startswith("Basic ")
