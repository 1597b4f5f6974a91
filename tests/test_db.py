"""Database plumbing: reads never queue behind a writer; pooled PostgreSQL connections that the
server closed are never handed out (PostgreSQL only: nothing closes a SQLite file from outside,
so that test exists where the PostgreSQL backend does, always in CI)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from santap.config import Settings
from tests.fixtures.database import backends
from tests.fixtures.factories import place_order
from tests.fixtures.payments import HeldMidtrans


async def test_reads_are_served_while_a_payment_waits_on_midtrans(
    client: httpx.AsyncClient, demo_menu: dict[str, int], held_midtrans: HeldMidtrans
) -> None:
    """A QRIS creation waiting on Midtrans holds no transaction: customers polling their
    order and browsing the menu, and writers alike, go on while it waits."""
    order = await place_order(client, [{"menu_item_id": demo_menu["Mie Ayam"], "quantity": 1}])
    creating = asyncio.create_task(
        client.post(
            "/api/v1/payments/qris",
            json={"order_id": order["id"], "amount": order["total_amount"]},
            headers={"X-Order-Token": order["access_token"]},
        )
    )
    await held_midtrans.entered.wait()
    menu = await asyncio.wait_for(client.get("/api/v1/menu"), timeout=5)
    polled = await asyncio.wait_for(
        client.get(
            f"/api/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}
        ),
        timeout=5,
    )
    assert menu.status_code == 200
    assert polled.status_code == 200
    [attempt] = polled.json()["payments"]
    assert attempt["status"] == "creating"  # committed before Midtrans was asked
    held_midtrans.release.set()
    assert (await creating).status_code == 201


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

    @pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
    async def test_a_write_in_a_read_only_session_fails_loudly(app: FastAPI) -> None:
        """GET requests get a read-only session: PostgreSQL refuses a write slipped into one."""
        async with app.state.read_sessionmaker() as session:
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await session.execute(text("INSERT INTO menu_category (name) VALUES ('x')"))
        async with app.state.sessionmaker() as session:
            assert await session.scalar(text("SELECT count(*) FROM menu_category")) == 0


@pytest.mark.postgresql_only
@pytest.mark.parametrize("settings_overrides", [{"SANTAP_DB_POOL_SIZE": 4}])
async def test_a_burst_above_the_pool_waits_for_pooled_connections_instead_of_opening_more(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Connections opened for a burst and closed after it were a third of the webhook's
    connections under load; the pool keeps its size and requests wait for a connection."""
    engine: AsyncEngine = app.state.engine
    opened = 0

    def count(*_: object) -> None:
        nonlocal opened
        opened += 1

    event.listen(engine.sync_engine, "connect", count)
    try:
        for _ in range(5):
            answers = await asyncio.gather(*(client.get("/api/v1/menu") for _ in range(12)))
            assert {answer.status_code for answer in answers} == {200}
    finally:
        event.remove(engine.sync_engine, "connect", count)
    assert opened <= 4
