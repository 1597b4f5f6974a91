"""Database plumbing: pooled PostgreSQL connections that the server closed are never handed out.

PostgreSQL only (SQLite connections are files; nothing closes them from outside), so the test
exists where the PostgreSQL backend does: always in CI."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from santap.config import Settings
from tests.fixtures.database import backends


async def _pooled_pids(engine: AsyncEngine, count: int) -> set[int]:
    """Open ``count`` connections at once, note their server pids, return them to the pool."""
    connections = [await engine.connect() for _ in range(count)]
    try:
        return {int(await c.scalar(text("SELECT pg_backend_pid()")) or 0) for c in connections}
    finally:
        for connection in connections:
            await connection.close()


if "postgresql" in backends():

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    async def test_connections_closed_by_postgres_are_replaced_at_checkout(
        app: FastAPI, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        engine: AsyncEngine = app.state.engine
        pooled = await _pooled_pids(engine, 3)
        killer = create_async_engine(settings.async_database_url, poolclass=NullPool)
        try:
            async with killer.connect() as connection:
                for pid in pooled:
                    await connection.execute(text(f"SELECT pg_terminate_backend({pid})"))
        finally:
            await killer.dispose()
        await asyncio.sleep(0.2)  # the event loop reads each connection's EOF

        for _ in range(3):  # every pooled connection is dead; each request must get a live one
            response = await client.get("/api/v1/menu")
            assert response.status_code == 200, response.text
        assert not pooled & await _pooled_pids(engine, 3)
