"""Simulator fixtures: notifications land in an in-process recorder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from santap.gateways.midtrans import MidtransClient
from santap.simulator import Simulator, create_simulator
from santap.simulator.testing import NotificationRecorder

SERVER_KEY = "SB-Mid-server-TESTKEY-do-not-leak-42"


@pytest.fixture
def server_key() -> str:
    return SERVER_KEY


@pytest.fixture
def receiver() -> NotificationRecorder:
    return NotificationRecorder()


@pytest.fixture
async def sim(receiver: NotificationRecorder) -> AsyncIterator[Simulator]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app))
    simulator = create_simulator(
        server_key=SERVER_KEY,
        notify_url="http://merchant.test/notify",
        public_base_url="http://midtrans.test",
        time_factor=0.00001,
        http_client=http,
    )
    yield simulator
    await simulator.aclose()
    await http.aclose()


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[MidtransClient]:
    async with MidtransClient(
        server_key=SERVER_KEY,
        snap_base_url=sim.public_base_url,
        core_base_url=sim.public_base_url,
        transport=httpx.ASGITransport(app=sim.app),
        retry_backoff_s=0,
    ) as midtrans:
        yield midtrans


@pytest.fixture
async def api(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the simulator, authenticated like a merchant."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app),
        base_url=sim.public_base_url,
        auth=(SERVER_KEY, ""),
    ) as http:
        yield http
