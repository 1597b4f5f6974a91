"""Requests that must ask Midtrans (cancel an open QRIS, refund, take cash over an open QRIS)
ask it between their transactions: while Midtrans takes its time they hold no connection and
no lock, and everyone else goes on writing (on SQLite they held the one write lock)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from santap.simulator import Simulator
from tests.fixtures.factories import place_order
from tests.fixtures.payments import HeldMidtrans, order_with_qris, paid_by_qris

Started = Callable[[], Awaitable[httpx.Response]]


async def _cancel(client: httpx.AsyncClient, demo_menu: dict[str, int], staff: Any) -> Started:
    order, _ = await order_with_qris(client, demo_menu)
    url = f"/api/v1/admin/orders/{order['id']}/cancel"
    return lambda: client.post(url, json={"reason": "customer left"}, headers=staff.cashier)


async def _cash(client: httpx.AsyncClient, demo_menu: dict[str, int], staff: Any) -> Started:
    order, _ = await order_with_qris(client, demo_menu)
    body = {"order_id": order["id"], "amount_tendered": order["total_amount"]}
    return lambda: client.post("/api/v1/payments/cash", json=body, headers=staff.cashier)


async def _refund(client: httpx.AsyncClient, demo_menu: dict[str, int], staff: Any) -> Started:
    _, payment = await paid_by_qris(client, demo_menu, staff.simulator)
    url = f"/api/v1/admin/payments/{payment['payment_id']}/refund"
    return lambda: client.post(url, json={"reason": "cold soup"}, headers=staff.admin)


class _Staff:
    def __init__(self, cashier: dict[str, str], admin: dict[str, str], simulator: Simulator):
        self.cashier, self.admin, self.simulator = cashier, admin, simulator


@pytest.mark.parametrize(
    ("prepare", "method", "expected"),
    [
        (_cancel, "cancel", ("status", "cancelled")),
        (_cash, "cancel", ("order_status", "paid")),
        (_refund, "refund", ("payment_status", "refunded")),
    ],
    ids=["cancel", "cash", "refund"],
)
async def test_waiting_on_midtrans_holds_no_connection_and_no_lock(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    admin_headers: dict[str, str],
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    prepare: Callable[..., Awaitable[Started]],
    method: str,
    expected: tuple[str, str],
) -> None:
    start = await prepare(client, demo_menu, _Staff(cashier_headers, admin_headers, simulator))
    held = HeldMidtrans(app, monkeypatch, method=method)
    try:
        slow = asyncio.create_task(start())
        await held.entered.wait()
        assert app.state.engine.pool.checkedout() == 0, "a connection is held across Midtrans"
        # Writers go on meanwhile: orders, and the same kind of request for other orders.
        item = {"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 1}
        await asyncio.wait_for(place_order(client, [item]), timeout=10)
        assert not slow.done()
    finally:
        held.release.set()
    answer = await slow
    assert answer.status_code in (200, 201), answer.text
    key, value = expected
    assert answer.json()[key] == value
