"""`santap simulator` on its own port and `santap reconcile` from the command line, with the
app talking to the simulator over real HTTP (no in-process shortcut)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from santap import cli
from santap.config import Settings
from tests.fixtures.database import TEST_SECRET, running_app
from tests.fixtures.factories import create_menu_item, place_order
from tests.fixtures.payments import get_order
from tests.fixtures.server import STANDALONE_KEY as SERVER_KEY


@pytest.fixture
def settings_overrides(standalone_simulator: str) -> dict[str, object]:
    return {
        "MIDTRANS_SERVER_KEY": SERVER_KEY,
        "MIDTRANS_SNAP_BASE_URL": standalone_simulator,
        "MIDTRANS_CORE_BASE_URL": standalone_simulator,
        "MIDTRANS_QRIS_MODE": "core",
    }


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app as `santap serve` builds it: Midtrans over the network."""
    async with running_app(settings, in_process_simulator=False) as application:
        yield application


async def test_santap_reconcile_settles_a_payment_whose_notification_was_lost(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    standalone_simulator: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item = await create_menu_item(sessionmaker, price=20000)
    order = await place_order(client, [{"menu_item_id": item.id, "quantity": 2}])
    created = await client.post(
        "/api/v1/payments/qris",
        json={"order_id": order["id"], "amount": 40000},
        headers={"X-Order-Token": order["access_token"]},
    )
    assert created.status_code == 201, created.text
    uid = created.json()["order_uid"]
    assert created.json()["qr_string"]  # a Core charge made at the standalone simulator
    # The customer pays; the notification goes to http://testserver, which nobody serves.
    async with httpx.AsyncClient(base_url=standalone_simulator) as sim:
        assert (await sim.post(f"/pay/{uid}/pay")).status_code == 303
    assert (await get_order(client, order))["status"] == "pending_payment"

    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {
        "DATABASE_URL": settings.database_url,
        "SANTAP_ENV": "test",
        "SANTAP_SECRET_KEY": TEST_SECRET,
        "SANTAP_RECONCILE_MIN_AGE_S": "0",
        "MIDTRANS_SERVER_KEY": SERVER_KEY,
        "MIDTRANS_CORE_BASE_URL": standalone_simulator,
        "MIDTRANS_SNAP_BASE_URL": standalone_simulator,
    }
    result = await asyncio.to_thread(CliRunner().invoke, cli.app, ["reconcile"], env=env)
    assert result.exit_code == 0, result.output
    assert "'applied': 1" in result.output
    assert (await get_order(client, order))["status"] == "paid"
