from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import AuditLog, MenuItem, Staff
from tests.fixtures.factories import create_menu_item, place_order

ADMIN_MENU = "/api/v1/admin/menu"


async def _post(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"{ADMIN_MENU}{path}", json=body, headers=headers)


async def _patch(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.patch(f"{ADMIN_MENU}{path}", json=body, headers=headers)


async def test_admin_builds_a_menu_that_customers_see(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    category = await _post(client, admin_headers, "/categories", {"name": " Gorengan "})
    assert category.status_code == 201, category.text
    assert category.json()["name"] == "Gorengan"
    assert category.json()["is_active"] is True
    item = await _post(
        client,
        admin_headers,
        "/items",
        {"category_id": category.json()["id"], "name": "Tempe", "price": 100_000_000},
    )
    assert item.status_code == 201, item.text
    assert item.json()["price"] == 100_000_000
    assert item.json()["is_available"] is True
    menu = (await client.get("/api/v1/menu")).json()
    assert [(c["name"], [i["name"] for i in c["items"]]) for c in menu["categories"]] == [
        ("Gorengan", ["Tempe"])
    ]


async def test_category_names_are_unique(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    first = await _post(client, admin_headers, "/categories", {"name": "Minuman"})
    other = await _post(client, admin_headers, "/categories", {"name": "Makanan"})
    duplicate = await _post(client, admin_headers, "/categories", {"name": "Minuman"})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "category_name_taken"
    renamed = await _patch(
        client, admin_headers, f"/categories/{other.json()['id']}", {"name": "Minuman"}
    )
    assert renamed.status_code == 409
    same = await _patch(
        client, admin_headers, f"/categories/{first.json()['id']}", {"name": "Minuman"}
    )
    assert same.status_code == 200


async def test_unknown_ids_are_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    item = await _post(
        client, admin_headers, "/items", {"category_id": 999999, "name": "X", "price": 1}
    )
    assert item.status_code == 404
    assert item.json()["error"]["code"] == "category_not_found"
    assert (await _patch(client, admin_headers, "/categories/999999", {})).status_code == 404
    missing_item = await _patch(client, admin_headers, "/items/999999", {"price": 5})
    assert missing_item.status_code == 404
    assert missing_item.json()["error"]["code"] == "menu_item_not_found"


@pytest.mark.parametrize("price", [0, -1, 1.5, "100", True, 100_000_001, None, 2**70])
async def test_prices_are_positive_whole_rupiah(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    price: Any,
) -> None:
    item = await create_menu_item(sessionmaker, name="Soto", price=20000)
    created = await _post(
        client,
        admin_headers,
        "/items",
        {"category_id": item.category_id, "name": "Rawon", "price": price},
    )
    assert created.status_code == 422, created.text
    assert "body.price" in [d["field"] for d in created.json()["error"]["details"]]
    patched = await _patch(client, admin_headers, f"/items/{item.id}", {"price": price})
    assert patched.status_code == 422, patched.text
    async with sessionmaker() as session:
        prices = (await session.scalars(select(MenuItem.price))).all()
    assert prices == [20000]


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"is_available": None},
        {"name": ""},
        {"name": "x" * 101},
        {"is_available": "no"},
        {"prise": 5000},
        {"category_id": "1"},
    ],
)
async def test_item_updates_are_validated(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    body: dict[str, Any],
) -> None:
    item = await create_menu_item(sessionmaker, name="Soto")
    response = await _patch(client, admin_headers, f"/items/{item.id}", body)
    assert response.status_code == 422, response.text


async def test_disabling_or_repricing_an_item_never_changes_existing_orders(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    item = await create_menu_item(sessionmaker, name="Sate Kambing", price=40000)
    order = await place_order(client, [{"menu_item_id": item.id, "quantity": 2}])
    response = await _patch(
        client,
        admin_headers,
        f"/items/{item.id}",
        {"is_available": False, "price": 45000, "name": "Sate Kambing Muda"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_available"] is False
    seen = await client.get(
        f"/api/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}
    )
    assert seen.json()["total_amount"] == 80000
    assert [(i["name"], i["unit_price"]) for i in seen.json()["items"]] == [("Sate Kambing", 40000)]
    board = await client.get(f"/api/v1/admin/orders/{order['id']}", headers=admin_headers)
    assert board.json()["items"][0]["unit_price"] == 40000
    refused = await client.post(
        "/api/v1/orders", json={"items": [{"menu_item_id": item.id, "quantity": 1}]}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "item_not_orderable"


async def test_hiding_a_category_takes_it_off_the_menu(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    item = await create_menu_item(sessionmaker, name="Es Campur", category="Es")
    response = await _patch(
        client, admin_headers, f"/categories/{item.category_id}", {"is_active": False}
    )
    assert response.status_code == 200
    assert (await client.get("/api/v1/menu")).json()["categories"] == []


async def test_menu_changes_are_audited(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: Staff,
    admin_headers: dict[str, str],
) -> None:
    category = (await _post(client, admin_headers, "/categories", {"name": "Kue"})).json()
    item = (
        await _post(
            client,
            admin_headers,
            "/items",
            {"category_id": category["id"], "name": "Klepon", "price": 7000},
        )
    ).json()
    await _patch(client, admin_headers, f"/items/{item['id']}", {"price": 8000})
    await _patch(client, admin_headers, f"/items/{item['id']}", {"price": 8000})  # no change
    await _patch(client, admin_headers, f"/categories/{category['id']}", {"position": 2})
    async with sessionmaker() as session:
        rows = (await session.scalars(select(AuditLog).order_by(AuditLog.id))).all()
    assert [(r.action, r.entity_type, r.staff_id, r.username) for r in rows] == [
        ("menu_category.create", "menu_category", admin.id, "pemilik"),
        ("menu_item.create", "menu_item", admin.id, "pemilik"),
        ("menu_item.update", "menu_item", admin.id, "pemilik"),
        ("menu_category.update", "menu_category", admin.id, "pemilik"),
    ]
    assert rows[1].before is None
    assert rows[1].after == {
        "category_id": category["id"],
        "name": "Klepon",
        "description": "",
        "price": 7000,
        "is_available": True,
        "is_retired": False,
    }
    assert rows[2].entity_id == str(item["id"])
    assert (rows[2].before or {})["price"] == 7000
    assert (rows[2].after or {})["price"] == 8000
    assert (rows[3].before or {})["position"] == 0
    assert (rows[3].after or {})["position"] == 2


async def test_a_retired_item_leaves_the_menu_but_not_the_orders_that_had_it(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    item = await create_menu_item(sessionmaker, name="Es Cendol", price=12000)
    order = await place_order(client, [{"menu_item_id": item.id, "quantity": 1}])
    retired = await _patch(client, admin_headers, f"/items/{item.id}", {"is_retired": True})
    assert retired.status_code == 200, retired.text
    assert retired.json()["is_retired"] is True
    menu = (await client.get("/api/v1/menu")).json()
    assert [i["name"] for c in menu["categories"] for i in c["items"]] == []  # not "sold out"
    refused = await client.post(
        "/api/v1/orders", json={"items": [{"menu_item_id": item.id, "quantity": 1}]}
    )
    assert refused.status_code == 422, refused.text
    kept = await client.get(
        f"/api/v1/orders/{order['id']}", headers={"X-Order-Token": order["access_token"]}
    )
    assert [(i["name"], i["unit_price"]) for i in kept.json()["items"]] == [("Es Cendol", 12000)]
    restored = await _patch(client, admin_headers, f"/items/{item.id}", {"is_retired": False})
    assert restored.json()["is_retired"] is False
    again = await client.post(
        "/api/v1/orders", json={"items": [{"menu_item_id": item.id, "quantity": 1}]}
    )
    assert again.status_code == 201, again.text
