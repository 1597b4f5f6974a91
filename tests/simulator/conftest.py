"""Simulator fixtures: see tests/fixtures/midtrans.py; plus raw merchant HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.fixtures.midtrans import SERVER_KEY, client, receiver, server_key, sim

from santap.simulator import Simulator

__all__ = ["SERVER_KEY", "client", "receiver", "server_key", "sim"]


@pytest.fixture
async def api(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the simulator, authenticated like a merchant."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app),
        base_url=sim.public_base_url,
        auth=(SERVER_KEY, ""),
    ) as http:
        yield http
