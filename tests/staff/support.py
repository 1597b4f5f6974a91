"""Helpers for the login tests: a limiter on a fake clock, and clients from given addresses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from santap.staff.ratelimit import LoginLimiter


class FakeClock:
    """The limiter's clock, and its sleep: records each delay instead of waiting, with how
    many database connections were checked out meanwhile."""

    def __init__(self, app: FastAPI) -> None:
        self.now = 1000.0
        self.app = app
        self.delays: list[float] = []
        self.connections_held: list[int] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.connections_held.append(self.app.state.engine.pool.checkedout())


def install_limiter(app: FastAPI, **limits: int) -> FakeClock:
    clock = FakeClock(app)
    app.state.login_limiter = LoginLimiter.create(
        window_s=300, clock=clock, sleep=clock.sleep, **limits
    )
    return clock


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from ``address`` (the peer itself, no proxy involved)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
