from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.localtime import LOCAL_TZ
from santap.models import Payment, Refund
from santap.payments.refunds import refund_key
from santap.simulator import Simulator
from tests.fixtures.factories import place_order
from tests.fixtures.payments import get_order, notification, order_with_qris, paid_by_qris

WEBHOOK = "/api/v1/webhooks/midtrans"


def _refund_url(payment_id: int) -> str:
    return f"/api/v1/admin/payments/{payment_id}/refund"


async def _paid_by_qris(
    client: httpx.AsyncClient, demo_menu: dict[str, int], simulator: Simulator
) -> tuple[dict[str, Any], dict[str, Any]]:
    return await paid_by_qris(client, demo_menu, simulator, quantity=2)


async def _refunds(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Refund]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Refund).order_by(Refund.id))).all())


async def test_full_qris_refund_at_midtrans_cancels_the_order_and_a_retry_never_refunds_twice(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await _paid_by_qris(client, demo_menu, simulator)
    body = {"reason": "Pesanan salah"}
    first = await client.post(_refund_url(payment["payment_id"]), json=body, headers=admin_headers)
    assert first.status_code == 200, first.text
    result = first.json()
    assert result["payment_status"] == "refunded"
    assert result["refunded_amount"] == 70000
    assert result["order_status"] == "cancelled"
    assert result["already_done"] is False
    retry = await client.post(_refund_url(payment["payment_id"]), json=body, headers=admin_headers)
    assert retry.status_code == 200
    assert retry.json()["already_done"] is True
    assert retry.json()["refund"] == result["refund"]
    await simulator.drain()
    sim_tx = simulator.transactions[payment["order_uid"]]
    assert sim_tx.status == "refund"
    assert sim_tx.refunded_amount == 70000
    assert len(await _refunds(sessionmaker)) == 1
    assert (await get_order(client, order))["status"] == "cancelled"


async def test_partial_qris_refunds_add_up_and_cannot_exceed_the_payment(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    admin_headers: dict[str, str],
) -> None:
    order, payment = await _paid_by_qris(client, demo_menu, simulator)
    url = _refund_url(payment["payment_id"])
    part = await client.post(
        url, json={"amount": 30000, "reason": "satu porsi"}, headers=admin_headers
    )
    assert part.status_code == 200, part.text
    assert part.json()["payment_status"] == "partially_refunded"
    assert part.json()["order_status"] == "paid"
    too_much = await client.post(
        url, json={"amount": 40001, "reason": "lagi"}, headers=admin_headers
    )
    assert too_much.status_code == 422
    assert too_much.json()["error"]["code"] == "invalid_refund_amount"
    rest = await client.post(url, json={"reason": "sisanya"}, headers=admin_headers)
    assert rest.json()["payment_status"] == "refunded"
    assert rest.json()["refunded_amount"] == 70000
    await simulator.drain()
    assert simulator.transactions[payment["order_uid"]].refunded_amount == 70000
    assert (await get_order(client, order))["status"] == "cancelled"


async def test_cash_refund_is_recorded_without_midtrans(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    order = await place_order(client, [{"menu_item_id": demo_menu["Mie Ayam"], "quantity": 1}])
    cash = await client.post(
        "/api/v1/payments/cash",
        json={"order_id": order["id"], "amount_tendered": 25000},
        headers=cashier_headers,
    )
    response = await client.post(
        _refund_url(cash.json()["payment_id"]), json={"reason": "basi"}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["refund"]["method"] == "cash"
    assert response.json()["order_status"] == "cancelled"
    assert simulator.transactions == {}


async def test_unpaid_and_unknown_payments_are_not_refundable(
    client: httpx.AsyncClient, demo_menu: dict[str, int], admin_headers: dict[str, str]
) -> None:
    _, pending = await order_with_qris(client, demo_menu)
    response = await client.post(
        _refund_url(pending["payment_id"]), json={"reason": "x"}, headers=admin_headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_refundable"
    missing = await client.post(_refund_url(999999), json={"reason": "x"}, headers=admin_headers)
    assert missing.status_code == 404
    for bad in ({"reason": ""}, {"amount": 0, "reason": "x"}, {"amount": 1.5, "reason": "x"}, {}):
        invalid = await client.post(
            _refund_url(pending["payment_id"]), json=bad, headers=admin_headers
        )
        assert invalid.status_code == 422, bad


async def test_midtrans_refusing_a_refund_is_502_and_records_nothing(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, payment = await _paid_by_qris(client, demo_menu, simulator)
    simulator.faults.error_rate = 1.0
    response = await client.post(
        _refund_url(payment["payment_id"]), json={"reason": "x"}, headers=admin_headers
    )
    assert response.status_code == 502
    assert await _refunds(sessionmaker) == []
    async with sessionmaker() as session:
        stored = await session.scalar(select(Payment))
    assert stored is not None
    assert (stored.status, stored.refunded_amount) == ("paid", 0)


async def test_flagged_payments_list_double_payments_and_refunding_clears_the_flag(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    await simulator.choose_qris(payment["order_uid"])
    simulator.faults.drop_rate = 1.0
    simulator.faults.error_rate = 1.0  # Midtrans unreachable while the cashier takes cash
    await client.post(
        "/api/v1/payments/cash",
        json={"order_id": order["id"], "amount_tendered": 35000},
        headers=cashier_headers,
    )
    simulator.faults.error_rate = 0.0
    simulator.faults.drop_rate = 0.0
    await simulator.pay(payment["order_uid"])  # ...and the customer paid by QRIS too
    await simulator.drain()

    flagged = await client.get("/api/v1/admin/payments?flag=needs_refund", headers=admin_headers)
    assert flagged.status_code == 200
    [row] = flagged.json()
    assert (row["order_uid"], row["needs_refund"], row["method"]) == (
        payment["order_uid"],
        True,
        "qris",
    )
    part = await client.post(
        _refund_url(row["payment_id"]),
        json={"amount": 10000, "reason": "sebagian dulu"},
        headers=admin_headers,
    )
    assert part.status_code == 200
    still = await client.get("/api/v1/admin/payments?flag=needs_refund", headers=admin_headers)
    assert [r["payment_id"] for r in still.json()] == [row["payment_id"]]  # 25000 still owed
    refund = await client.post(
        _refund_url(row["payment_id"]), json={"reason": "dibayar dua kali"}, headers=admin_headers
    )
    assert refund.status_code == 200
    assert refund.json()["refunded_amount"] == 35000
    assert refund.json()["order_status"] == "paid"  # the cash payment still pays it
    after = await client.get("/api/v1/admin/payments?flag=needs_refund", headers=admin_headers)
    assert after.json() == []
    assert (
        await client.get("/api/v1/admin/payments?flag=bogus", headers=admin_headers)
    ).status_code == 422


@pytest.mark.parametrize("settings_overrides", [{"MIDTRANS_VERIFY_STATUS": False}])
async def test_needs_refund_lists_settlements_of_the_wrong_amount(
    client: httpx.AsyncClient, demo_menu: dict[str, int], admin_headers: dict[str, str]
) -> None:
    _order, payment = await order_with_qris(client, demo_menu)
    answer = await client.post(
        WEBHOOK, json=notification(payment["order_uid"], "settlement", "1000.00")
    )
    assert answer.json() == {"status": "accepted"}
    flagged = await client.get("/api/v1/admin/payments?flag=needs_refund", headers=admin_headers)
    [row] = flagged.json()
    assert (row["order_uid"], row["amount_mismatch"]) == (payment["order_uid"], True)


@pytest.mark.parametrize("amount", [None, 30000])
async def test_a_refund_midtrans_made_before_our_request_failed_is_found_by_the_retry(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    amount: int | None,
) -> None:
    """Midtrans refunded under our refund_key, but our request never committed (a 504):
    Midtrans' notification records the refund, and the admin's retry finds it."""
    order, payment = await _paid_by_qris(client, demo_menu, simulator)
    body: dict[str, Any] = {"reason": "Pesanan salah"} | ({"amount": amount} if amount else {})
    async with sessionmaker() as session:
        stored = await session.get(Payment, payment["payment_id"])
        assert stored is not None
        key = refund_key(stored, amount, body["reason"])
    simulator.refund(payment["order_uid"], {**body, "refund_key": key})
    await simulator.drain()

    retry = await client.post(_refund_url(payment["payment_id"]), json=body, headers=admin_headers)
    assert retry.status_code == 200, retry.text
    result = retry.json()
    assert result["already_done"] is True
    assert result["refunded_amount"] == (amount or 70000)
    assert result["refund"]["refund_key"] == key
    assert simulator.transactions[payment["order_uid"]].refunded_amount == (amount or 70000)
    assert [(r.refund_key, r.amount) for r in await _refunds(sessionmaker)] == [
        (key, amount or 70000)
    ]
    expected = "paid" if amount else "cancelled"
    assert (await get_order(client, order))["status"] == expected


async def test_refunds_made_in_the_midtrans_dashboard_are_recorded_once_and_reported(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _order, payment = await _paid_by_qris(client, demo_menu, simulator)
    simulator.refund(
        payment["order_uid"], {"refund_key": "dash-1", "amount": 20000, "reason": "kurang pedas"}
    )
    await simulator.drain()  # two notifications: approval, then the bank's confirmation
    [refund] = await _refunds(sessionmaker)
    assert (refund.refund_key, refund.amount, refund.staff_username, refund.reason) == (
        "dash-1",
        20000,
        "midtrans",
        "kurang pedas",
    )
    today = datetime.now(LOCAL_TZ).date()
    report = await client.get(f"/api/v1/admin/reports/daily?date={today}", headers=admin_headers)
    assert report.json()["refunds"] == {"cash": 0, "qris": 20000}
    assert report.json()["net"] == 70000 - 20000


async def test_dashboard_refunds_of_two_payments_under_one_key_are_both_recorded(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Midtrans only keeps refund keys unique per transaction."""
    payments = [(await _paid_by_qris(client, demo_menu, simulator))[1] for _ in range(2)]
    for payment in payments:
        simulator.refund(payment["order_uid"], {"refund_key": "dash-1", "amount": 10000})
        await simulator.drain()
    refunds = await _refunds(sessionmaker)
    assert sorted((r.payment_id, r.amount) for r in refunds) == sorted(
        (p["payment_id"], 10000) for p in payments
    )
