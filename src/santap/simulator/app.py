"""Assembling the simulator's ASGI app, embedded or standalone."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette

from santap.simulator.api import api_routes
from santap.simulator.engine import Simulator
from santap.simulator.faults import Faults
from santap.simulator.pages import page_routes


def create_simulator(
    *,
    server_key: str,
    notify_url: str | None,
    public_base_url: str,
    time_factor: float = 1.0,
    faults: Faults | None = None,
    http_client: httpx.AsyncClient | None = None,
    expiry_factor: float = 1.0,
) -> Simulator:
    """A fresh in-memory Midtrans; ``public_base_url`` is where ``sim.app`` is reachable.

    ``time_factor`` scales notification retry delays; ``expiry_factor`` scales how long
    pending transactions live (the reported ``expiry_time`` stays unscaled).
    """
    sim = Simulator(
        server_key=server_key,
        notify_url=notify_url,
        public_base_url=public_base_url,
        time_factor=time_factor,
        faults=faults,
        http_client=http_client,
        expiry_factor=expiry_factor,
    )

    # Runs only when the app is served on its own; a host app that mounts it must
    # call ``await sim.aclose()`` in its own lifespan (Starlette skips mounted lifespans).
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await sim.aclose()

    sim.app = Starlette(routes=[*api_routes(sim), *page_routes(sim)], lifespan=lifespan)
    return sim


def run_standalone(
    host: str,
    port: int,
    notify_url: str | None,
    server_key: str,
    *,
    public_base_url: str | None = None,
    time_factor: float = 1.0,
    expiry_factor: float = 1.0,
    faults: Faults | None = None,
    log_level: str = "info",
) -> None:
    """Serve the simulator with uvicorn until interrupted (``santap simulator``)."""
    import uvicorn  # imported here: only the standalone mode needs a server

    if public_base_url is None:
        visible_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        public_base_url = f"http://{visible_host}:{port}"
    sim = create_simulator(
        server_key=server_key,
        notify_url=notify_url,
        public_base_url=public_base_url,
        time_factor=time_factor,
        expiry_factor=expiry_factor,
        faults=faults,
    )
    uvicorn.run(sim.app, host=host, port=port, log_level=log_level)
