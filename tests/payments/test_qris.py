from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Payment
from santap.models.base import utcnow
from santap.payments.reconcile import reconcile_once
from santap.simulator import Simulator
from tests.fixtures.factories import place_order
from tests.fixtures.payments import (
    MIDTRANS_FAULTS,
    BrokenMidtrans,
    HeldMidtrans,
    order_token,
    order_with_qris,
)

CUSTOMER_502 = "The payment provider is not available right now; please try again"
QRIS = "/api/v1/payments/qris"


async def _payments(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Payment]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Payment).order_by(Payment.id))).all())


async def _order(client: httpx.AsyncClient, demo_menu: dict[str, int]) -> dict[str, Any]:
    return await place_order(client, [{"menu_item_id": demo_menu["Mie Ayam"], "quantity": 2}])


def _body(order: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"order_id": order["id"], "amount": order["total_amount"], **overrides}


async def test_snap_attempt_is_created_at_midtrans(
    client: httpx.AsyncClient, demo_menu: dict[str, int], simulator: Simulator
) -> None:
    order = await _order(client, demo_menu)
    response = await client.post(
        "/api/v1/payments/qris",
        headers=order_token(order),
        json=_body(order, customer_details={"first_name": "Budi", "email": "budi@example.com"}),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) >= {
        "transaction_token",
        "qris_url",
        "order_uid",
        "payment_id",
        "status",
        "amount",
        "expires_at",
    }
    assert body["amount"] == 50000
    assert body["status"] == "pending"
    assert body["order_uid"].startswith(f"SNTP-{order['id']}-")
    assert len(body["order_uid"]) <= 50
    sim_tx = simulator.transactions[body["order_uid"]]
    assert sim_tx.token == body["transaction_token"]
    assert body["qris_url"].startswith("http://testserver/_simulator/")
    page = await client.get(body["qris_url"], follow_redirects=True)
    assert page.status_code == 200
    assert "<svg" in page.text or "<form" in page.text


async def test_an_open_attempt_is_reused_not_duplicated(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    first = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    again = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(await _payments(sessionmaker)) == 1
    assert len(simulator.transactions) == 1


async def test_concurrent_requests_create_one_midtrans_transaction(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    simulator.faults.latency_s = 0.05  # keep the first request inside Midtrans while others arrive
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/payments/qris", headers=order_token(order), json=_body(order))
            for _ in range(6)
        )
    )
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["order_uid"] for r in responses}) == 1
    assert len(simulator.transactions) == 1
    assert len(await _payments(sessionmaker)) == 1


@pytest.mark.parametrize("settings_overrides", [{"MIDTRANS_QRIS_MODE": "core"}])
async def test_core_mode_returns_the_qr_string_and_action_url(
    client: httpx.AsyncClient, demo_menu: dict[str, int], simulator: Simulator
) -> None:
    order = await _order(client, demo_menu)
    response = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    sim_tx = simulator.transactions[body["order_uid"]]
    assert body["transaction_token"] == sim_tx.transaction_id
    assert body["qr_string"] == sim_tx.qr_string
    assert body["qris_url"].endswith("/qr-code")
    png = await client.get(body["qris_url"])
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG")


async def test_amount_must_match_the_server_total_and_midtrans_is_not_called(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    for amount in (order["total_amount"] - 1, order["total_amount"] + 1, 1):
        response = await client.post(
            "/api/v1/payments/qris", headers=order_token(order), json=_body(order, amount=amount)
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "amount_mismatch"
    assert simulator.transactions == {}
    assert await _payments(sessionmaker) == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"order_id": 1},
        {"order_id": "1", "amount": 50000},
        {"order_id": 1, "amount": 50000.5},
        {"order_id": 1, "amount": -5},
        {"order_id": 1, "amount": 50000, "customer_details": {"email": "not-an-email"}},
        {"order_id": 1, "amount": 50000, "customer_details": {"first_name": "x" * 300}},
        {"order_id": 1, "amount": 50000, "customer_details": "Budi"},
    ],
)
async def test_malformed_bodies_are_422(
    client: httpx.AsyncClient, demo_menu: dict[str, int], payload: dict[str, Any]
) -> None:
    await _order(client, demo_menu)
    response = await client.post("/api/v1/payments/qris", json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_unknown_order_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/payments/qris", json={"order_id": 424242, "amount": 1})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "order_not_found"


async def test_paid_order_is_409(
    client: httpx.AsyncClient, demo_menu: dict[str, int], simulator: Simulator
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    await simulator.pay(payment["order_uid"])
    await simulator.drain()
    response = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_not_payable"


async def test_midtrans_failure_is_502_and_the_next_request_starts_fresh(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    simulator.faults.error_rate = 1.0
    failed = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    assert failed.status_code == 502
    error = failed.json()["error"]
    assert error["code"] == "payment_gateway_error"
    assert error["message"] == CUSTOMER_502
    [attempt] = await _payments(sessionmaker)
    assert attempt.status == "failed"

    simulator.faults.error_rate = 0.0
    retried = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    assert retried.status_code == 201
    assert retried.json()["order_uid"] != attempt.order_uid
    assert [p.status for p in await _payments(sessionmaker)] == ["failed", "pending"]


@pytest.mark.parametrize("settings_overrides", [{"MIDTRANS_READ_TIMEOUT_S": 0.2}])
async def test_midtrans_timeout_is_504(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    simulator.faults.latency_s = 1.0
    response = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "payment_gateway_timeout"
    assert [p.status for p in await _payments(sessionmaker)] == ["failed"]


async def test_a_snap_qr_expires_with_its_attempt_not_when_the_payer_opens_it(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Snap counts from expiry.start_time, which Santap sets to the attempt's own start;
    without it the QR's 15 minutes would start whenever the payer opens the page."""
    order = await _order(client, demo_menu)
    created = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    tx = simulator.transactions[created.json()["order_uid"]]
    [attempt] = await _payments(sessionmaker)
    assert attempt.expires_at is not None
    assert tx.start_time is not None
    assert abs((attempt.expires_at - tx.start_time).total_seconds() - 15 * 60) < 1
    await simulator.choose_qris(attempt.order_uid)
    assert tx.expiry_time is not None
    assert abs((tx.expiry_time - attempt.expires_at).total_seconds()) < 1


@pytest.mark.parametrize("fault", MIDTRANS_FAULTS)
async def test_a_broken_midtrans_answer_is_502_and_a_retry_succeeds(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    broken_midtrans: BrokenMidtrans,
    sessionmaker: async_sessionmaker[AsyncSession],
    fault: str,
) -> None:
    order = await _order(client, demo_menu)
    broken_midtrans.break_with(fault)
    failed = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    assert failed.status_code == 502, failed.text
    assert failed.json()["error"]["code"] == "payment_gateway_error"
    assert [p.status for p in await _payments(sessionmaker)] == ["failed"]

    broken_midtrans.repair()
    retried = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    assert retried.status_code == 201, retried.text
    assert [p.status for p in await _payments(sessionmaker)] == ["failed", "pending"]


async def test_payment_poll_is_public_and_carries_no_customer_details(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Jeruk"], "quantity": 1}])
    created = await client.post(
        "/api/v1/payments/qris",
        headers=order_token(order),
        json=_body(order, customer_details={"first_name": "Siti", "phone": "+628123456789"}),
    )
    uid = created.json()["order_uid"]
    polled = await client.get(f"/api/v1/payments/{uid}")
    assert polled.status_code == 200
    body = polled.json()
    assert set(body) == {
        "order_uid",
        "order_id",
        "method",
        "status",
        "amount",
        "transaction_token",
        "qris_url",
        "qr_string",
        "expires_at",
        "paid_at",
    }
    assert body["order_id"] == order["id"]
    assert "Siti" not in polled.text
    assert "628123456789" not in polled.text
    assert (await client.get("/api/v1/payments/SNTP-1-doesnotexist")).status_code == 404
    assert (await client.get("/api/v1/payments/bad%20uid")).status_code == 422


async def test_an_attempt_about_to_expire_is_closed_at_midtrans_before_a_new_one(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    first = (
        await client.post("/api/v1/payments/qris", headers=order_token(order), json=_body(order))
    ).json()
    await simulator.choose_qris(first["order_uid"])
    async with sessionmaker() as session:
        await session.execute(
            update(Payment)
            .where(Payment.order_uid == first["order_uid"])
            .values(expires_at=utcnow() + timedelta(seconds=30))
        )
        await session.commit()
    second = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    assert second.status_code == 201
    assert second.json()["order_uid"] != first["order_uid"]
    assert simulator.transactions[first["order_uid"]].status == "cancel"
    assert [p.status for p in await _payments(sessionmaker)] == ["cancelled", "pending"]


async def test_an_expiring_attempt_found_paid_pays_the_order_instead(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    first = (
        await client.post("/api/v1/payments/qris", headers=order_token(order), json=_body(order))
    ).json()
    simulator.faults.drop_rate = 1.0
    await simulator.pay(first["order_uid"])
    async with sessionmaker() as session:
        await session.execute(
            update(Payment)
            .where(Payment.order_uid == first["order_uid"])
            .values(expires_at=utcnow() + timedelta(seconds=30))
        )
        await session.commit()
    second = await client.post(
        "/api/v1/payments/qris", headers=order_token(order), json=_body(order)
    )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "order_not_payable"
    assert [p.status for p in await _payments(sessionmaker)] == ["paid"]
    assert len(simulator.transactions) == 1


@pytest.mark.parametrize(
    "proof",
    [{}, {"X-Order-Token": "not-the-token"}, {"Authorization": "Bearer not-a-staff-token"}],
    ids=["none", "wrong-token", "bad-bearer"],
)
async def test_without_the_order_token_or_staff_an_order_is_not_found_and_its_total_unseen(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    proof: dict[str, str],
) -> None:
    order = await _order(client, demo_menu)
    for body in (_body(order), _body(order, amount=1)):
        probed = await client.post(QRIS, json=body, headers=proof)
        assert probed.status_code == 404, probed.text
        assert probed.json()["error"]["code"] == "order_not_found"
        assert str(order["total_amount"]) not in probed.text
    assert simulator.transactions == {}
    created = await client.post(QRIS, json=_body(order), headers=order_token(order))
    assert created.status_code == 201
    paid = await client.post(
        "/api/v1/payments/cash",
        json={"order_id": order["id"], "amount_tendered": order["total_amount"]},
        headers=cashier_headers,
    )
    assert paid.status_code == 201
    # A paid order is a 409 to its holder, and still nothing to anyone else.
    assert (await client.post(QRIS, json=_body(order), headers=proof)).status_code == 404
    assert (
        await client.post(QRIS, json=_body(order), headers=order_token(order))
    ).status_code == 409


async def test_a_cashier_starts_qris_for_a_counter_order_with_a_staff_token(
    client: httpx.AsyncClient, demo_menu: dict[str, int], cashier_headers: dict[str, str]
) -> None:
    order = await _order(client, demo_menu)
    started = await client.post(QRIS, json=_body(order), headers=cashier_headers)
    assert started.status_code == 201, started.text
    again = await client.post(QRIS, json=_body(order), headers=order_token(order))
    assert (again.status_code, again.json()) == (200, started.json())


async def test_a_gateway_failure_shows_customers_no_internals_and_staff_the_detail(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    broken_midtrans: BrokenMidtrans,
    cashier_headers: dict[str, str],
) -> None:
    broken_midtrans.break_with("refused")
    order = await _order(client, demo_menu)
    customer = await client.post(QRIS, json=_body(order), headers=order_token(order))
    assert customer.status_code == 502
    assert customer.json()["error"] == {
        "code": "payment_gateway_error",
        "message": CUSTOMER_502,
        "details": None,
    }
    staff = await client.post(QRIS, json=_body(order), headers=cashier_headers)
    assert staff.status_code == 502
    assert staff.json()["error"]["message"] == (
        "Midtrans was unreachable at testserver: ConnectError: [Errno 111] Connection refused"
    )
    assert staff.json()["error"]["details"]["host"] == "testserver"


async def test_a_slow_midtrans_holds_up_no_other_write(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    held_midtrans: HeldMidtrans,
    cashier_headers: dict[str, str],
) -> None:
    """No transaction is open while Midtrans creates the QRIS (on SQLite one would hold the
    write lock and stall every writer; before, orders waited here until Midtrans answered)."""
    order = await _order(client, demo_menu)
    creating = asyncio.create_task(client.post(QRIS, json=_body(order), headers=order_token(order)))
    await held_midtrans.entered.wait()
    other = await asyncio.wait_for(_order(client, demo_menu), timeout=10)
    cash = await asyncio.wait_for(
        client.post(
            "/api/v1/payments/cash",
            json={"order_id": other["id"], "amount_tendered": other["total_amount"]},
            headers=cashier_headers,
        ),
        timeout=10,
    )
    assert cash.status_code == 201, cash.text
    assert not creating.done()
    held_midtrans.release.set()
    assert (await creating).status_code == 201


async def test_concurrent_creations_against_a_slow_midtrans_all_succeed(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    orders = [await _order(client, demo_menu) for _ in range(8)]
    simulator.faults.latency_s = 1.0
    responses = await asyncio.gather(
        *(client.post(QRIS, json=_body(o), headers=order_token(o)) for o in orders),
        *(_order(client, demo_menu) for _ in range(4)),
    )
    assert [r.status_code for r in responses[:8]] == [201] * 8
    assert [p.status for p in await _payments(sessionmaker)] == ["pending"] * 8


async def test_a_creation_that_crashed_between_phases_is_closed_by_reconciliation(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await _order(client, demo_menu)
    created = await client.post(QRIS, json=_body(order), headers=order_token(order))
    uid = created.json()["order_uid"]
    # As if the process died after Midtrans answered, before the answer was recorded.
    long_ago = utcnow() - timedelta(minutes=5)
    async with sessionmaker() as session:
        await session.execute(
            update(Payment).values(status="creating", snap_token=None, created_at=long_ago)
        )
        await session.commit()
    retried = await client.post(QRIS, json=_body(order), headers=order_token(order))
    assert retried.status_code == 201  # not left waiting on the crashed one
    assert retried.json()["order_uid"] != uid
    result = await reconcile_once(sessionmaker, app.state.payment_gateway)
    assert result.outcomes.get("closed_creation") == 1
    assert [p.status for p in await _payments(sessionmaker)] == ["cancelled", "pending"]
