"""Requests that wait on Midtrans inside their transaction (cancel, refund) cannot take the
whole pool."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Order
from tests.fixtures.factories import place_order
from tests.fixtures.payments import HeldMidtrans, order_with_qris


async def _order(client: httpx.AsyncClient, demo_menu: dict[str, int]) -> dict[str, Any]:
    return await place_order(client, [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 2}])


def _cancel(
    client: httpx.AsyncClient, order: dict[str, Any], headers: dict[str, str]
) -> asyncio.Task[httpx.Response]:
    url = f"/api/v1/admin/orders/{order['id']}/cancel"
    body = {"reason": "customer left"}
    return asyncio.create_task(client.post(url, json=body, headers=headers))


@pytest.fixture
def held_cancel(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldMidtrans]:
    """Cancelling an order with an open QRIS attempt cancels it at Midtrans first, inside its
    transaction: that cancel waits until released."""
    held = HeldMidtrans(app, monkeypatch, method="cancel")
    yield held
    held.release.set()


async def _slow_cancel(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    headers: dict[str, str],
    held: HeldMidtrans,
) -> tuple[dict[str, Any], asyncio.Task[httpx.Response]]:
    order, _ = await order_with_qris(client, demo_menu)
    slow = _cancel(client, order, headers)
    await held.entered.wait()  # inside Midtrans, holding its slot
    return order, slow


def _slots_in_use(metrics: httpx.Response) -> float:
    line = next(x for x in metrics.text.splitlines() if x.startswith("santap_gateway_slots_in_use"))
    return float(line.split()[-1])


def _checked_out(app: FastAPI) -> int:
    return int(app.state.engine.pool.checkedout())


@pytest.mark.parametrize("settings_overrides", [{"SANTAP_GATEWAY_SLOTS": 1}])
async def test_a_request_waiting_for_a_slot_holds_no_connection(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    held_cancel: HeldMidtrans,
) -> None:
    second = await _order(client, demo_menu)
    first, slow = await _slow_cancel(client, demo_menu, cashier_headers, held_cancel)
    queued = _cancel(client, second, cashier_headers)
    await asyncio.sleep(0.5)  # without slots it would pay (PostgreSQL) or wait on SQLite's lock
    assert not queued.done()
    assert _checked_out(app) == 1, "the queued request must not hold a connection"
    assert _slots_in_use(await client.get("/metrics")) == 1.0

    held_cancel.release.set()
    assert (await slow).status_code == 200
    cancelled = await queued
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert _slots_in_use(await client.get("/metrics")) == 0.0


@pytest.mark.parametrize(
    "settings_overrides", [{"SANTAP_GATEWAY_SLOTS": 1, "SANTAP_GATEWAY_SLOT_WAIT_S": 0.2}]
)
async def test_no_slot_in_time_is_a_503_that_changes_nothing(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
    held_cancel: HeldMidtrans,
) -> None:
    second = await _order(client, demo_menu)
    first, slow = await _slow_cancel(client, demo_menu, cashier_headers, held_cancel)
    refused = await _cancel(client, second, cashier_headers)
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "payment_gateway_busy"
    assert refused.headers["retry-after"] == "5"
    held_cancel.release.set()
    assert (await slow).status_code == 200
    async with sessionmaker() as session:
        assert await session.scalar(select(Order.status).where(Order.id == second["id"])) == (
            "pending_payment"
        )
    retried = await _cancel(client, second, cashier_headers)
    assert retried.status_code == 200
