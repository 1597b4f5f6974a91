from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Notification, OrderStatusHistory, PaymentStatusHistory
from santap.simulator import Simulator
from tests.fixtures.payments import get_order, order_with_qris


async def test_order_to_paid_through_a_simulator_notification(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await order_with_qris(client, demo_menu, quantity=2)
    assert payment["status"] == "pending"
    assert payment["amount"] == 70000
    assert payment["qris_url"].startswith("http://testserver/_simulator/")
    assert (await get_order(client, order))["payment_status"] == "pending"

    await simulator.pay(payment["order_uid"])
    await simulator.drain()

    paid = await get_order(client, order)
    assert paid["status"] == "paid"
    assert paid["payment_status"] == "paid"
    assert paid["payments"][0]["status"] == "paid"
    polled = (await client.get(f"/api/v1/payments/{payment['order_uid']}")).json()
    assert polled["status"] == "paid"
    assert polled["paid_at"] is not None
    async with sessionmaker() as session:
        order_history = (await session.scalars(select(OrderStatusHistory))).all()
        payment_history = (await session.scalars(select(PaymentStatusHistory))).all()
        inbox = (await session.scalars(select(Notification))).all()
    assert [(h.from_status, h.to_status) for h in order_history] == [
        (None, "pending_payment"),
        ("pending_payment", "paid"),
    ]
    assert [(h.from_status, h.to_status, h.actor) for h in payment_history] == [
        (None, "creating", "customer"),
        ("creating", "pending", "customer"),
        ("pending", "paid", "midtrans"),
    ]
    assert all(n.signature_valid and n.applied_at is not None for n in inbox)
    assert {n.transaction_status for n in inbox} == {"pending", "settlement"}
