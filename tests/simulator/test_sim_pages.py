"""The payer page, its buttons, the programmatic actions, and expiry by time."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from santap.gateways.midtrans import verify_signature
from santap.simulator import Simulator, SimulatorError, create_simulator
from santap.simulator.testing import NotificationRecorder


def snap_body(order_id: str) -> dict[str, Any]:
    return {"transaction_details": {"order_id": order_id, "gross_amount": 15000}}


async def test_snap_page_pay_picks_qris_then_settles(
    api: httpx.AsyncClient, sim: Simulator, receiver: NotificationRecorder
) -> None:
    created = (await api.post("/snap/v1/transactions", json=snap_body("P-1"))).json()
    page = await api.get(created["redirect_url"], follow_redirects=True)
    assert page.status_code == 200
    assert "P-1" in page.text
    assert "waiting for the payer" in page.text
    assert f'action="{sim.public_base_url}/pay/P-1/pay"' in page.text
    paid = await api.post("/pay/P-1/pay")
    assert paid.status_code == 303
    after = await api.get(paid.headers["location"])
    assert '<dd id="status">settlement</dd>' in after.text
    assert "<form" not in after.text  # nothing left to do with a settled payment
    await sim.drain()
    assert receiver.statuses() == ["pending", "settlement"]
    assert receiver.received[0]["transaction_id"] == receiver.received[1]["transaction_id"]


async def test_page_shows_inline_qr_for_pending(api: httpx.AsyncClient, sim: Simulator) -> None:
    await api.post("/snap/v1/transactions", json=snap_body("P-2"))
    await sim.choose_qris("P-2")
    page = await api.get("/pay/P-2")
    assert "<svg" in page.text
    assert '<dd id="status">pending</dd>' in page.text
    for action in ("pay", "expire", "cancel"):
        assert f"/pay/P-2/{action}" in page.text


@pytest.mark.parametrize(("action", "status"), [("expire", "expire"), ("cancel", "cancel")])
async def test_page_expire_and_cancel(
    api: httpx.AsyncClient, sim: Simulator, action: str, status: str
) -> None:
    sim.charge({"payment_type": "qris", **snap_body("P-3")})
    await api.post(f"/pay/P-3/{action}")
    assert sim.transactions["P-3"].status == status
    refused = await api.post("/pay/P-3/pay")
    error_page = await api.get(refused.headers["location"])
    assert f"cannot pay a transaction that is {status}" in error_page.text


@pytest.mark.parametrize(("action", "status"), [("expire", "expire"), ("cancel", "cancel")])
async def test_snap_page_expire_and_cancel_before_a_method_is_chosen(
    api: httpx.AsyncClient,
    sim: Simulator,
    receiver: NotificationRecorder,
    server_key: str,
    action: str,
    status: str,
) -> None:
    """As on Midtrans' own page, the payment can expire (or be given up) before the payer
    picks QRIS; the merchant is told, and the status API then knows the transaction."""
    created = (await api.post("/snap/v1/transactions", json=snap_body("P-6"))).json()
    page = await api.get(created["redirect_url"], follow_redirects=True)
    assert f'action="{sim.public_base_url}/pay/P-6/{action}"' in page.text
    closed = await api.post(f"/pay/P-6/{action}")
    assert closed.status_code == 303
    assert "error" not in closed.headers["location"]
    after = await api.get(closed.headers["location"])
    assert f'<dd id="status">{status}</dd>' in after.text
    assert "Transaction doesn" not in after.text
    assert "<form" not in after.text  # nothing left to do
    await sim.drain()
    [notified] = receiver.received
    assert (notified["order_id"], notified["transaction_status"]) == ("P-6", status)
    assert notified["status_code"] == "202"
    assert verify_signature(notified, server_key)
    answer = (await api.get("/v2/P-6/status")).json()
    assert (answer["transaction_status"], answer["transaction_id"]) == (
        status,
        notified["transaction_id"],
    )
    refused = await api.post("/pay/P-6/pay")
    error_page = await api.get(refused.headers["location"])
    assert f"cannot pay a transaction that is {status}" in error_page.text
    assert receiver.statuses() == [status]  # no QRIS was started by the refused payment


async def test_page_escapes_and_404s(api: httpx.AsyncClient) -> None:
    assert (await api.get("/pay/unknown")).status_code == 404
    assert (await api.post("/pay/unknown/pay")).status_code == 404


async def test_programmatic_actions_validate(sim: Simulator) -> None:
    sim.charge({"payment_type": "qris", **snap_body("P-4")})
    with pytest.raises(SimulatorError):
        await sim.choose_qris("P-4")  # a Core charge has no Snap page choice
    await sim.pay("P-4")
    with pytest.raises(SimulatorError) as caught:
        await sim.pay("P-4")
    assert caught.value.status == 412
    with pytest.raises(SimulatorError):
        await sim.cancel_transaction("NOPE")


async def test_pending_transactions_expire_by_themselves(receiver: NotificationRecorder) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app)) as http:
        sim = create_simulator(
            server_key="SB-Mid-server-x",
            notify_url="http://merchant.test/notify",
            public_base_url="http://sim.test",
            expiry_factor=0.001,  # 60 s expiry -> 0.06 s
            http_client=http,
        )
        sim.charge(
            {
                "payment_type": "qris",
                **snap_body("P-5"),
                "custom_expiry": {"expiry_duration": 1, "unit": "minute"},
            }
        )
        for _ in range(100):
            if sim.transactions["P-5"].status == "expire":
                break
            await asyncio.sleep(0.01)
        await sim.drain()
        await sim.aclose()
    assert sim.transactions["P-5"].status == "expire"
    assert receiver.statuses() == ["pending", "expire"]
