"""Forged deliveries leave a bounded record and cannot flood the database; a genuine
notification is never refused by the cap."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Notification, RejectedNotification
from santap.payments.rejections import BODY_PREFIX_CHARS, RejectionBudget, source_key
from tests.fixtures.payments import get_order, notification, order_with_qris

WEBHOOK = "/api/v1/webhooks/midtrans"
CAP = {"SANTAP_REJECTED_NOTIFICATIONS_PER_MINUTE": 20, "TRUSTED_PROXIES": "127.0.0.1/32"}


def _forged(i: int, padding: int = 0) -> dict[str, str]:
    return {
        "order_id": f"SNTP-{i}-forged",
        "status_code": "200",
        "gross_amount": "35000.00",
        "transaction_status": "settlement",
        "signature_key": "0" * 128,
        "padding": "x" * padding,
    }


async def _rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[RejectedNotification]:
    async with sessionmaker() as session:
        query = select(RejectedNotification).order_by(RejectedNotification.id)
        return list((await session.scalars(query)).all())


async def _inbox_size(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Notification)) or 0)


@pytest.mark.parametrize("settings_overrides", [CAP])
async def test_a_flood_of_forgeries_is_capped_per_source_and_bounded_in_size(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    statuses = [
        (await client.post(WEBHOOK, json=_forged(i, padding=60_000))).status_code for i in range(60)
    ]
    assert statuses[:20] == [401] * 20
    assert set(statuses[20:]) == {429}
    throttled = await client.post(WEBHOOK, json=_forged(99))
    assert throttled.json()["error"]["code"] == "too_many_rejected_notifications"
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    rows = await _rows(sessionmaker)
    assert len(rows) == 20
    assert all(len(row.body_prefix) == BODY_PREFIX_CHARS for row in rows)
    assert all(row.body_bytes > 60_000 for row in rows)
    assert rows[0].order_uid == "SNTP-0-forged"
    assert await _inbox_size(sessionmaker) == 0
    # Another source has its own budget.
    other = await client.post(WEBHOOK, json=_forged(1), headers={"x-forwarded-for": "192.0.2.7"})
    assert other.status_code == 401
    assert {row.source_ip for row in await _rows(sessionmaker)} == {"127.0.0.1", "192.0.2.7"}


@pytest.mark.parametrize("settings_overrides", [CAP])
async def test_repeats_of_one_forgery_are_counted_on_one_row(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for _ in range(5):
        assert (await client.post(WEBHOOK, json=_forged(1))).status_code == 401
    [row] = await _rows(sessionmaker)
    assert row.deliveries == 5
    assert row.last_seen_at >= row.first_seen_at


@pytest.mark.parametrize("settings_overrides", [{**CAP, "MIDTRANS_VERIFY_STATUS": False}])
async def test_a_genuine_notification_is_applied_when_its_source_is_over_the_cap(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    for i in range(21):
        await client.post(WEBHOOK, json=_forged(i))
    assert (await client.post(WEBHOOK, json=_forged(50))).status_code == 429
    genuine = notification(payment["order_uid"], "settlement", "35000.00")
    response = await client.post(WEBHOOK, json=genuine)
    assert response.status_code == 200, response.text
    assert (await get_order(client, order))["status"] == "paid"


def test_budget_is_per_minute_and_per_ipv6_subscriber() -> None:
    now = [120.0]
    budget = RejectionBudget(2, clock=lambda: now[0])
    assert [budget.take("a"), budget.take("a")] == [0, 0]
    assert budget.take("a") == 60
    assert budget.take("b") == 0
    now[0] = 180.0
    assert budget.take("a") == 0
    assert source_key("2001:db8::1") == source_key("2001:db8::ffff") == "2001:db8::/64"
    assert source_key("192.0.2.1") == "192.0.2.1"
