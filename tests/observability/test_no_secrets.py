"""A full run's logs, captured at DEBUG, hold no secret: keys, passwords, hashes, tokens."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.config import Settings
from santap.main import SIMULATOR_SERVER_KEY
from santap.models import Payment, Staff
from santap.simulator import Simulator
from tests.fixtures.database import TEST_SECRET
from tests.fixtures.factories import place_order
from tests.fixtures.payments import get_order, notification, order_with_qris
from tests.fixtures.staff import PASSWORD, login_headers
from tests.observability.conftest import CapturedLogs

WEBHOOK = "/api/v1/webhooks/midtrans"
LOGIN = "/api/v1/auth/login"
SANDBOX_KEY = "SB-Mid-server-TESTKEY-3f9a1c7e5b2d4086"


def _basic(server_key: str) -> str:
    return base64.b64encode(f"{server_key}:".encode()).decode()


async def _password_hashes(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(Staff.password_hash))).all())


def _assert_clean(logs: CapturedLogs, secrets: dict[str, str]) -> None:
    records = logs.records()  # every line is JSON
    assert len(records) > 20, "the run should have logged plenty"
    leaked = {name for name, value in secrets.items() if value and value in logs.text}
    assert not leaked, f"found in the logs: {sorted(leaked)}"


async def test_a_full_simulator_run_logs_no_secret(
    json_logs: CapturedLogs,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier: Staff,
) -> None:
    headers = await login_headers(client, cashier.username)
    order, payment = await order_with_qris(client, demo_menu, quantity=2)
    await simulator.pay(payment["order_uid"])
    await simulator.drain()
    assert (await get_order(client, order))["status"] == "paid"

    cash_order = await place_order(
        client, [{"menu_item_id": demo_menu["Nasi Goreng Spesial"], "quantity": 1}]
    )
    paid = await client.post(
        "/api/v1/payments/cash",
        json={"order_id": cash_order["id"], "amount_tendered": 50000},
        headers=headers,
    )
    assert paid.status_code == 201, paid.text
    wrong = await client.post(LOGIN, json={"username": cashier.username, "password": "salah-123"})
    assert wrong.status_code == 401
    forged = notification(payment["order_uid"], "settlement", "70000.00", server_key="SB-forger1")
    assert (await client.post(WEBHOOK, json=forged)).status_code == 401
    tampered = {"Authorization": headers["Authorization"] + "x"}
    refused = await client.post("/api/v1/payments/cash", json={}, headers=tampered)
    assert refused.status_code == 401

    _assert_clean(
        json_logs,
        {
            "midtrans server key": SIMULATOR_SERVER_KEY,
            "midtrans basic auth": _basic(SIMULATOR_SERVER_KEY),
            "SANTAP_SECRET_KEY": TEST_SECRET,
            "staff password": PASSWORD,
            "wrong password": "salah-123",
            "bearer token": headers["Authorization"].removeprefix("Bearer "),
            "order token (qris)": order["access_token"],
            "order token (cash)": cash_order["access_token"],
            **{f"password hash {i}": h for i, h in enumerate(await _password_hashes(sessionmaker))},
        },
    )
    # The run itself is visible: the access lines and the rejected notification.
    records = json_logs.records()
    assert any(r.get("route") == "/api/v1/payments/cash" for r in records)
    assert any("bad signature" in r["message"] for r in records)


@pytest.mark.parametrize("settings_overrides", [{"MIDTRANS_SERVER_KEY": SANDBOX_KEY}])
async def test_a_real_looking_key_stays_out_of_error_paths(
    json_logs: CapturedLogs,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    cashier: Staff,
) -> None:
    """Not the simulator mode. The test app routes gateway traffic into itself, where no route
    matches Midtrans' paths: every gateway call fails (404), so only error paths run — with
    the key in an Authorization header sent through the app's own middleware."""
    assert not settings.simulator_mode
    headers = await login_headers(client, cashier.username)
    order = await place_order(
        client, [{"menu_item_id": demo_menu["Nasi Goreng Spesial"], "quantity": 1}]
    )
    qris = await client.post(
        "/api/v1/payments/qris",
        json={"order_id": order["id"], "amount": order["total_amount"], "customer_details": {}},
        headers={"X-Order-Token": order["access_token"]},
    )
    assert qris.status_code == 502, qris.text
    async with sessionmaker() as session:
        order_uid = await session.scalar(select(Payment.order_uid))
    assert order_uid is not None
    # Validly signed: applying it asks Midtrans for the status, which is not found.
    signed = notification(order_uid, "settlement", "35000.00", server_key=SANDBOX_KEY)
    checked = await client.post(WEBHOOK, json=signed)
    assert checked.status_code == 200, checked.text
    assert checked.json() == {"status": "accepted"}
    forged = notification(order_uid, "settlement", "35000.00", server_key="SB-forger1")
    assert (await client.post(WEBHOOK, json=forged)).status_code == 401
    unknown = notification("SNTP-nope", "settlement", "1.00", server_key=SANDBOX_KEY)
    assert (await client.post(WEBHOOK, json=unknown)).status_code == 404
    wrong = await client.post(LOGIN, json={"username": cashier.username, "password": "salah-123"})
    assert wrong.status_code == 401

    _assert_clean(
        json_logs,
        {
            "midtrans server key": SANDBOX_KEY,
            "midtrans basic auth": _basic(SANDBOX_KEY),
            "SANTAP_SECRET_KEY": TEST_SECRET,
            "staff password": PASSWORD,
            "wrong password": "salah-123",
            "bearer token": headers["Authorization"].removeprefix("Bearer "),
            "order token": order["access_token"],
            **{f"password hash {i}": h for i, h in enumerate(await _password_hashes(sessionmaker))},
        },
    )
    messages = [r["message"] for r in json_logs.records()]
    assert any("QRIS creation failed" in m for m in messages)
    assert any("bad signature" in m for m in messages)
