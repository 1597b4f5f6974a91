"""The simulator's Midtrans surface, checked against the shapes in midtrans.md."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from santap.gateways.midtrans import verify_signature
from santap.gateways.midtrans.schemas import JAKARTA
from santap.simulator import Simulator
from santap.simulator.qr import crc16_ccitt
from santap.simulator.state import SimulatorError

WIB_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def payment(order_id: str, gross: int = 10000, **extra: Any) -> dict[str, Any]:
    return {
        "transaction_details": {"order_id": order_id, "gross_amount": gross},
        "item_details": [{"id": "SKU1", "price": 5000, "quantity": 2, "name": "Item"}],
        **extra,
    }


def qris(order_id: str, gross: int = 10000) -> dict[str, Any]:
    return payment(order_id, gross, payment_type="qris", qris={"acquirer": "gopay"})


async def test_unauthorized_bodies_are_exact(sim: Simulator) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=sim.public_base_url
    ) as anonymous:
        snap = await anonymous.post("/snap/v1/transactions", json=payment("A"))
        core = await anonymous.get("/v2/A/status", auth=("SB-Mid-server-nope", ""))
    assert snap.status_code == 401
    assert snap.json() == {
        "error_messages": [
            "Access denied due to unauthorized transaction, please check client or server key",
            "Visit https://snap-docs.midtrans.com/#request-headers for more details",
        ]
    }
    assert core.status_code == 401
    assert core.json() == {
        "status_code": "401",
        "status_message": "Transaction cannot be authorized with the current client/server key.",
    }


async def test_snap_create_and_redirect(api: httpx.AsyncClient, sim: Simulator) -> None:
    created = await api.post("/snap/v1/transactions", json=payment("S-1"))
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"token", "redirect_url"}
    assert body["redirect_url"] == f"{sim.public_base_url}/snap/v3/redirection/{body['token']}"
    page = await api.get(body["redirect_url"])
    assert page.status_code == 303
    assert page.headers["location"] == f"{sim.public_base_url}/pay/S-1"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/snap/v1/transactions", payment("M-1", gross=9999), 400),
        ("/v2/charge", qris("M-2", gross=9999), 400),
    ],
)
async def test_gross_amount_must_equal_items(
    api: httpx.AsyncClient, path: str, body: dict[str, Any], status: int
) -> None:
    answer = await api.post(path, json=body)
    assert answer.status_code == status
    text = "transaction_details.gross_amount is not equal to the sum of item_details"
    assert text in answer.text


async def test_duplicate_order_ids(api: httpx.AsyncClient) -> None:
    assert (await api.post("/snap/v1/transactions", json=payment("D-1"))).status_code == 201
    again = await api.post("/snap/v1/transactions", json=payment("D-1"))
    assert again.status_code == 400
    assert "order_id" in again.json()["error_messages"][0]
    assert (await api.post("/v2/charge", json=qris("D-2"))).status_code == 200
    duplicate = await api.post("/v2/charge", json=qris("D-2"))
    assert (duplicate.status_code, duplicate.json()["status_code"]) == (406, "406")
    snap_then_core = await api.post("/v2/charge", json=qris("D-1"))
    assert snap_then_core.json()["status_code"] == "406"


async def test_core_order_id_is_reusable_after_cancel(api: httpx.AsyncClient) -> None:
    await api.post("/v2/charge", json=qris("R-1"))
    await api.post("/v2/R-1/cancel")
    again = await api.post("/v2/charge", json=qris("R-1"))
    assert again.json()["status_code"] == "201"


async def test_charge_shape(api: httpx.AsyncClient, sim: Simulator) -> None:
    body = (await api.post("/v2/charge", json=qris("C-1"))).json()
    assert body["status_code"] == "201"
    assert body["gross_amount"] == "10000.00"
    assert body["transaction_status"] == "pending"
    assert WIB_TIME.match(body["expiry_time"])
    assert WIB_TIME.match(body["transaction_time"])
    actions = {action["name"]: action["url"] for action in body["actions"]}
    assert actions["generate-qr-code"] == (
        f"{sim.public_base_url}/v2/qris/{body['transaction_id']}/qr-code"
    )
    assert "generate-qr-code-v2" in actions
    qr_string = body["qr_string"]
    assert qr_string.startswith("000201010212")
    assert qr_string[-8:-4] == "6304"
    assert qr_string[-4:] == crc16_ccitt(qr_string[:-4].encode())
    assert "540510000" in qr_string  # EMVCo tag 54: the amount
    png = await api.get(actions["generate-qr-code"])
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")


async def test_charge_rejects_other_payment_types(api: httpx.AsyncClient) -> None:
    answer = await api.post("/v2/charge", json=payment("P-1", payment_type="gopay"))
    assert answer.json()["status_code"] == "402"


async def test_charge_expiry_is_honoured(api: httpx.AsyncClient) -> None:
    body = qris("E-1") | {"custom_expiry": {"expiry_duration": 30, "unit": "minute"}}
    answer = (await api.post("/v2/charge", json=body)).json()
    start = datetime.fromisoformat(answer["transaction_time"])
    end = datetime.fromisoformat(answer["expiry_time"])
    assert (end - start).total_seconds() == 30 * 60


async def test_snap_start_time_bounds_the_qr_and_the_page(
    api: httpx.AsyncClient, sim: Simulator
) -> None:
    def started(minutes_ago: int) -> dict[str, Any]:
        moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        start = moment.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M:%S %z")
        return {"expiry": {"start_time": start, "unit": "minute", "duration": 15}}

    await api.post("/snap/v1/transactions", json=payment("ST-1", **started(5)))
    tx = await sim.choose_qris("ST-1")  # 10 of the 15 minutes are left
    assert tx.expiry_time is not None
    assert tx.transaction_time is not None
    assert 9 * 60 < (tx.expiry_time - tx.transaction_time).total_seconds() <= 10 * 60

    await api.post("/snap/v1/transactions", json=payment("ST-2", **started(16)))
    with pytest.raises(SimulatorError, match="expired"):
        await sim.choose_qris("ST-2")  # the payer opened the page too late: nothing to pay
    assert (await api.get("/v2/ST-2/status")).status_code == 404

    page = {"page_expiry": {"duration": 1, "unit": "second"}}
    assert (await api.post("/snap/v1/transactions", json=payment("ST-3", **page))).is_error
    bad = started(0) | {"expiry": {"start_time": "tomorrow", "unit": "minute", "duration": 15}}
    assert (await api.post("/snap/v1/transactions", json=payment("ST-4", **bad))).is_error


async def test_status_by_order_or_transaction_id(api: httpx.AsyncClient, server_key: str) -> None:
    charge = (await api.post("/v2/charge", json=qris("T-1"))).json()
    by_order = (await api.get("/v2/T-1/status")).json()
    by_id = (await api.get(f"/v2/{charge['transaction_id']}/status")).json()
    assert by_order == by_id
    assert by_order["status_message"] == "Success, transaction is found"
    assert (by_order["status_code"], by_order["gross_amount"]) == ("201", "10000.00")
    assert verify_signature(by_order, server_key)


@pytest.mark.parametrize("chosen", [False, True])
async def test_status_404_for_unknown_and_unchosen_snap(
    api: httpx.AsyncClient, sim: Simulator, chosen: bool
) -> None:
    await api.post("/snap/v1/transactions", json=payment("U-1"))
    if chosen:
        await sim.choose_qris("U-1")
    unknown = await api.get("/v2/NOPE/status")
    assert (unknown.status_code, unknown.json()["status_code"]) == (404, "404")
    snap = await api.get("/v2/U-1/status")
    assert snap.status_code == (200 if chosen else 404)


async def test_cancel_expire_rules(api: httpx.AsyncClient, sim: Simulator) -> None:
    await api.post("/v2/charge", json=qris("X-1"))
    cancelled = (await api.post("/v2/X-1/cancel")).json()
    assert (cancelled["status_code"], cancelled["transaction_status"]) == ("200", "cancel")
    assert (await api.post("/v2/X-1/expire")).json()["status_code"] == "412"
    await api.post("/v2/charge", json=qris("X-2"))
    expired = await api.post("/v2/X-2/expire")
    assert expired.status_code == 200
    assert (expired.json()["status_code"], expired.json()["transaction_status"]) == (
        "407",
        "expire",
    )
    await api.post("/v2/charge", json=qris("X-3"))
    await sim.pay("X-3")
    assert (await api.post("/v2/X-3/cancel")).json()["status_code"] == "412"


async def test_refund_rules(api: httpx.AsyncClient, sim: Simulator) -> None:
    await api.post("/v2/charge", json=qris("F-1"))
    assert (await api.post("/v2/F-1/refund", json={})).json()["status_code"] == "412"
    await sim.pay("F-1")
    first = (await api.post("/v2/F-1/refund", json={"refund_key": "k1", "amount": 4000})).json()
    assert (first["transaction_status"], first["refund_amount"]) == ("partial_refund", "4000.00")
    same = (await api.post("/v2/F-1/refund", json={"refund_key": "k1", "amount": 4000})).json()
    assert same == first
    over = (await api.post("/v2/F-1/refund", json={"refund_key": "k2", "amount": 6001})).json()
    assert over["status_code"] == "414"
    rest = (await api.post("/v2/F-1/refund", json={"refund_key": "k3"})).json()
    assert (rest["transaction_status"], rest["refund_amount"]) == ("refund", "6000.00")
    assert sim.transactions["F-1"].refunded_amount == 10000
    assert (await api.post("/v2/F-1/refund", json={"refund_key": "k4"})).json()[
        "status_code"
    ] == "412"


async def test_injected_errors_and_control_endpoint(api: httpx.AsyncClient, sim: Simulator) -> None:
    changed = await api.post("/_control/faults", json={"error_rate": 1.0, "seed": 3})
    assert changed.json()["error_rate"] == 1.0
    assert sim.faults.error_rate == 1.0
    snap = await api.post("/snap/v1/transactions", json=payment("Z-1"))
    core = await api.get("/v2/Z-1/status")
    assert snap.status_code == core.status_code == 500
    assert snap.json() == {
        "error_messages": ["Sorry, we encountered internal server error. We will fix this soon."]
    }
    assert core.json()["status_code"] == "500"
    bad = await api.post("/_control/faults", json={"error_rate": 2})
    assert bad.status_code == 400
    assert sim.faults.error_rate == 1.0
    assert (await api.post("/_control/faults", json={"nope": 1})).status_code == 400
    for wrong in ({"seed": []}, {"seed": 1.5}, {"latency_s": "1"}, {"error_rate": True}):
        answer = await api.post("/_control/faults", json=wrong)
        assert answer.status_code == 400, wrong  # the list seed was a 500
    assert (sim.faults.error_rate, sim.faults.seed) == (1.0, 3)


async def test_latency_is_added(api: httpx.AsyncClient, sim: Simulator) -> None:
    sim.faults.latency_s = 0.05
    started = time.perf_counter()
    await api.get("/v2/NOPE/status")
    assert time.perf_counter() - started >= 0.05
