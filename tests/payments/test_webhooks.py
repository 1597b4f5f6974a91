from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import (
    Notification,
    OrderStatusHistory,
    Payment,
    PaymentStatusHistory,
    RejectedNotification,
)
from santap.simulator import Simulator
from tests.fixtures.inbox import retry_now
from tests.fixtures.payments import (
    MIDTRANS_FAULTS,
    BrokenMidtrans,
    get_order,
    notification,
    order_with_qris,
    pay_with_notifications_lost,
)

WEBHOOK = "/api/v1/webhooks/midtrans"
NO_VERIFY = {"MIDTRANS_VERIFY_STATUS": False}


async def _counts(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with sessionmaker() as session:
        payments = (await session.scalars(select(Payment))).all()
        return {
            "payments": sorted((p.order_uid, p.status, p.needs_refund) for p in payments),
            "order_history": await session.scalar(
                select(func.count()).select_from(OrderStatusHistory)
            ),
            "payment_history": await session.scalar(
                select(func.count()).select_from(PaymentStatusHistory)
            ),
        }


async def _rejected(sessionmaker: async_sessionmaker[AsyncSession]) -> list[RejectedNotification]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(RejectedNotification))).all())


async def _inbox(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Notification]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Notification).order_by(Notification.id))).all())


@pytest.mark.parametrize("settings_overrides", [NO_VERIFY])
async def test_signed_settlement_pays_the_order_once_and_duplicates_are_noops(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], "settlement", "35000.00")
    first = await client.post(WEBHOOK, json=body)
    assert first.status_code == 200, first.text
    assert first.json() == {"status": "accepted"}
    before = await _counts(sessionmaker)
    for _ in range(3):
        again = await client.post(WEBHOOK, json=body)
        assert again.status_code == 200
        assert again.json() == {"status": "duplicate"}
    assert await _counts(sessionmaker) == before
    assert (await get_order(client, order))["status"] == "paid"
    [stored] = await _inbox(sessionmaker)
    assert stored.deliveries == 4
    assert stored.outcome == "applied"


@pytest.mark.parametrize("settings_overrides", [NO_VERIFY])
@pytest.mark.parametrize(
    "tamper",
    [
        {"signature_key": "0" * 128},
        {"signature_key": None},
        {"gross_amount": "1.00"},
        {"status_code": "201"},
        {"order_id": "SNTP-other"},
    ],
)
async def test_forged_notifications_are_401_logged_stored_and_change_nothing(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
    tamper: dict[str, Any],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], "settlement", "35000.00")
    signature = body["signature_key"]
    body.update(tamper)
    if tamper.get("signature_key", "") is None:
        del body["signature_key"]
    before = await _counts(sessionmaker)
    with caplog.at_level(logging.WARNING):
        response = await client.post(WEBHOOK, json=body, headers={"X-Forwarded-For": "6.6.6.6"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert await _counts(sessionmaker) == before
    assert (await get_order(client, order))["status"] == "pending_payment"
    assert await _inbox(sessionmaker) == []
    [kept] = await _rejected(sessionmaker)
    assert (kept.order_uid, kept.source_ip) == (body["order_id"], "127.0.0.1")
    assert any(
        "bad signature" in r.getMessage() and "127.0.0.1" in r.getMessage() for r in caplog.records
    )
    assert signature not in caplog.text


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"order_id": "x"}', "application/json", 400),
        (
            b'{"order_id": "x", "status_code": 200, "gross_amount": "1.00",'
            b' "transaction_status": "settlement"}',
            "application/json",
            400,
        ),
        # A lone surrogate or a NUL cannot be hashed or stored (these were 500s).
        (
            b'{"order_id": "\\ud800", "status_code": "200", "gross_amount": "1.00",'
            b' "transaction_status": "settlement", "signature_key": "x"}',
            "application/json",
            400,
        ),
        (
            b'{"order_id": "SNTP-1", "status_code": "200", "gross_amount": "1.00",'
            b' "transaction_status": "settle\\u0000ment", "signature_key": "\\udfff"}',
            "application/json",
            400,
        ),
        (b"order_id=x", "application/x-www-form-urlencoded", 415),
        (b"x" * (65 * 1024), "application/json", 413),
    ],
)
async def test_malformed_deliveries_are_4xx_and_change_nothing(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    content: bytes,
    content_type: str,
    status: int,
) -> None:
    response = await client.post(WEBHOOK, content=content, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert await _inbox(sessionmaker) == []


async def test_a_lone_surrogate_in_an_unread_field_is_still_stored_and_judged(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Hashing the body for its inbox key must not fail on it (that was a 500)."""
    body = (
        b'{"order_id": "SNTP-1", "status_code": "200", "gross_amount": "1.00",'
        b' "transaction_status": "settlement", "signature_key": "x", "issuer": "\\ud800"}'
    )
    response = await client.post(
        WEBHOOK, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 401
    [kept] = await _rejected(sessionmaker)
    assert kept.body_prefix == body.decode()


async def test_webhook_accepts_post_only_and_is_not_in_the_openapi_document(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get(WEBHOOK)).status_code == 405
    assert (await client.put(WEBHOOK, json={})).status_code == 405
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert WEBHOOK not in paths
    assert "/api/v1/payments/qris" in paths


async def test_unknown_order_id_is_404_and_changes_nothing(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await order_with_qris(client, demo_menu)
    before = await _counts(sessionmaker)
    response = await client.post(
        WEBHOOK, json=notification("payment_notif_test_G123_1", "settlement", "35000.00")
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_transaction"
    assert await _counts(sessionmaker) == before


@pytest.mark.parametrize("settings_overrides", [NO_VERIFY])
@pytest.mark.parametrize("gross", ["34999.00", "35000.01", "350000.00", "abc", "35000"])
async def test_amount_mismatch_is_flagged_and_not_paid(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    gross: str,
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    response = await client.post(
        WEBHOOK, json=notification(payment["order_uid"], "settlement", gross)
    )
    if gross == "35000":  # "35000" equals 35000 as a Decimal: the amount is right
        assert response.json() == {"status": "accepted"}
        return
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    assert (await get_order(client, order))["status"] == "pending_payment"
    async with sessionmaker() as session:
        stored = await session.scalar(select(Payment))
    assert stored is not None
    assert stored.amount_mismatch is True
    assert stored.status == "pending"


@pytest.mark.parametrize("settings_overrides", [NO_VERIFY])
@pytest.mark.parametrize(
    ("sequence", "final"),
    [
        (["settlement", "pending"], "paid"),
        (["settlement", "expire"], "paid"),
        (["settlement", "cancel", "deny", "failure"], "paid"),
        (["expire", "settlement"], "paid"),
        (["cancel", "settlement"], "paid"),
        (["pending", "expire", "pending"], "expired"),
        (["deny"], "failed"),
        (["FAILURE"], "failed"),
        (["SETTLEMENT"], "paid"),
        # Refunds are asked about even with verification off: tests/payments/
        # test_refund_notifications.py.
    ],
)
async def test_notifications_move_attempts_monotonically(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    sequence: list[str],
    final: str,
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    for status in sequence:
        response = await client.post(
            WEBHOOK, json=notification(payment["order_uid"], status, "35000.00")
        )
        assert response.status_code == 200, response.text
    polled = (await client.get(f"/api/v1/payments/{payment['order_uid']}")).json()
    assert polled["status"] == final
    expected_order = {
        "paid": "paid",
        "refunded": "cancelled",
        "partially_refunded": "paid",
    }.get(final, "pending_payment")
    assert (await get_order(client, order))["status"] == expected_order


@pytest.mark.parametrize("settings_overrides", [NO_VERIFY])
async def test_capture_needs_fraud_accept_and_challenge_is_flagged(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    _, challenged = await order_with_qris(client, demo_menu)
    await client.post(
        WEBHOOK,
        # Midtrans sends a challenged capture with status_code "201".
        json=notification(
            challenged["order_uid"],
            "capture",
            "35000.00",
            status_code="201",
            fraud_status="challenge",
        ),
    )
    _, accepted = await order_with_qris(client, demo_menu)
    await client.post(
        WEBHOOK,
        json=notification(accepted["order_uid"], "capture", "35000.00", fraud_status="ACCEPT"),
    )
    async with sessionmaker() as session:
        rows = {p.order_uid: p for p in (await session.scalars(select(Payment))).all()}
    assert rows[challenged["order_uid"]].status == "pending"
    assert rows[challenged["order_uid"]].fraud_challenge is True
    assert rows[accepted["order_uid"]].status == "paid"


async def test_status_verification_acts_on_midtrans_not_the_body(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    await simulator.choose_qris(payment["order_uid"])
    await simulator.drain()
    # Correctly signed (signatures do not cover transaction_status), but Midtrans says pending.
    response = await client.post(
        WEBHOOK, json=notification(payment["order_uid"], "settlement", "35000.00")
    )
    assert response.status_code == 200
    assert (await get_order(client, order))["status"] == "pending_payment"


async def test_snap_attempt_not_chosen_yet_is_a_2xx_noop(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    response = await client.post(
        WEBHOOK, json=notification(payment["order_uid"], "settlement", "35000.00")
    )
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    assert (await get_order(client, order))["status"] == "pending_payment"


async def test_failed_status_check_keeps_the_notification_for_reconciliation(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    await pay_with_notifications_lost(simulator, payment["order_uid"])
    simulator.faults.error_rate = 1.0
    response = await client.post(
        WEBHOOK, json=notification(payment["order_uid"], "settlement", "35000.00")
    )
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    [stored] = await _inbox(sessionmaker)
    assert stored.applied_at is None
    assert (await get_order(client, order))["status"] == "pending_payment"

    simulator.faults.error_rate = 0.0
    await retry_now(app, sessionmaker)
    assert (await get_order(client, order))["status"] == "paid"
    [stored] = await _inbox(sessionmaker)
    assert stored.applied_at is not None


@pytest.mark.parametrize("fault", MIDTRANS_FAULTS)
async def test_a_broken_status_answer_queues_the_notification_for_reconciliation(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    broken_midtrans: BrokenMidtrans,
    sessionmaker: async_sessionmaker[AsyncSession],
    fault: str,
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    await pay_with_notifications_lost(simulator, payment["order_uid"])
    broken_midtrans.break_with(fault)
    response = await client.post(
        WEBHOOK, json=notification(payment["order_uid"], "settlement", "35000.00")
    )
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    [stored] = await _inbox(sessionmaker)
    assert (stored.applied_at, stored.outcome) == (None, "retry")

    broken_midtrans.repair()
    await retry_now(app, sessionmaker)
    assert (await get_order(client, order))["status"] == "paid"


@pytest.mark.parametrize("settings_overrides", [NO_VERIFY])
@pytest.mark.parametrize("edited", ["settlement", "capture", "refund"])
async def test_a_signed_body_whose_status_was_edited_moves_no_money(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    edited: str,
) -> None:
    """The signature covers status_code but not transaction_status: a genuine pending body
    ("201") relabelled as a settlement must not pay the order when nothing asks Midtrans."""
    order, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], edited, "35000.00", status_code="201")
    response = await client.post(WEBHOOK, json=body)
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    # A refund is asked about at Midtrans, where this attempt was never even opened.
    outcome = "not_at_midtrans" if edited == "refund" else "ignored"
    [stored] = await _inbox(sessionmaker)
    assert stored.outcome == outcome
    assert (await get_order(client, order))["status"] == "pending_payment"
    async with sessionmaker() as session:
        assert await session.scalar(select(Payment.status)) == "pending"


@pytest.mark.parametrize("settings_overrides", [NO_VERIFY])
async def test_concurrent_duplicate_notifications_make_one_transition(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], "settlement", "35000.00")
    responses = await asyncio.gather(*(client.post(WEBHOOK, json=body) for _ in range(8)))
    assert [r.status_code for r in responses] == [200] * 8
    assert sorted(r.json()["status"] for r in responses) == ["accepted"] + ["duplicate"] * 7
    counts = await _counts(sessionmaker)
    assert counts["order_history"] == 2
    assert counts["payment_history"] == 3  # creating, pending, paid
