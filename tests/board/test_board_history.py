"""The board for looking back: either sort order, paged by cursor; an order's payments in its
detail, whose ids are what a refund takes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Order
from tests.fixtures.factories import create_menu_item, place_order
from tests.fixtures.payments import order_with_qris

BOARD = "/api/v1/admin/orders"


async def _orders_at_known_times(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> list[int]:
    """Seven orders, oldest first, three of them placed at the same moment (ties broken by
    id), and the last two placed before the ties."""
    item = await create_menu_item(
        sessionmaker, name="Bakso", price=15000, category=f"Kuah {uuid.uuid4().hex[:8]}"
    )
    ids = [
        (await place_order(client, [{"menu_item_id": item.id, "quantity": 1}]))["id"]
        for _ in range(7)
    ]
    same_moment = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    times = {ids[0]: same_moment + timedelta(hours=2), ids[1]: same_moment + timedelta(hours=1)}
    times |= dict.fromkeys(ids[2:5], same_moment)
    times |= {ids[5]: same_moment - timedelta(hours=1), ids[6]: same_moment - timedelta(hours=2)}
    async with sessionmaker() as session:
        for order_id, created_at in times.items():
            await session.execute(
                update(Order).where(Order.id == order_id).values(created_at=created_at)
            )
        await session.commit()
    return [ids[6], ids[5], ids[2], ids[3], ids[4], ids[1], ids[0]]


async def _page_through(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        query = {"limit": 2, **params} | ({"cursor": cursor} if cursor else {})
        response = await client.get(BOARD, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 2
        seen += [order["id"] for order in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


async def test_the_board_pages_through_either_sort_order(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
) -> None:
    oldest_first = await _orders_at_known_times(client, sessionmaker)
    newest_first = oldest_first[::-1]
    assert await _page_through(client, cashier_headers, sort="newest") == newest_first
    assert await _page_through(client, cashier_headers) == oldest_first  # the default
    assert await _page_through(client, cashier_headers, sort="oldest") == oldest_first
    whole = await client.get(BOARD, params={"sort": "oldest"}, headers=cashier_headers)
    assert [o["id"] for o in whole.json()["items"]] == oldest_first


async def test_a_cursor_continues_only_the_sort_it_came_from(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
) -> None:
    await _orders_at_known_times(client, sessionmaker)
    for issued, asked in (("oldest", "newest"), ("newest", "oldest")):
        first = await client.get(
            BOARD, params={"limit": 2, "sort": issued}, headers=cashier_headers
        )
        cursor = first.json()["next_cursor"]
        mixed = await client.get(
            BOARD, params={"limit": 2, "sort": asked, "cursor": cursor}, headers=cashier_headers
        )
        assert mixed.status_code == 422
        error = mixed.json()["error"]
        assert error["code"] == "invalid_cursor"
        assert f"sort={issued}" in error["message"]


@pytest.mark.parametrize("sort", ["", "Newest", "asc", "created_at"])
async def test_an_unknown_sort_is_422(
    client: httpx.AsyncClient, cashier_headers: dict[str, str], sort: str
) -> None:
    response = await client.get(BOARD, params={"sort": sort}, headers=cashier_headers)
    assert response.status_code == 422
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "query.sort"
    assert detail["message"] == "Input should be 'newest' or 'oldest'"


async def test_the_order_detail_lists_its_payments_for_a_refund(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    order, qris = await order_with_qris(client, demo_menu)
    cash = await client.post(
        "/api/v1/payments/cash",
        json={"order_id": order["id"], "amount_tendered": order["total_amount"]},
        headers=cashier_headers,
    )
    assert cash.status_code == 201, cash.text
    detail = await client.get(f"{BOARD}/{order['id']}", headers=cashier_headers)
    assert detail.status_code == 200, detail.text
    payments = detail.json()["payments"]
    assert [(p["payment_id"], p["method"], p["status"]) for p in payments] == [
        (qris["payment_id"], "qris", "cancelled"),  # closed when the cash was taken
        (cash.json()["payment_id"], "cash", "paid"),
    ]
    paid = payments[1]
    assert (paid["order_id"], paid["amount"], paid["refunded_amount"]) == (
        order["id"],
        order["total_amount"],
        0,
    )
    assert paid["paid_at"].endswith("Z")
    assert paid["cashier"] == "kasir"

    refund = await client.post(
        f"/api/v1/admin/payments/{paid['payment_id']}/refund",
        json={"amount": 5000, "reason": "kurang manis"},
        headers=admin_headers,
    )
    assert refund.status_code == 200, refund.text
    after = (await client.get(f"{BOARD}/{order['id']}", headers=admin_headers)).json()
    assert [(p["status"], p["refunded_amount"]) for p in after["payments"]] == [
        ("cancelled", 0),
        ("partially_refunded", 5000),
    ]
