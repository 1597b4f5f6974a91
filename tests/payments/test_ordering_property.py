"""Property: whatever Midtrans' notifications do (reorder, repeat, vanish), an attempt ends in
the state Midtrans reports last, once reconciliation has run."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Payment
from santap.payments.reconcile import reconcile_once
from santap.simulator import Simulator
from tests.fixtures.payments import notification, order_with_qris

FINAL = {
    "settlement": ("pay", "paid"),
    "expire": ("expire_transaction", "expired"),
    "cancel": ("cancel_transaction", "cancelled"),
}

deliveries = st.lists(st.sampled_from(["pending", "final"]), max_size=6)


async def _status(sessionmaker: async_sessionmaker[AsyncSession], uid: str) -> str:
    async with sessionmaker() as session:
        payment = await session.scalar(select(Payment).where(Payment.order_uid == uid))
    assert payment is not None
    return payment.status


@pytest.mark.parametrize("settings_overrides", [{"MIDTRANS_VERIFY_STATUS": False}])
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(final=st.sampled_from(sorted(FINAL)), order=deliveries)
async def test_any_delivery_order_ends_in_midtrans_last_state(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
    final: str,
    order: list[str],
) -> None:
    _, payment = await order_with_qris(client, demo_menu)
    uid = payment["order_uid"]
    # Midtrans' truth: chosen, then finished; its own deliveries are all lost.
    simulator.faults.drop_rate = 1.0
    await simulator.choose_qris(uid)
    action, expected = FINAL[final]
    await getattr(simulator, action)(uid)
    await simulator.drain()

    bodies = {
        "pending": notification(uid, "pending", "35000.00"),
        "final": notification(uid, final, "35000.00"),
    }
    for name in order:
        assert (await client.post("/api/v1/webhooks/midtrans", json=bodies[name])).is_success
    if "final" in order:
        assert await _status(sessionmaker, uid) == expected
    await reconcile_once(
        app.state.sessionmaker,
        app.state.payment_gateway,
        pending_min_age=timedelta(0),
    )
    assert await _status(sessionmaker, uid) == expected
