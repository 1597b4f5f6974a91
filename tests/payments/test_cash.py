from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import AuditLog, Payment
from santap.payments.reconcile import reconcile_once
from santap.simulator import Simulator
from tests.fixtures.factories import place_order
from tests.fixtures.payments import (
    get_order,
    order_with_qris,
    pay_with_notifications_lost,
)

CASH = "/api/v1/payments/cash"


async def _payments(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Payment]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Payment).order_by(Payment.id))).all())


async def _order(client: httpx.AsyncClient, demo_menu: dict[str, int]) -> dict[str, Any]:
    return await place_order(
        client,
        [
            {"menu_item_id": demo_menu["Sate Ayam"], "quantity": 1},
            {"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 2},
        ],
    )


async def test_cash_pays_the_order_and_gives_change(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    response = await client.post(
        CASH, json={"order_id": order["id"], "amount_tendered": 50000}, headers=cashier_headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: v for k, v in body.items() if k != "payment_id"} == {
        "order_id": order["id"],
        "amount": 40000,
        "amount_tendered": 50000,
        "change": 10000,
        "status": "paid",
        "order_status": "paid",
        "cashier": "kasir",
    }
    assert (await get_order(client, order))["payment_status"] == "paid"
    async with sessionmaker() as session:
        audit = (await session.scalars(select(AuditLog))).all()
    assert [(a.action, a.username) for a in audit] == [("payment.cash", "kasir")]


async def test_exact_cash_is_accepted_and_short_cash_is_422(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    short = await client.post(
        CASH, json={"order_id": order["id"], "amount_tendered": 39999}, headers=cashier_headers
    )
    assert short.status_code == 422
    assert short.json()["error"]["code"] == "insufficient_cash"
    assert await _payments(sessionmaker) == []
    exact = await client.post(
        CASH, json={"order_id": order["id"], "amount_tendered": 40000}, headers=cashier_headers
    )
    assert exact.status_code == 201
    assert exact.json()["change"] == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"order_id": 1},
        {"order_id": 1, "amount_tendered": 50000.0},
        {"order_id": 1, "amount_tendered": "50000"},
        {"order_id": 1, "amount_tendered": 0},
        {"order_id": 1, "amount_tendered": -1},
    ],
)
async def test_malformed_cash_is_422(
    client: httpx.AsyncClient, cashier_headers: dict[str, str], payload: dict[str, Any]
) -> None:
    response = await client.post(CASH, json=payload, headers=cashier_headers)
    assert response.status_code == 422


async def test_cash_needs_a_staff_token(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    order = await _order(client, demo_menu)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"X-Order-Token": order["access_token"]}):
        response = await client.post(
            CASH, json={"order_id": order["id"], "amount_tendered": 50000}, headers=headers
        )
        assert response.status_code == 401
    assert (await get_order(client, order))["status"] == "pending_payment"


async def test_second_cash_payment_is_409(
    client: httpx.AsyncClient, demo_menu: dict[str, int], cashier_headers: dict[str, str]
) -> None:
    order = await _order(client, demo_menu)
    body = {"order_id": order["id"], "amount_tendered": 40000}
    assert (await client.post(CASH, json=body, headers=cashier_headers)).status_code == 201
    again = await client.post(CASH, json=body, headers=cashier_headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_not_payable"


async def test_concurrent_cash_for_one_order_takes_it_once(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    body = {"order_id": order["id"], "amount_tendered": 40000}
    responses = await asyncio.gather(
        *(client.post(CASH, json=body, headers=cashier_headers) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert len(await _payments(sessionmaker)) == 1


async def test_unknown_order_is_404(
    client: httpx.AsyncClient, cashier_headers: dict[str, str]
) -> None:
    response = await client.post(
        CASH, json={"order_id": 987654, "amount_tendered": 1}, headers=cashier_headers
    )
    assert response.status_code == 404


async def test_pending_qris_is_cancelled_at_midtrans_before_cash(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, qris = await order_with_qris(client, demo_menu)
    await simulator.choose_qris(qris["order_uid"])
    await simulator.drain()
    response = await client.post(
        CASH, json={"order_id": order["id"], "amount_tendered": 35000}, headers=cashier_headers
    )
    assert response.status_code == 201, response.text
    assert simulator.transactions[qris["order_uid"]].status == "cancel"
    attempt, cash = await _payments(sessionmaker)
    assert (attempt.status, cash.status) == ("cancelled", "paid")
    # The customer's phone can no longer pay it.
    with pytest.raises(Exception, match="cancel|412|status"):
        await simulator.pay(qris["order_uid"])


async def test_unopened_snap_attempt_is_cancelled_locally_and_cash_taken(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, _ = await order_with_qris(client, demo_menu)
    response = await client.post(
        CASH, json={"order_id": order["id"], "amount_tendered": 35000}, headers=cashier_headers
    )
    assert response.status_code == 201, response.text
    attempt, cash = await _payments(sessionmaker)
    assert (attempt.status, cash.status) == ("cancelled", "paid")


@pytest.mark.parametrize("then", ["pays", "opens"])
async def test_an_unopened_snap_page_paid_after_cash_is_caught_by_reconciliation(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    then: str,
) -> None:
    """Nothing existed at Midtrans to cancel, but the Snap page can still be opened until the
    attempt's expiry. Should the customer pay there anyway and every notification be lost, the
    reconciler still asks about the attempt, and the money is flagged for a refund; should the
    customer only open it, the reconciler cancels the transaction that now exists."""
    order, qris = await order_with_qris(client, demo_menu)
    cash = await client.post(
        CASH, json={"order_id": order["id"], "amount_tendered": 35000}, headers=cashier_headers
    )
    assert cash.status_code == 201
    simulator.faults.drop_rate = 1.0
    if then == "pays":
        await simulator.pay(qris["order_uid"])
    else:
        await simulator.choose_qris(qris["order_uid"])
    await simulator.drain()

    await reconcile_once(sessionmaker, app.state.payment_gateway, pending_min_age=timedelta(0))
    attempt, _cash = await _payments(sessionmaker)
    if then == "pays":
        assert (attempt.status, attempt.needs_refund) == ("paid", True)
    else:
        assert simulator.transactions[qris["order_uid"]].status == "cancel"
    assert (await get_order(client, order))["status"] == "paid"


async def test_qris_paid_first_wins_and_cash_is_refused(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, qris = await order_with_qris(client, demo_menu)
    # The settlement notification has not arrived yet.
    await pay_with_notifications_lost(simulator, qris["order_uid"])
    response = await client.post(
        CASH, json={"order_id": order["id"], "amount_tendered": 35000}, headers=cashier_headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_paid_by_qris"
    [attempt] = await _payments(sessionmaker)
    assert attempt.status == "paid"
    body = await get_order(client, order)
    assert (body["status"], body["payment_status"]) == ("paid", "paid")


async def test_midtrans_unreachable_takes_cash_and_reconciliation_flags_a_late_settlement(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    from datetime import timedelta

    from santap.payments.reconcile import reconcile_once

    app: FastAPI = client._transport.app  # type: ignore[attr-defined]
    order, qris = await order_with_qris(client, demo_menu)
    await simulator.choose_qris(qris["order_uid"])
    simulator.faults.drop_rate = 1.0
    simulator.faults.error_rate = 1.0
    response = await client.post(
        CASH, json={"order_id": order["id"], "amount_tendered": 35000}, headers=cashier_headers
    )
    assert response.status_code == 201, response.text
    # Midtrans comes back; the customer had in fact paid by QRIS too.
    simulator.faults.error_rate = 0.0
    await simulator.pay(qris["order_uid"])
    await reconcile_once(sessionmaker, app.state.payment_gateway, pending_min_age=timedelta(0))
    attempt, cash = await _payments(sessionmaker)
    assert (attempt.status, attempt.needs_refund) == ("paid", True)
    assert (cash.status, cash.needs_refund) == ("paid", False)


async def test_a_hanging_midtrans_keeps_the_cashier_waiting_only_until_the_void_deadline(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app.state.payment_gateway = dataclasses.replace(app.state.payment_gateway, void_timeout_s=0.3)
    order, qris = await order_with_qris(client, demo_menu)
    simulator.faults.latency_s = 5.0  # Midtrans hangs, well inside the 10 s read timeout
    started = time.monotonic()
    response = await client.post(
        CASH, json={"order_id": order["id"], "amount_tendered": 35000}, headers=cashier_headers
    )
    waited = time.monotonic() - started
    assert response.status_code == 201, response.text
    assert waited < 2.5, f"the cashier waited {waited:.1f} s for Midtrans"
    attempt, cash = await _payments(sessionmaker)
    assert attempt.order_uid == qris["order_uid"]
    assert (attempt.status, cash.status) == ("pending", "paid")  # left for reconciliation
