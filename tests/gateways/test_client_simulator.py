"""MidtransClient against the simulator over ASGI: the same calls Santap makes in development."""

from __future__ import annotations

import httpx
import pytest

from santap.gateways.midtrans import (
    ItemDetail,
    MidtransClient,
    MidtransError,
    QrisChargeRequest,
    SnapTransactionRequest,
    verify_signature,
)
from santap.simulator import Simulator
from santap.simulator.testing import NotificationRecorder

ITEMS = [
    ItemDetail(id="NASI", name="Nasi goreng", price=25000, quantity=2),
    ItemDetail(id="TEH", name="Es teh", price=5000, quantity=1),
]


def _charge(order_id: str) -> QrisChargeRequest:
    return QrisChargeRequest(order_id=order_id, gross_amount=55000, item_details=ITEMS)


def _snap(order_id: str) -> SnapTransactionRequest:
    return SnapTransactionRequest(order_id=order_id, gross_amount=55000, item_details=ITEMS)


async def test_full_cycle_charge_pay_signed_notifications(
    client: MidtransClient, sim: Simulator, receiver: NotificationRecorder, server_key: str
) -> None:
    charge = await client.charge_qris(_charge("ORD-1"), idempotency_key="idem-ORD-1")
    assert charge.transaction_status == "pending"
    assert charge.qr_code_url == f"{sim.public_base_url}/v2/qris/{charge.transaction_id}/qr-code"
    assert charge.qr_string is not None
    assert charge.qr_string.startswith("000201")
    assert charge.expiry_time is not None
    await sim.pay("ORD-1")
    await sim.drain()
    assert receiver.statuses() == ["pending", "settlement"]
    assert all(verify_signature(n, server_key) for n in receiver.received)
    assert not verify_signature(receiver.received[-1], "SB-Mid-server-other")
    settled = receiver.received[-1]
    assert (settled["status_code"], settled["gross_amount"]) == ("200", "55000.00")
    status = await client.get_status(charge.transaction_id)
    assert status.is_paid
    assert status.signature_key == settled["signature_key"]
    assert status.settlement_time is not None


async def test_snap_status_is_404_until_qris_is_chosen(
    client: MidtransClient, sim: Simulator, receiver: NotificationRecorder
) -> None:
    snap = await client.create_snap_transaction(_snap("ORD-2"))
    assert snap.redirect_url == f"{sim.public_base_url}/snap/v3/redirection/{snap.token}"
    with pytest.raises(MidtransError) as caught:
        await client.get_status("ORD-2")
    assert caught.value.is_not_found
    await sim.choose_qris("ORD-2")
    pending = await client.get_status("ORD-2")
    assert (pending.transaction_status, pending.status_code) == ("pending", "201")
    await sim.pay("ORD-2")
    assert (await client.get_status("ORD-2")).transaction_status == "settlement"
    await sim.drain()
    assert receiver.statuses() == ["pending", "settlement"]


async def test_duplicate_order_ids_are_rejected(client: MidtransClient) -> None:
    await client.charge_qris(_charge("ORD-3"))
    with pytest.raises(MidtransError) as core:
        await client.charge_qris(_charge("ORD-3"))
    assert core.value.status_code == "406"
    await client.create_snap_transaction(_snap("ORD-4"))
    with pytest.raises(MidtransError, match="order_id") as snap:
        await client.create_snap_transaction(_snap("ORD-4"))
    assert snap.value.http_status == 400


async def test_idempotency_key_returns_the_first_charge(client: MidtransClient) -> None:
    first = await client.charge_qris(_charge("ORD-5"), idempotency_key="same")
    again = await client.charge_qris(_charge("ORD-5"), idempotency_key="same")
    assert again.transaction_id == first.transaction_id


async def test_cancel_and_expire(client: MidtransClient) -> None:
    await client.charge_qris(_charge("ORD-6"))
    cancelled = await client.cancel("ORD-6")
    assert (cancelled.transaction_status, cancelled.status_code) == ("cancel", "200")
    with pytest.raises(MidtransError) as caught:
        await client.cancel("ORD-6")
    assert caught.value.status_code == "412"
    await client.charge_qris(_charge("ORD-7"))
    expired = await client.expire("ORD-7")
    assert (expired.transaction_status, expired.status_code) == ("expire", "407")
    with pytest.raises(MidtransError) as again:
        await client.expire("ORD-7")
    assert again.value.status_code == "412"


async def test_refunds_partial_full_and_idempotent(client: MidtransClient, sim: Simulator) -> None:
    charge = await client.charge_qris(_charge("ORD-8"))
    with pytest.raises(MidtransError) as unpaid:
        await client.refund("ORD-8", amount=None, reason="x", refund_key="r0")
    assert unpaid.value.status_code == "412"
    await sim.pay("ORD-8")
    partial = await client.refund("ORD-8", amount=5000, reason="cold", refund_key="r1")
    assert (partial.transaction_status, partial.refund_amount) == ("partial_refund", 5000)
    repeat = await client.refund("ORD-8", amount=5000, reason="cold", refund_key="r1")
    assert repeat.raw == partial.raw
    assert sim.transactions["ORD-8"].refunded_amount == 5000
    with pytest.raises(MidtransError) as too_much:
        await client.refund("ORD-8", amount=50001, reason="x", refund_key="r2")
    assert too_much.value.status_code == "414"
    full = await client.refund(charge.transaction_id, amount=None, reason="all", refund_key="r3")
    assert (full.transaction_status, full.refund_amount) == ("refund", 50000)
    status = await client.get_status("ORD-8")
    assert status.transaction_status == "refund"
    assert status.raw["refund_amount"] == "55000.00"


async def test_wrong_server_key_is_401(sim: Simulator) -> None:
    async with MidtransClient(
        server_key="SB-Mid-server-wrong",
        snap_base_url=sim.public_base_url,
        core_base_url=sim.public_base_url,
        transport=httpx.ASGITransport(app=sim.app),
    ) as wrong:
        with pytest.raises(MidtransError) as snap:
            await wrong.create_snap_transaction(_snap("ORD-9"))
        with pytest.raises(MidtransError) as core:
            await wrong.get_status("ORD-9")
    assert snap.value.http_status == 401
    assert snap.value.status_code is None
    assert core.value.status_code == "401"


async def test_notification_url_override(
    client: MidtransClient, sim: Simulator, receiver: NotificationRecorder
) -> None:
    await client.charge_qris(_charge("ORD-10"), notification_url="http://merchant.test/other")
    await sim.drain()
    assert receiver.received == []  # the receiver only serves /notify
    assert [(d.url, d.http_status) for d in sim.deliveries][0] == (
        "http://merchant.test/other",
        404,
    )


async def test_injected_server_errors_are_retried_for_status(
    client: MidtransClient, sim: Simulator
) -> None:
    await client.charge_qris(_charge("ORD-11"))
    sim.faults.update({"error_rate": 1.0, "seed": 1})
    with pytest.raises(MidtransError) as caught:
        await client.get_status("ORD-11")
    assert caught.value.http_status == 500
    sim.faults.update({"error_rate": 0.0})
    assert (await client.get_status("ORD-11")).transaction_status == "pending"
