"""The simulator's Snap page, through the app: a payment that expires or is cancelled before
the payer chose a method is closed in Santap too, by Midtrans' notification."""

from __future__ import annotations

import httpx
import pytest

from santap.main import SIMULATOR_PATH
from santap.simulator import Simulator
from tests.fixtures.payments import get_order, order_token, order_with_qris


@pytest.mark.parametrize(("action", "closed"), [("expire", "expired"), ("cancel", "cancelled")])
async def test_closing_the_snap_page_before_choosing_closes_the_attempt(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    action: str,
    closed: str,
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    uid = payment["order_uid"]
    assert simulator.transactions[uid].status is None  # no method chosen yet

    pressed = await client.post(f"{SIMULATOR_PATH}/pay/{uid}/{action}")
    assert pressed.status_code == 303
    assert "error" not in pressed.headers["location"]
    await simulator.drain()

    polled = await client.get(f"/api/v1/payments/{uid}")
    assert polled.json()["status"] == closed
    assert (await get_order(client, order))["status"] == "pending_payment"
    fresh = await client.post(
        "/api/v1/payments/qris",
        json={"order_id": order["id"], "amount": order["total_amount"]},
        headers=order_token(order),
    )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["order_uid"] != uid
