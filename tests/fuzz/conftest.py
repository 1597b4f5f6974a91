"""The app under fuzz: built like ``tests/conftest.py`` and seeded so deep paths are reachable.

Schemathesis calls an ASGI app from its own event-loop thread and runs the app's lifespan
there, so the engine lives in that loop: the app is seeded over HTTP through the same
in-process client, and only what has no endpoint (menu, staff) is written beforehand with a
short-lived engine of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from schemathesis.python import asgi
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.config import Settings
from santap.db import create_engine, create_sessionmaker
from santap.main import create_app
from santap.menu import service as menu_service
from santap.models import Staff, StaffRole
from santap.staff import security
from tests.fixtures.database import empty_tables
from tests.fixtures.staff import PASSWORD, create_staff

ADMIN_USERNAME = "pemilik"


@dataclass(frozen=True)
class SeededOrder:
    id: int
    access_token: str
    total_amount: int


@dataclass(frozen=True)
class Seeded:
    """Ids and credentials the fuzz cases are pointed at."""

    admin_login: dict[str, str]
    admin_token: str
    cashier_token: str
    orders: tuple[SeededOrder, ...]
    payment_ids: tuple[int, ...]
    order_uids: tuple[str, ...]
    category_ids: tuple[int, ...]
    item_ids: tuple[int, ...]


@pytest.fixture
def fuzz_app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings, in_process_simulator=True)
    try:
        yield app
    finally:
        # Schemathesis started the lifespan; end it before the tables are emptied.
        asgi.shutdown_lifespans()
        asyncio.run(_empty_tables(settings))


@pytest.fixture
def seeded(fuzz_app: FastAPI, settings: Settings) -> Seeded:
    admin, cashier = asyncio.run(_seed_database(settings))
    with asgi.get_client(fuzz_app) as http:
        return _seed_over_http(
            http,
            admin_token=security.issue_token(settings, admin),
            cashier_token=security.issue_token(settings, cashier),
        )


async def _seed_database(settings: Settings) -> tuple[Staff, Staff]:
    engine = create_engine(settings)
    try:
        maker = create_sessionmaker(engine)
        async with maker() as session:
            await menu_service.seed_demo_menu(session)
            await session.commit()
        return await _create_staff(maker)
    finally:
        await engine.dispose()


async def _create_staff(maker: async_sessionmaker[AsyncSession]) -> tuple[Staff, Staff]:
    admin = await create_staff(maker, username=ADMIN_USERNAME, role=StaffRole.ADMIN)
    cashier = await create_staff(maker, username="kasir", role=StaffRole.CASHIER)
    return admin, cashier


async def _empty_tables(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        await empty_tables(engine)
    finally:
        await engine.dispose()


def _seed_over_http(http: Any, *, admin_token: str, cashier_token: str) -> Seeded:
    """Orders awaiting payment, one with an open QRIS attempt, one paid in cash."""
    menu = _ok(http.get("/api/v1/menu"))
    categories = menu["categories"]
    item_ids = tuple(item["id"] for category in categories for item in category["items"])
    orders = tuple(_place_order(http, item_ids[n], quantity=n + 1) for n in range(4))
    qris = _ok(
        http.post(
            "/api/v1/payments/qris",
            json={"order_id": orders[0].id, "amount": orders[0].total_amount},
        )
    )
    cash = _ok(
        http.post(
            "/api/v1/payments/cash",
            json={"order_id": orders[1].id, "amount_tendered": orders[1].total_amount},
            headers={"Authorization": f"Bearer {cashier_token}"},
        )
    )
    return Seeded(
        admin_login={"username": ADMIN_USERNAME, "password": PASSWORD},
        admin_token=admin_token,
        cashier_token=cashier_token,
        orders=orders,
        payment_ids=(qris["payment_id"], cash["payment_id"]),
        order_uids=(qris["order_uid"],),
        category_ids=tuple(category["id"] for category in categories),
        item_ids=item_ids,
    )


def _place_order(http: Any, item_id: int, *, quantity: int) -> SeededOrder:
    body = _ok(
        http.post(
            "/api/v1/orders",
            json={"items": [{"menu_item_id": item_id, "quantity": quantity}], "table_number": "7"},
        )
    )
    return SeededOrder(body["id"], body["access_token"], body["total_amount"])


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()
