"""Refund notifications move money state only on Midtrans' own word: the signature does not
cover transaction_status or the refunds list, so with MIDTRANS_VERIFY_STATUS off a refund
is still asked about, and nothing records more refunded than was paid."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.localtime import LOCAL_TZ
from santap.models import Payment, Refund
from santap.payments.settlement import GatewayReport, record_reported_refunds
from santap.simulator import Simulator
from tests.fixtures.payments import get_order, notification, paid_by_qris

WEBHOOK = "/api/v1/webhooks/midtrans"
NO_VERIFY = {"MIDTRANS_VERIFY_STATUS": False}


async def _refunds(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Refund]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Refund))).all())


async def _net(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> int:
    today = datetime.now(LOCAL_TZ).date()
    report = await client.get(f"/api/v1/admin/reports/daily?date={today}", headers=admin_headers)
    assert report.status_code == 200, report.text
    return int(report.json()["net"])


@pytest.mark.parametrize("settings_overrides", [NO_VERIFY])
@pytest.mark.parametrize("relabel", ["partial_refund", "refund"])
async def test_a_settlement_relabelled_as_a_refund_moves_no_money(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    relabel: str,
) -> None:
    order, payment = await paid_by_qris(client, demo_menu, simulator)
    net = await _net(client, admin_headers)
    forged = notification(
        payment["order_uid"],
        relabel,
        "35000.00",
        refund_amount="999999999.00",
        refunds=[{"refund_key": "x", "refund_amount": "999999999.00", "reason": "forged"}],
    )
    response = await client.post(WEBHOOK, json=forged)
    assert response.status_code == 200, response.text
    assert response.json()["status"] != "applied"
    assert (await get_order(client, order))["status"] == "paid"
    assert await _refunds(sessionmaker) == []
    assert await _net(client, admin_headers) == net
    async with sessionmaker() as session:
        paid = await session.scalar(select(Payment))
        assert paid is not None
        assert (paid.status, paid.refunded_amount) == ("paid", 0)


@pytest.mark.parametrize("settings_overrides", [NO_VERIFY])
async def test_a_refund_made_at_midtrans_is_recorded_once_verified(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await paid_by_qris(client, demo_menu, simulator)
    simulator.refund(payment["order_uid"], {"amount": 10000, "refund_key": "dash-1"})
    await simulator.drain()
    [refund] = await _refunds(sessionmaker)
    assert (refund.refund_key, refund.amount) == ("dash-1", 10000)
    polled = (await client.get(f"/api/v1/payments/{payment['order_uid']}")).json()
    assert polled["status"] == "partially_refunded"
    assert (await get_order(client, order))["status"] == "paid"


async def test_reported_refunds_never_exceed_what_was_paid(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await paid_by_qris(client, demo_menu, simulator)
    listed = [
        {"refund_key": "a", "refund_amount": "30000.00"},
        {"refund_key": "b", "refund_amount": "10000.00"},
        {"refund_key": "c", "refund_amount": "5000.00"},
    ]
    report = GatewayReport.from_mapping(
        {"transaction_status": "partial_refund", "gross_amount": "35000.00", "refunds": listed}
    )
    async with sessionmaker() as session:
        payment = await session.scalar(select(Payment))
        assert payment is not None
        await record_reported_refunds(session, payment=payment, report=report)
        await session.commit()
    assert sorted(r.refund_key for r in await _refunds(sessionmaker)) == ["a", "c"]
