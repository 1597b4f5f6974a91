from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Notification, Payment
from santap.models.base import utcnow
from santap.payments.reconcile import reconcile_once
from santap.simulator import Simulator
from tests.fixtures.inbox import retry_now
from tests.fixtures.payments import (
    get_order,
    notification,
    order_with_qris,
    pay_with_notifications_lost,
)

NOW = timedelta(0)


async def _reconcile(app: FastAPI) -> dict[str, int]:
    result = await reconcile_once(
        app.state.sessionmaker,
        app.state.payment_gateway,
        pending_min_age=NOW,
    )
    return result.outcomes


async def _status(sessionmaker: async_sessionmaker[AsyncSession], uid: str) -> str:
    async with sessionmaker() as session:
        payment = await session.scalar(select(Payment).where(Payment.order_uid == uid))
    assert payment is not None
    return payment.status


@pytest.mark.parametrize(
    ("action", "expected_payment", "expected_order"),
    [
        ("pay", "paid", "paid"),
        ("expire_transaction", "expired", "pending_payment"),
        ("cancel_transaction", "cancelled", "pending_payment"),
    ],
)
async def test_lost_notifications_are_recovered_by_reconciliation(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
    action: str,
    expected_payment: str,
    expected_order: str,
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    uid = payment["order_uid"]
    simulator.faults.drop_rate = 1.0
    if action != "pay":
        await simulator.choose_qris(uid)
    await getattr(simulator, action)(uid)
    await simulator.drain()
    assert await _status(sessionmaker, uid) == "pending"

    assert await _reconcile(app) == {"applied": 1}
    assert await _status(sessionmaker, uid) == expected_payment
    assert (await get_order(client, order))["status"] == expected_order
    assert await _reconcile(app) == {}  # nothing pending is left to ask about


async def test_reconciliation_leaves_young_attempts_alone(
    app: FastAPI, client: httpx.AsyncClient, demo_menu: dict[str, int], simulator: Simulator
) -> None:
    _, payment = await order_with_qris(client, demo_menu)
    simulator.faults.drop_rate = 1.0
    await simulator.pay(payment["order_uid"])
    result = await reconcile_once(app.state.sessionmaker, app.state.payment_gateway)
    assert result.checked == 0


async def test_unopened_snap_attempt_expires_locally_only_after_its_expiry(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, payment = await order_with_qris(client, demo_menu)
    uid = payment["order_uid"]
    assert await _reconcile(app) == {"not_chosen_yet": 1}
    assert await _status(sessionmaker, uid) == "pending"
    async with sessionmaker() as session:
        await session.execute(
            update(Payment).where(Payment.order_uid == uid).values(expires_at=utcnow())
        )
        await session.commit()
    assert await _reconcile(app) == {"expired_unopened": 1}
    assert await _status(sessionmaker, uid) == "expired"


async def test_one_unreadable_inbox_row_does_not_stop_the_rest(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Rows are taken oldest first, so a row that fails every time would otherwise stop every
    run before the notifications behind it."""
    async with sessionmaker() as session:
        session.add(
            Notification(
                dedupe_key="poison",
                order_uid="SNTP-1-x",
                transaction_status="settlement",
                raw_body="{not json",
                signature_valid=True,
                outcome="retry",
                received_at=utcnow() - timedelta(minutes=10),
            )
        )
        await session.commit()
    order, payment = await order_with_qris(client, demo_menu)
    await pay_with_notifications_lost(simulator, payment["order_uid"])
    simulator.faults.error_rate = 1.0  # the status check fails: the delivery is queued
    bom = (
        b"\xef\xbb\xbf"
        + json.dumps(notification(payment["order_uid"], "settlement", "35000.00")).encode()
    )
    queued = await client.post(
        "/api/v1/webhooks/midtrans", content=bom, headers={"content-type": "application/json"}
    )
    assert queued.json() == {"status": "accepted"}

    simulator.faults.error_rate = 0.0
    await retry_now(app, sessionmaker)  # the unreadable row comes first
    assert (await get_order(client, order))["status"] == "paid"
    async with sessionmaker() as session:
        outcomes = (
            await session.scalars(select(Notification.outcome).order_by(Notification.id))
        ).all()
    assert outcomes == ["unreadable", "applied"]


async def test_a_body_that_is_not_utf8_is_refused_not_stored(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = json.dumps(notification("SNTP-1-x", "settlement", "1.00")).encode("utf-16")
    response = await client.post(
        "/api/v1/webhooks/midtrans", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    async with sessionmaker() as session:
        assert (await session.scalars(select(Notification))).all() == []


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {"SANTAP_RECONCILE_INTERVAL_S": 0.2, "SANTAP_RECONCILE_MIN_AGE_S": 0},
        {"SANTAP_RECONCILE_INTERVAL_S": 0, "SANTAP_RECONCILE_MIN_AGE_S": 0},
    ],
    ids=["every-0.2s", "disabled"],
)
async def test_the_service_reconciles_on_its_own_unless_disabled(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    settings_overrides: dict[str, float],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    await pay_with_notifications_lost(simulator, payment["order_uid"])
    status = "pending_payment"
    for _ in range(15):  # 1.5 s: several passes of the 0.2 s reconciler
        await asyncio.sleep(0.1)
        status = (await get_order(client, order))["status"]
        if status == "paid":
            break
    enabled = settings_overrides["SANTAP_RECONCILE_INTERVAL_S"] > 0
    assert status == ("paid" if enabled else "pending_payment")
