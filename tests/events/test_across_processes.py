"""On PostgreSQL a stream held by one process hears of changes another process made."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from santap.config import Settings
from santap.simulator import Simulator
from tests.fixtures.database import another_instance, kill_listeners
from tests.fixtures.live import serving, stream
from tests.fixtures.payments import order_with_qris

pytestmark = pytest.mark.postgresql_only


@asynccontextmanager
async def _process_b(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Another process on the same database, serving HTTP; it applies no notifications, so
    whatever it streams was applied by the test's own app."""
    async with (
        another_instance(settings, SANTAP_APPLIER=False) as other,
        serving(other) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
    ):
        yield http


def _path(order: dict[str, Any]) -> str:
    return f"/api/v1/orders/{order['id']}/events"


async def test_a_stream_on_b_receives_a_payment_applied_on_a(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    settings: Settings,
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    async with (
        _process_b(settings) as b,
        stream(b, _path(order), params={"access_token": order["access_token"]}) as source,
    ):
        await source.take(1)
        await simulator.pay(payment["order_uid"])
        paid = await source.take(2, within=5)
    assert sorted((e.event, json.loads(e.data)["status"]) for e in paid) == [
        ("order_status", "paid"),
        ("payment_status", "paid"),
    ]


async def test_killing_the_listener_connection_loses_no_event(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    settings: Settings,
    app: FastAPI,
) -> None:
    order, _ = await order_with_qris(client, demo_menu)
    async with (
        _process_b(settings) as b,
        stream(b, "/api/v1/staff/events", headers=cashier_headers) as source,
    ):
        await source.take(1)
        killed = await kill_listeners(app.state.engine)
        assert killed == 2  # A's and B's: whatever B hears now, it hears by catching up
        cancelled = await client.post(
            f"/api/v1/admin/orders/{order['id']}/cancel",
            json={"reason": "customer left"},
            headers=cashier_headers,
        )
        assert cancelled.status_code == 200
        seen = await source.take(2, within=10)
        await source.nothing_more()
    assert sorted((e.event, json.loads(e.data)["status"]) for e in seen) == [
        ("order_status", "cancelled"),
        ("payment_status", "cancelled"),
    ]
