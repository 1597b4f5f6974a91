"""Every staff route × anonymous, cashier and admin → 401 / 403 / success.

To add a route: append a ``StaffRoute`` to ``STAFF_ROUTES`` (and, if it needs data, a key to
``build_world``). ``test_every_staff_route_is_in_the_table`` fails for a route that takes a
staff bearer token (per the OpenAPI schema) but is missing here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap import state_machine
from santap.config import Settings
from santap.models import Order, Payment, PaymentMethod, PaymentStatus, Staff, StaffRole
from tests.fixtures.factories import create_menu_item, place_order
from tests.fixtures.staff import bearer

World = dict[str, int]
Body = dict[str, Any] | Callable[[World], dict[str, Any]] | None


@dataclass(frozen=True)
class StaffRoute:
    method: str
    path: str  # as declared on the router; {params} are filled from the world
    role: StaffRole  # CASHIER admits cashiers and admins; ADMIN admits admins only
    body: Body = None
    ok: int = 200
    params: dict[str, str] = field(default_factory=dict)  # path param -> world key
    query: str = ""

    def url(self, world: World) -> str:
        path = self.path.format(**{name: world[key] for name, key in self.params.items()})
        return f"{path}?{self.query}" if self.query else path

    def json(self, world: World) -> dict[str, Any] | None:
        return self.body(world) if callable(self.body) else self.body

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


PAID = {"order_id": "paid_order_id"}
PENDING = {"order_id": "pending_order_id"}

STAFF_ROUTES = [
    StaffRoute("GET", "/api/v1/admin/orders", StaffRole.CASHIER),
    StaffRoute("GET", "/api/v1/admin/orders/{order_id}", StaffRole.CASHIER, params=PAID),
    StaffRoute(
        "POST",
        "/api/v1/admin/orders/{order_id}/status",
        StaffRole.CASHIER,
        {"status": "preparing"},
        params=PAID,
    ),
    StaffRoute(
        "POST",
        "/api/v1/admin/orders/{order_id}/cancel",
        StaffRole.CASHIER,
        {"reason": "customer left"},
        params=PENDING,
    ),
    StaffRoute("GET", "/api/v1/admin/menu", StaffRole.ADMIN),
    StaffRoute("POST", "/api/v1/admin/menu/categories", StaffRole.ADMIN, {"name": "Snack"}, ok=201),
    StaffRoute(
        "PATCH",
        "/api/v1/admin/menu/categories/{category_id}",
        StaffRole.ADMIN,
        {"position": 3},
        params={"category_id": "category_id"},
    ),
    StaffRoute(
        "POST",
        "/api/v1/admin/menu/items",
        StaffRole.ADMIN,
        lambda world: {"category_id": world["category_id"], "name": "Tahu", "price": 9000},
        ok=201,
    ),
    StaffRoute(
        "PATCH",
        "/api/v1/admin/menu/items/{item_id}",
        StaffRole.ADMIN,
        {"is_available": False},
        params={"item_id": "item_id"},
    ),
    StaffRoute("GET", "/api/v1/admin/audit", StaffRole.ADMIN),
    StaffRoute(
        "POST",
        "/api/v1/payments/cash",
        StaffRole.CASHIER,
        lambda world: {"order_id": world["pending_order_id"], "amount_tendered": 50000},
        ok=201,
    ),
    StaffRoute("GET", "/api/v1/admin/payments", StaffRole.ADMIN, query="flag=needs_refund"),
    StaffRoute(
        "POST",
        "/api/v1/admin/payments/{payment_id}/refund",
        StaffRole.ADMIN,
        {"reason": "wrong order"},
        params={"payment_id": "cash_payment_id"},
    ),
    StaffRoute("GET", "/api/v1/admin/reports/daily", StaffRole.ADMIN, query="date=2026-11-26"),
    StaffRoute(
        "GET", "/api/v1/admin/reports/daily", StaffRole.ADMIN, query="date=2026-11-26&format=csv"
    ),
]


async def build_world(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> World:
    item = await create_menu_item(sessionmaker, name="Soto", price=20000)
    pending = await place_order(client, [{"menu_item_id": item.id, "quantity": 1}])
    paid = await place_order(client, [{"menu_item_id": item.id, "quantity": 2}])
    async with sessionmaker() as session:
        order = await session.get_one(Order, paid["id"])
        state_machine.mark_order_paid(session, order, reason="test", actor="test")
        payment = Payment(
            order_id=order.id,
            method=PaymentMethod.CASH,
            order_uid=f"CASH-{order.id}-test",
            amount=order.total_amount,
            status=PaymentStatus.PAID,
        )
        session.add(payment)
        await session.commit()
    return {
        "cash_payment_id": payment.id,
        "category_id": item.category_id,
        "item_id": item.id,
        "pending_order_id": pending["id"],
        "paid_order_id": paid["id"],
    }


def _cases() -> list[Any]:
    cases = []
    for route in STAFF_ROUTES:
        for caller in (None, StaffRole.CASHIER, StaffRole.ADMIN):
            cases.append(pytest.param(route, caller, id=f"{route}-{caller or 'anonymous'}"))
    return cases


def _expected(route: StaffRoute, caller: StaffRole | None) -> int:
    if caller is None:
        return 401
    if route.role is StaffRole.ADMIN and caller is not StaffRole.ADMIN:
        return 403
    return route.ok


@pytest.mark.parametrize(("route", "caller"), _cases())
async def test_role_matrix(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    cashier: Staff,
    admin: Staff,
    route: StaffRoute,
    caller: StaffRole | None,
) -> None:
    world = await build_world(client, sessionmaker)
    staff = {None: None, StaffRole.CASHIER: cashier, StaffRole.ADMIN: admin}[caller]
    headers = bearer(settings, staff) if staff is not None else {}
    response = await client.request(
        route.method, route.url(world), json=route.json(world), headers=headers
    )
    assert response.status_code == _expected(route, caller), response.text


# Routes where a staff token is optional (they have another way in), so no 401/403.
OPTIONAL_STAFF_ROUTES = {
    ("GET", "/api/v1/orders/{order_id}"),
    ("POST", "/api/v1/payments/qris"),  # the order token, or staff for a counter order
}
# Event streams: a 200 never ends, which the in-memory client here would wait for; who may
# follow them is tested over a socket in tests/events.
STREAM_ROUTES = {
    ("GET", "/api/v1/orders/{order_id}/events"),
    ("GET", "/api/v1/staff/events"),
}


def test_every_staff_route_is_in_the_table(app: FastAPI) -> None:
    bearer_routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if {"HTTPBearer": []} in operation.get("security", [])
    }
    listed = {(route.method, route.path) for route in STAFF_ROUTES}
    unlisted = bearer_routes - OPTIONAL_STAFF_ROUTES - STREAM_ROUTES - listed
    assert unlisted == set(), "add these to STAFF_ROUTES"
    assert listed - bearer_routes == set(), "STAFF_ROUTES lists routes that take no staff token"
