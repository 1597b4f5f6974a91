"""What staff are told when Midtrans fails: "unreachable" (and which host) when no connection
was made, "refused" only when Midtrans answered with an error. Customers get one stable
message either way."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Payment
from santap.simulator import Simulator
from tests.fixtures.factories import place_order
from tests.fixtures.payments import BrokenMidtrans, order_token, paid_by_qris

QRIS = "/api/v1/payments/qris"
CUSTOMER_502 = "The payment provider is not available right now; please try again"
# The in-process simulator stands in for Midtrans at http://testserver/_simulator.
UNREACHABLE = (
    "Midtrans was unreachable at testserver: ConnectError: [Errno -2] Name or service not known"
)


async def _qris_by_staff(
    client: httpx.AsyncClient, demo_menu: dict[str, int], headers: dict[str, str]
) -> tuple[dict[str, Any], httpx.Response]:
    order = await place_order(client, [{"menu_item_id": demo_menu["Mie Ayam"], "quantity": 1}])
    body = {"order_id": order["id"], "amount": order["total_amount"]}
    return order, await client.post(QRIS, json=body, headers=headers)


async def test_a_dns_failure_says_midtrans_was_unreachable_and_where(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    broken_midtrans: BrokenMidtrans,
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    broken_midtrans.break_with("dns")
    order, staff = await _qris_by_staff(client, demo_menu, cashier_headers)
    assert staff.status_code == 502
    error = staff.json()["error"]
    assert error["code"] == "payment_gateway_error"
    assert error["message"] == UNREACHABLE
    assert "refused" not in error["message"]
    assert error["details"]["host"] == "testserver"
    customer = await client.post(
        QRIS,
        json={"order_id": order["id"], "amount": order["total_amount"]},
        headers=order_token(order),
    )
    assert customer.json()["error"] == {
        "code": "payment_gateway_error",
        "message": CUSTOMER_502,
        "details": None,
    }
    async with sessionmaker() as session:
        statuses = (await session.scalars(select(Payment.status).order_by(Payment.id))).all()
    assert statuses == ["failed", "failed"]


async def test_an_error_answered_by_midtrans_is_a_refusal(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    broken_midtrans: BrokenMidtrans,
    cashier_headers: dict[str, str],
) -> None:
    broken_midtrans.break_with("rejected")
    _, staff = await _qris_by_staff(client, demo_menu, cashier_headers)
    assert staff.status_code == 502
    error = staff.json()["error"]
    assert error["message"] == "Midtrans refused the request: Access denied, try again"
    assert "host" not in error["details"]
    assert error["details"]["http_status"] == 400


async def test_a_refund_towards_an_unreachable_midtrans_says_so_and_changes_nothing(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    broken_midtrans: BrokenMidtrans,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, payment = await paid_by_qris(client, demo_menu, simulator)
    broken_midtrans.break_with("dns")
    refund = await client.post(
        f"/api/v1/admin/payments/{payment['payment_id']}/refund",
        json={"reason": "salah pesan"},
        headers=admin_headers,
    )
    assert refund.status_code == 502
    assert refund.json()["error"]["message"] == UNREACHABLE
    async with sessionmaker() as session:
        row = await session.get_one(Payment, payment["payment_id"])
    assert (row.status, row.refunded_amount) == ("paid", 0)
