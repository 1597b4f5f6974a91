"""Money is never dropped: late settlements, double payments, two instances at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.config import Settings
from santap.models import Notification, OrderStatusHistory, Payment, PaymentStatusHistory
from tests.fixtures.database import another_instance
from tests.fixtures.inbox import applied
from tests.fixtures.payments import get_order, notification, order_with_qris

WEBHOOK = "/api/v1/webhooks/midtrans"
NO_VERIFY = {"MIDTRANS_VERIFY_STATUS": False}
pytestmark = pytest.mark.parametrize("settings_overrides", [NO_VERIFY])


async def _payment(sessionmaker: async_sessionmaker[AsyncSession], uid: str) -> Payment:
    async with sessionmaker() as session:
        payment = await session.scalar(select(Payment).where(Payment.order_uid == uid))
    assert payment is not None
    return payment


async def _expire_and_retry(
    client: httpx.AsyncClient, order: dict[str, object], uid: str
) -> dict[str, object]:
    """The first attempt expires; the customer asks for a fresh QR."""
    assert (await client.post(WEBHOOK, json=notification(uid, "expire", "35000.00"))).is_success
    response = await client.post(
        "/api/v1/payments/qris",
        json={"order_id": order["id"], "amount": order["total_amount"]},
        headers={"X-Order-Token": order["access_token"]},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


async def test_settlement_of_an_expired_attempt_pays_an_unpaid_order(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, first = await order_with_qris(client, demo_menu)
    await client.post(WEBHOOK, json=notification(first["order_uid"], "expire", "35000.00"))
    assert (await _payment(sessionmaker, first["order_uid"])).status == "expired"
    late = await client.post(
        WEBHOOK, json=notification(first["order_uid"], "settlement", "35000.00")
    )
    assert late.json() == {"status": "accepted"}
    payment = await _payment(sessionmaker, first["order_uid"])
    assert (payment.status, payment.needs_refund) == ("paid", False)
    assert (await get_order(client, order))["status"] == "paid"


async def test_a_second_paid_attempt_is_kept_and_flagged_needs_refund(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, first = await order_with_qris(client, demo_menu)
    second = await _expire_and_retry(client, order, first["order_uid"])
    second_uid = str(second["order_uid"])
    await client.post(WEBHOOK, json=notification(second_uid, "settlement", "35000.00"))
    await client.post(WEBHOOK, json=notification(first["order_uid"], "settlement", "35000.00"))

    paid_first = await _payment(sessionmaker, first["order_uid"])
    paid_second = await _payment(sessionmaker, second_uid)
    assert (paid_second.status, paid_second.needs_refund) == ("paid", False)
    assert (paid_first.status, paid_first.needs_refund) == ("paid", True)
    body = await get_order(client, order)
    assert body["status"] == "paid"
    assert [p["status"] for p in body["payments"]] == ["paid", "paid"]


@asynccontextmanager
async def _instance(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app with its own engine and pool, like another process on the same database."""
    async with another_instance(settings) as other:

        async def settle(response: httpx.Response) -> None:
            if response.request.url.path == WEBHOOK and response.is_success:
                await applied(other)  # its own applier, like the other process's

        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", event_hooks={"response": [settle]}
        ) as http:
            yield http


async def test_two_instances_receiving_one_notification_make_one_transition(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], "settlement", "35000.00")
    async with _instance(settings) as first, _instance(settings) as second:
        responses = await asyncio.gather(
            *(http.post(WEBHOOK, json=body) for http in (first, second) * 3)
        )
    assert [r.status_code for r in responses] == [200] * 6
    assert sorted(r.json()["status"] for r in responses) == ["accepted"] + ["duplicate"] * 5
    async with sessionmaker() as session:
        history = await session.scalar(select(func.count()).select_from(PaymentStatusHistory))
    assert history == 3  # creating, pending, paid
    assert (await get_order(client, order))["status"] == "paid"


async def test_differing_copies_of_one_settlement_at_once_make_one_transition(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Copies that differ in an unsigned field have different inbox keys, so the inbox does not
    serialize them: the row locks on the order and the payment must."""
    order, payment = await order_with_qris(client, demo_menu)
    bodies = [
        notification(payment["order_uid"], "settlement", "35000.00", status_message=f"copy {n}")
        for n in range(6)
    ]
    async with _instance(settings) as first, _instance(settings) as second:
        responses = await asyncio.gather(
            *(
                http.post(WEBHOOK, json=body)
                for http, body in zip([first, second] * 3, bodies, strict=True)
            )
        )
    assert [r.json()["status"] for r in responses] == ["accepted"] * 6
    async with sessionmaker() as session:
        outcomes = (await session.scalars(select(Notification.outcome))).all()
        assert sorted(outcomes) == ["applied"] + ["no_change"] * 5
        payment_changes = await session.scalar(
            select(func.count()).select_from(PaymentStatusHistory)
        )
        order_changes = await session.scalar(select(func.count()).select_from(OrderStatusHistory))
    # creating + pending + paid, placed + paid
    assert (payment_changes, order_changes) == (3, 2)
    assert (await get_order(client, order))["status"] == "paid"


async def test_two_instances_settling_two_attempts_of_one_order_pay_it_once(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, first = await order_with_qris(client, demo_menu)
    second = await _expire_and_retry(client, order, first["order_uid"])
    uids = [first["order_uid"], str(second["order_uid"])]
    async with _instance(settings) as one, _instance(settings) as two:
        await asyncio.gather(
            one.post(WEBHOOK, json=notification(uids[0], "settlement", "35000.00")),
            two.post(WEBHOOK, json=notification(uids[1], "settlement", "35000.00")),
        )
    payments = [await _payment(sessionmaker, uid) for uid in uids]
    assert [p.status for p in payments] == ["paid", "paid"]
    assert sorted(p.needs_refund for p in payments) == [False, True]
    body = await get_order(client, order)
    assert body["status"] == "paid"
