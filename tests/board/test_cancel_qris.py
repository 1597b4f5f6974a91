"""Cancelling an unpaid order closes its QRIS attempt at Midtrans first."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Payment
from santap.simulator import Simulator
from tests.fixtures.payments import get_order, order_with_qris


def _cancel_url(order_id: int) -> str:
    return f"/api/v1/admin/orders/{order_id}/cancel"


async def _statuses(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        return [p.status for p in (await session.scalars(select(Payment))).all()]


async def test_cancel_voids_the_pending_qris_at_midtrans(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    await simulator.choose_qris(payment["order_uid"])
    response = await client.post(
        _cancel_url(order["id"]), json={"reason": "customer left"}, headers=cashier_headers
    )
    assert response.status_code == 200, response.text
    assert simulator.transactions[payment["order_uid"]].status == "cancel"
    assert await _statuses(sessionmaker) == ["cancelled"]
    assert (await get_order(client, order))["status"] == "cancelled"


async def test_cancel_finds_the_qris_already_paid_and_refuses(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    simulator.faults.drop_rate = 1.0
    await simulator.pay(payment["order_uid"])
    response = await client.post(
        _cancel_url(order["id"]), json={"reason": "customer left"}, headers=cashier_headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "refund_required"
    # The settlement found on the way is kept: the money is the order's payment.
    assert await _statuses(sessionmaker) == ["paid"]
    assert (await get_order(client, order))["status"] == "paid"
