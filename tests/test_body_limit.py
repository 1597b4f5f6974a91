"""Request bodies over their route's limit are refused with 413 while they are read: through
the app for the answers, and against a real ``santap serve`` for memory and connections."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.payments.endpoints import MAX_NOTIFICATION_BYTES
from tests.fixtures.factories import create_menu_item
from tests.fixtures.payments import notification, order_with_qris
from tests.fixtures.server import served

ORDERS = "/api/v1/orders"
WEBHOOK = "/api/v1/webhooks/midtrans"
JSON = {"content-type": "application/json"}
DEFAULT_LIMIT = 1024 * 1024
CHUNK = 64 * 1024


class Pulled:
    """A request body of ``total`` bytes in ``CHUNK``s, counting the chunks the app pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.chunks = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.total:
            piece = b" " * min(CHUNK, self.total - sent)
            self.chunks += 1
            sent += len(piece)
            yield piece


def assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.json() == {
        "error": {
            "code": "payload_too_large",
            "message": f"Request body is larger than {limit} bytes",
            "details": {"max_bytes": limit},
        }
    }
    assert response.headers["connection"] == "close"


def padded(value: Any, size: int) -> bytes:
    """``value`` as JSON, padded with whitespace to exactly ``size`` bytes."""
    raw = json.dumps(value).encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


async def order_body(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    item = await create_menu_item(sessionmaker)
    return {"items": [{"menu_item_id": item.id, "quantity": 1}]}


@pytest.mark.parametrize(("path", "limit"), [(ORDERS, DEFAULT_LIMIT), (WEBHOOK, 64 * 1024)])
async def test_a_content_length_over_the_limit_is_answered_413_before_any_of_it_is_read(
    client: httpx.AsyncClient, path: str, limit: int
) -> None:
    body = Pulled(150 * 1024 * 1024)
    headers = {**JSON, "content-length": str(body.total)}
    response = await client.post(path, content=body, headers=headers)
    assert_too_large(response, limit)
    assert body.chunks == 0


@pytest.mark.parametrize(("path", "limit"), [(ORDERS, DEFAULT_LIMIT), (WEBHOOK, 64 * 1024)])
async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(
    client: httpx.AsyncClient, path: str, limit: int
) -> None:
    body = Pulled(8 * 1024 * 1024)
    response = await client.post(path, content=body, headers=JSON)  # no length: chunked
    assert_too_large(response, limit)
    assert body.chunks == limit // CHUNK + 1  # the chunk that passed the limit, no further


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_of_exactly_the_limit_is_accepted_and_one_byte_more_is_not(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], chunked: bool
) -> None:
    order = await order_body(sessionmaker)

    async def post(size: int) -> httpx.Response:
        raw = padded(order, size)
        return await client.post(ORDERS, content=_stream(raw) if chunked else raw, headers=JSON)

    assert (await post(DEFAULT_LIMIT)).status_code == 201
    assert_too_large(await post(DEFAULT_LIMIT + 1), DEFAULT_LIMIT)


async def test_the_webhook_has_its_own_smaller_limit(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    assert MAX_NOTIFICATION_BYTES == 64 * 1024
    order, payment = await order_with_qris(client, demo_menu)
    signed = notification(payment["order_uid"], "pending", f"{order['total_amount']}.00")
    at_limit = await client.post(
        WEBHOOK, content=padded(signed, MAX_NOTIFICATION_BYTES), headers=JSON
    )
    assert at_limit.status_code == 200, at_limit.text
    over = padded(signed, 100 * 1024)
    assert_too_large(await client.post(WEBHOOK, content=over, headers=JSON), 64 * 1024)
    # The same size is fine for the JSON API.
    another = {"items": [{"menu_item_id": demo_menu["Nasi Goreng Spesial"], "quantity": 1}]}
    accepted = await client.post(ORDERS, content=padded(another, 100 * 1024), headers=JSON)
    assert accepted.status_code == 201


@pytest.mark.parametrize("settings_overrides", [{"SANTAP_MAX_BODY_BYTES": 4096}])
async def test_the_limit_is_configurable(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    order = await order_body(sessionmaker)
    assert (await client.post(ORDERS, content=padded(order, 4096), headers=JSON)).status_code == 201
    assert_too_large(await client.post(ORDERS, content=padded(order, 4097), headers=JSON), 4096)
    chunked = _stream(padded(order, 5000))
    assert_too_large(await client.post(ORDERS, content=chunked, headers=JSON), 4096)


async def _stream(raw: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(raw), CHUNK):
        yield raw[start : start + CHUNK]


# --- against a real server -------------------------------------------------------------------

HUGE = 150 * 1024 * 1024
RSS_GROWTH_MB = 30


@dataclass(frozen=True)
class Outcome:
    answer: bytes
    sent: int
    closed: bool

    @property
    def status(self) -> int:
        return int(self.answer.split(b" ", 2)[1]) if self.answer else 0

    @property
    def json(self) -> Any:
        return json.loads(self.answer.partition(b"\r\n\r\n")[2])


def test_santap_serve_refuses_huge_bodies_without_buffering_them(tmp_path: Path) -> None:
    """Eight concurrent 150 MB bodies (chunked and with a Content-Length, to the orders API
    and the webhook): each gets a 413 and a closed connection, and the server's memory stays
    flat. Without a limit, three such bodies took it from about 100 MB to over 1 GB."""
    with served(tmp_path) as server:
        port = server.port
        for path in (ORDERS, WEBHOOK):  # warm both routes and the 413 path
            assert _send(port, path, chunked=True, total=2 * DEFAULT_LIMIT).status == 413
        before = server.rss_kb()
        requests = [(path, True) for path in (ORDERS, WEBHOOK) for _ in range(3)]
        requests += [(ORDERS, False), (WEBHOOK, False)]
        peak = before
        with ThreadPoolExecutor(len(requests)) as pool:
            futures = [
                pool.submit(_send, port, path, chunked=chunked, total=HUGE)
                for path, chunked in requests
            ]
            while not all(future.done() for future in futures):
                peak = max(peak, server.rss_kb())
                time.sleep(0.005)
            outcomes = [future.result() for future in futures]
        peak = max(peak, server.rss_kb())
    for outcome in outcomes:
        assert outcome.status == 413
        assert outcome.json["error"]["code"] == "payload_too_large"
        assert outcome.closed
        assert outcome.sent < HUGE // 5  # the server stopped reading long before the end
    growth_mb = (peak - before) / 1024
    assert growth_mb < RSS_GROWTH_MB, f"RSS {before // 1024} MB, peak {peak // 1024} MB"


def _send(port: int, path: str, *, chunked: bool, total: int) -> Outcome:
    """POST ``total`` bytes over a raw socket, as fast as the server takes them, until it
    closes the connection; then read its answer, waiting a little for the close."""
    length = "transfer-encoding: chunked" if chunked else f"content-length: {total}"
    head = f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
    piece = b" " * CHUNK
    frame = b"%x\r\n%s\r\n" % (CHUNK, piece) if chunked else piece
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"{head}{length}\r\n\r\n".encode())
        try:
            while sent < total:
                sock.sendall(frame)
                sent += CHUNK
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer, closed = _read_until_closed(sock)
    return Outcome(answer=answer, sent=sent, closed=closed)


def _read_until_closed(sock: socket.socket) -> tuple[bytes, bool]:
    received = b""
    try:
        while data := sock.recv(65536):
            received += data
    except ConnectionResetError:
        pass  # closed with our unread bytes still queued: a reset, after the answer
    except TimeoutError:
        return received, False
    return received, True
