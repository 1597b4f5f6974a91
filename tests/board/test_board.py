from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap import state_machine
from santap.models import AuditLog, Order, OrderStatus, OrderStatusHistory, Staff
from tests.fixtures.factories import create_menu_item, place_order

BOARD = "/api/v1/admin/orders"


async def _orders(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], count: int
) -> list[int]:
    item = await create_menu_item(
        sessionmaker, name="Bakso", price=15000, category=f"Kuah {uuid.uuid4().hex[:8]}"
    )
    return [
        (await place_order(client, [{"menu_item_id": item.id, "quantity": 1}]))["id"]
        for _ in range(count)
    ]


async def _set(
    sessionmaker: async_sessionmaker[AsyncSession], order_id: int, **values: Any
) -> None:
    async with sessionmaker() as session:
        await session.execute(update(Order).where(Order.id == order_id).values(**values))
        await session.commit()


async def _advance(
    sessionmaker: async_sessionmaker[AsyncSession], order_id: int, *targets: OrderStatus
) -> None:
    async with sessionmaker() as session:
        order = await session.get_one(Order, order_id)
        for target in targets:
            state_machine.change_order_status(session, order, target, reason="test", actor="test")
        await session.commit()


async def _page(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get(BOARD, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_board_lists_oldest_first_and_filters_by_status(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
) -> None:
    first, second, third = await _orders(client, sessionmaker, 3)
    await _advance(sessionmaker, second, OrderStatus.PAID)
    await _advance(sessionmaker, third, OrderStatus.PAID, OrderStatus.PREPARING)
    body = await _page(client, cashier_headers)
    assert [o["id"] for o in body["items"]] == [first, second, third]  # the kitchen's order
    assert body["next_cursor"] is None
    assert body["items"][0]["items"][0]["name"] == "Bakso"
    paid = await _page(client, cashier_headers, status="paid")
    assert [o["id"] for o in paid["items"]] == [second]
    kitchen = await _page(client, cashier_headers, status=["paid", "preparing"])
    assert [o["id"] for o in kitchen["items"]] == [second, third]
    bad = await client.get(BOARD, params={"status": "eaten"}, headers=cashier_headers)
    assert bad.status_code == 422


async def test_board_date_is_a_jakarta_day(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
) -> None:
    late_jan_1, early_jan_2, late_jan_2 = await _orders(client, sessionmaker, 3)
    # 23:59 WIB on 1 Jan, 00:00 WIB and 23:59:59 WIB on 2 Jan.
    await _set(sessionmaker, late_jan_1, created_at=datetime(2026, 1, 1, 16, 59, tzinfo=UTC))
    await _set(sessionmaker, early_jan_2, created_at=datetime(2026, 1, 1, 17, 0, tzinfo=UTC))
    await _set(sessionmaker, late_jan_2, created_at=datetime(2026, 1, 2, 16, 59, 59, tzinfo=UTC))
    jan_2 = await _page(client, cashier_headers, date="2026-01-02")
    assert [o["id"] for o in jan_2["items"]] == [early_jan_2, late_jan_2]
    jan_1 = await _page(client, cashier_headers, date="2026-01-01")
    assert [o["id"] for o in jan_1["items"]] == [late_jan_1]
    assert (await _page(client, cashier_headers, date="2026-01-03"))["items"] == []
    for bad in ("2026-13-01", "yesterday", "02-01-2026"):
        response = await client.get(BOARD, params={"date": bad}, headers=cashier_headers)
        assert response.status_code == 422, bad


async def test_board_pages_with_a_keyset_cursor(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
) -> None:
    ids = await _orders(client, sessionmaker, 7)
    same_moment = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    for order_id in ids[2:5]:  # ties on created_at are broken by id
        await _set(sessionmaker, order_id, created_at=same_moment)
    for offset, order_id in enumerate(ids[5:]):
        await _set(sessionmaker, order_id, created_at=same_moment - timedelta(hours=offset + 1))
    expected = [ids[1], ids[0], ids[4], ids[3], ids[2], ids[5], ids[6]]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "sort": "newest"}
        params |= {"cursor": cursor} if cursor else {}
        body = await _page(client, cashier_headers, **params)
        assert len(body["items"]) <= 2
        seen += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        # An order placed meanwhile does not shift later pages (unlike an offset).
        if len(seen) == 2:
            await _orders(client, sessionmaker, 1)
    assert seen == expected


def _cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJpZCI6MX0"},  # {"id":1}: a cursor for another list
        {"cursor": "eyJjcmVhdGVkX2F0IjoiMjAyNi0wMS0wMVQwMDowMDowMCIsImlkIjoxfQ"},  # naive time
        {"cursor": "x" * 201},
        # Forged keys past what the columns hold (these were 500s).
        {"cursor": _cursor(f'{{"created_at":"2026-01-01T00:00:00+00:00","id":{2**70}}}')},
        {"cursor": _cursor('{"created_at":"2026-01-01T00:00:00+00:00","id":0}')},
        {"cursor": _cursor('{"created_at":"0001-01-01T00:00:00+14:00","id":1}')},
        {"cursor": _cursor('{"created_at":"9999-12-31T23:59:59-14:00","id":1}')},
    ],
)
async def test_board_rejects_bad_paging(
    client: httpx.AsyncClient, cashier_headers: dict[str, str], params: dict[str, Any]
) -> None:
    response = await client.get(BOARD, params=params, headers=cashier_headers)
    assert response.status_code == 422


async def test_board_order_detail_has_its_history(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
) -> None:
    (order_id,) = await _orders(client, sessionmaker, 1)
    await _advance(sessionmaker, order_id, OrderStatus.PAID)
    response = await client.get(f"{BOARD}/{order_id}", headers=cashier_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "paid"
    assert [(h["from_status"], h["to_status"]) for h in body["history"]] == [
        (None, "pending_payment"),
        ("pending_payment", "paid"),
    ]
    missing = await client.get(f"{BOARD}/999999", headers=cashier_headers)
    assert missing.status_code == 404


async def test_kitchen_moves_a_paid_order_to_completed(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier: Staff,
    cashier_headers: dict[str, str],
) -> None:
    (order_id,) = await _orders(client, sessionmaker, 1)
    await _advance(sessionmaker, order_id, OrderStatus.PAID)
    for status in ("preparing", "ready", "completed"):
        response = await client.post(
            f"{BOARD}/{order_id}/status", json={"status": status}, headers=cashier_headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    async with sessionmaker() as session:
        history = (
            await session.scalars(
                select(OrderStatusHistory)
                .where(OrderStatusHistory.order_id == order_id)
                .order_by(OrderStatusHistory.id)
            )
        ).all()
        audit = (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    assert [(h.to_status, h.actor) for h in history[2:]] == [
        ("preparing", "staff:kasir"),
        ("ready", "staff:kasir"),
        ("completed", "staff:kasir"),
    ]
    assert [(a.action, a.staff_id, a.username, a.entity_type, a.entity_id) for a in audit] == [
        ("order.status", cashier.id, "kasir", "order", str(order_id))
    ] * 3
    assert [(a.before, a.after) for a in audit] == [
        ({"status": "paid"}, {"status": "preparing"}),
        ({"status": "preparing"}, {"status": "ready"}),
        ({"status": "ready"}, {"status": "completed"}),
    ]


async def test_illegal_kitchen_steps_are_409_and_change_nothing(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
) -> None:
    pending, paid = await _orders(client, sessionmaker, 2)
    await _advance(sessionmaker, paid, OrderStatus.PAID)
    for order_id, status in [
        (pending, "preparing"),
        (paid, "ready"),
        (paid, "completed"),
    ]:
        response = await client.post(
            f"{BOARD}/{order_id}/status", json={"status": status}, headers=cashier_headers
        )
        assert response.status_code == 409, (order_id, status)
        assert response.json()["error"]["code"] == "illegal_transition"
    await _advance(sessionmaker, paid, OrderStatus.PREPARING, OrderStatus.READY)
    await _advance(sessionmaker, paid, OrderStatus.COMPLETED)
    back = await client.post(
        f"{BOARD}/{paid}/status", json={"status": "preparing"}, headers=cashier_headers
    )
    assert back.status_code == 409
    async with sessionmaker() as session:
        assert (await session.get_one(Order, pending)).status == "pending_payment"
        assert (await session.scalars(select(AuditLog))).all() == []


@pytest.mark.parametrize("status", ["paid", "cancelled", "pending_payment", "eaten", None])
async def test_staff_cannot_pay_or_cancel_through_the_status_route(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
    status: str | None,
) -> None:
    (order_id,) = await _orders(client, sessionmaker, 1)
    response = await client.post(
        f"{BOARD}/{order_id}/status", json={"status": status}, headers=cashier_headers
    )
    assert response.status_code == 422
    async with sessionmaker() as session:
        assert (await session.get_one(Order, order_id)).status == "pending_payment"


async def test_concurrent_status_changes_apply_once(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
) -> None:
    (order_id,) = await _orders(client, sessionmaker, 1)
    await _advance(sessionmaker, order_id, OrderStatus.PAID)
    responses = await asyncio.gather(
        *(
            client.post(
                f"{BOARD}/{order_id}/status", json={"status": "preparing"}, headers=cashier_headers
            )
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409]
    async with sessionmaker() as session:
        rows = (
            await session.scalars(
                select(OrderStatusHistory).where(OrderStatusHistory.to_status == "preparing")
            )
        ).all()
    assert len(rows) == 1


async def test_cancel_a_pending_order(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: Staff,
    admin_headers: dict[str, str],
) -> None:
    (order_id,) = await _orders(client, sessionmaker, 1)
    response = await client.post(
        f"{BOARD}/{order_id}/cancel", json={"reason": " walked out "}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    async with sessionmaker() as session:
        last = await session.scalar(
            select(OrderStatusHistory).order_by(OrderStatusHistory.id.desc()).limit(1)
        )
        audit = await session.scalar(select(AuditLog))
    assert last is not None
    assert (last.from_status, last.to_status, last.reason, last.actor) == (
        "pending_payment",
        "cancelled",
        "walked out",
        "staff:pemilik",
    )
    assert audit is not None
    assert (audit.action, audit.staff_id, audit.before, audit.after) == (
        "order.cancel",
        admin.id,
        {"status": "pending_payment"},
        {"status": "cancelled", "reason": "walked out"},
    )
    again = await client.post(
        f"{BOARD}/{order_id}/cancel", json={"reason": "twice"}, headers=admin_headers
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "illegal_transition"


@pytest.mark.parametrize(
    "path",
    [
        [OrderStatus.PAID],
        [OrderStatus.PAID, OrderStatus.PREPARING],
        [OrderStatus.PAID, OrderStatus.PREPARING, OrderStatus.READY],
    ],
)
async def test_a_paid_order_needs_a_refund_not_a_cancel(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
    path: list[OrderStatus],
) -> None:
    (order_id,) = await _orders(client, sessionmaker, 1)
    await _advance(sessionmaker, order_id, *path)
    response = await client.post(
        f"{BOARD}/{order_id}/cancel", json={"reason": "changed mind"}, headers=cashier_headers
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "refund_required"
    assert "refund" in error["message"]
    async with sessionmaker() as session:
        assert (await session.get_one(Order, order_id)).status == path[-1]
        assert (await session.scalars(select(AuditLog))).all() == []


async def test_cancel_validation_and_unknown_order(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
) -> None:
    (order_id,) = await _orders(client, sessionmaker, 1)
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        response = await client.post(
            f"{BOARD}/{order_id}/cancel", json=body, headers=cashier_headers
        )
        assert response.status_code == 422, body
    missing = await client.post(
        f"{BOARD}/999999/cancel", json={"reason": "x"}, headers=cashier_headers
    )
    assert missing.status_code == 404
    completed_id = (await _orders(client, sessionmaker, 1))[0]
    await _advance(
        sessionmaker,
        completed_id,
        OrderStatus.PAID,
        OrderStatus.PREPARING,
        OrderStatus.READY,
        OrderStatus.COMPLETED,
    )
    done = await client.post(
        f"{BOARD}/{completed_id}/cancel", json={"reason": "x"}, headers=cashier_headers
    )
    assert done.status_code == 409
