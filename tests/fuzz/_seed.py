"""Seed data for the fuzz run: the demo menu, an admin and a cashier, orders in several states.

Menu and staff have no public endpoint to create them, so they are written with a short-lived
engine of their own; the rest goes through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from schemathesis.python import asgi
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.config import Settings
from santap.db import create_engine, create_sessionmaker
from santap.menu import service as menu_service
from santap.models import Staff, StaffRole
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


async def seed_database(settings: Settings) -> tuple[Staff, Staff]:
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


def seed_over_http(http: asgi.ASGIClient, *, admin_token: str, cashier_token: str) -> Seeded:
    """Orders awaiting payment, one with an open QRIS attempt, one paid in cash."""
    menu = _ok(http.get("/api/v1/menu"))
    categories = menu["categories"]
    item_ids = tuple(item["id"] for category in categories for item in category["items"])
    orders = tuple(_place_order(http, item_ids[n], quantity=n + 1) for n in range(4))
    qris = _ok(
        http.post(
            "/api/v1/payments/qris",
            json={"order_id": orders[0].id, "amount": orders[0].total_amount},
            headers={"X-Order-Token": orders[0].access_token},
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


def _place_order(http: asgi.ASGIClient, item_id: int, *, quantity: int) -> SeededOrder:
    body = _ok(
        http.post(
            "/api/v1/orders",
            json={"items": [{"menu_item_id": item_id, "quantity": quantity}], "table_number": "7"},
        )
    )
    return SeededOrder(body["id"], body["access_token"], body["total_amount"])


def _ok(response: requests.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()
