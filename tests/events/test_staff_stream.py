"""The staff stream: every order's changes, for the cashier's board and the kitchen."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.fixtures.factories import place_order
from tests.fixtures.inbox import WEBHOOK_PATH
from tests.fixtures.live import stream
from tests.fixtures.payments import get_order, notification, order_with_qris

STAFF_EVENTS = "/api/v1/staff/events"


async def _order(client: httpx.AsyncClient, demo_menu: dict[str, int]) -> dict[str, Any]:
    return await place_order(client, [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 1}])


async def test_cash_a_kitchen_move_and_a_cancel_reach_the_staff_stream(
    client: httpx.AsyncClient,
    live: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
) -> None:
    kept = await _order(client, demo_menu)
    async with stream(live, STAFF_EVENTS, headers=cashier_headers) as source:
        [snapshot] = await source.take(1)
        assert snapshot.event == "snapshot"
        assert [o["id"] for o in json.loads(snapshot.data)["items"]] == [kept["id"]]
        placed = await _order(client, demo_menu)
        [new] = await source.take(1)
        assert (new.event, json.loads(new.data)["status"]) == ("order_placed", "pending_payment")
        cash = {"order_id": kept["id"], "amount_tendered": 10_000}
        assert (
            await client.post("/api/v1/payments/cash", json=cash, headers=cashier_headers)
        ).status_code == 201
        paid = await source.take(3)  # the cash payment is recorded, then paid, with its order
        assert sorted((e.event, json.loads(e.data)["status"]) for e in paid) == [
            ("order_status", "paid"),
            ("payment_status", "paid"),
            ("payment_status", "pending"),
        ]
        assert (
            json.loads(next(e for e in paid if e.event == "payment_status").data)["method"]
            == "cash"
        )
        moved = await client.post(
            f"/api/v1/admin/orders/{kept['id']}/status",
            json={"status": "preparing"},
            headers=cashier_headers,
        )
        assert moved.status_code == 200
        [preparing] = await source.take(1)
        cancelled = await client.post(
            f"/api/v1/admin/orders/{placed['id']}/cancel",
            json={"reason": "customer left"},
            headers=cashier_headers,
        )
        assert cancelled.status_code == 200
        [cancel] = await source.take(1)
    assert (preparing.event, json.loads(preparing.data)["status"]) == ("order_status", "preparing")
    ids = [int(e.id) for e in (new, *paid, preparing, cancel)]
    assert ids == sorted(set(ids))  # each once, in the order they happened
    assert json.loads(cancel.data) == {
        "order_id": placed["id"],
        "status": "cancelled",
        "from": "pending_payment",
        "reason": "customer left",
    }


async def test_a_cashier_token_reaches_the_staff_stream_and_a_customer_token_does_not(
    client: httpx.AsyncClient,
    live: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    order = await _order(client, demo_menu)
    for params, headers in (({}, {}), ({"access_token": order["access_token"]}, {})):
        refused = await live.get(STAFF_EVENTS, params=params, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "not_authenticated"
    token = cashier_headers["Authorization"].removeprefix("Bearer ")
    async with stream(live, STAFF_EVENTS, params={"access_token": token}) as source:
        [snapshot] = await source.take(1)
    assert snapshot.event == "snapshot"
    async with stream(live, STAFF_EVENTS, headers=admin_headers) as source:
        await source.take(1)


@pytest.mark.parametrize("settings_overrides", [{"MIDTRANS_VERIFY_STATUS": False}])
async def test_a_payment_flag_reaches_the_staff_stream(
    client: httpx.AsyncClient,
    live: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
) -> None:
    """A settlement for the wrong amount pays nothing and flags the attempt."""
    order, payment = await order_with_qris(client, demo_menu)
    async with stream(live, STAFF_EVENTS, headers=cashier_headers) as source:
        await source.take(1)
        body = notification(payment["order_uid"], "settlement", "34999.00")
        assert (await client.post(WEBHOOK_PATH, json=body)).status_code == 200
        [flag] = await source.take(1)
        await source.nothing_more()
    assert flag.event == "payment_flag"
    assert json.loads(flag.data) == {
        "order_id": order["id"],
        "payment_id": json.loads(flag.data)["payment_id"],
        "flag": "amount_mismatch",
        "set": True,
    }
    assert (await get_order(client, order))["status"] == "pending_payment"
