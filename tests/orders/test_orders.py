from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Order, OrderStatusHistory
from tests.fixtures.factories import create_menu_item, place_order


async def test_order_is_priced_from_the_database_not_the_client(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    body = await place_order(
        client,
        [
            {
                "menu_item_id": demo_menu["Nasi Goreng Spesial"],
                "quantity": 2,
                "price": 1,
                "unit_price": 1,
                "note": "pedas",
            },
            {"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 3, "subtotal": 1},
        ],
        table_number="12",
        customer_name="Budi",
        total_amount=1,
    )
    assert body["status"] == "pending_payment"
    assert body["total_amount"] == 2 * 35000 + 3 * 5000
    assert [(i["name"], i["unit_price"], i["subtotal"]) for i in body["items"]] == [
        ("Nasi Goreng Spesial", 35000, 70000),
        ("Es Teh Manis", 5000, 15000),
    ]
    assert body["items"][0]["note"] == "pedas"
    assert body["table_number"] == "12"
    assert body["customer_name"] == "Budi"
    assert len(body["access_token"]) >= 32
    assert body["payment_status"] == "unpaid"
    assert body["payments"] == []


async def test_order_placement_records_history_and_hashes_the_token(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    body = await place_order(client, [{"menu_item_id": demo_menu["Mie Ayam"], "quantity": 1}])
    async with sessionmaker() as session:
        order = await session.scalar(select(Order).where(Order.id == body["id"]))
        history = (await session.scalars(select(OrderStatusHistory))).all()
    assert order is not None
    assert body["access_token"] not in order.access_token_hash
    assert [(h.from_status, h.to_status, h.actor) for h in history] == [
        (None, "pending_payment", "customer")
    ]


def _item(menu_item_id: int = 1, quantity: Any = 1, **extra: Any) -> dict[str, Any]:
    return {"menu_item_id": menu_item_id, "quantity": quantity, **extra}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"items": []}, "body.items"),
        ({"items": [_item()] * 51}, "body.items"),
        ({}, "body.items"),
        ({"items": [_item(quantity=0)]}, "body.items.0.quantity"),
        ({"items": [_item(quantity=100)]}, "body.items.0.quantity"),
        ({"items": [_item(quantity=1.5)]}, "body.items.0.quantity"),
        ({"items": [_item(quantity=2.0)]}, "body.items.0.quantity"),
        ({"items": [_item(quantity="2")]}, "body.items.0.quantity"),
        ({"items": [_item(quantity=True)]}, "body.items.0.quantity"),
        ({"items": [_item(menu_item_id="abc")]}, "body.items.0.menu_item_id"),
        ({"items": [_item(menu_item_id=2**70)]}, "body.items.0.menu_item_id"),
        ({"items": [_item(note="x" * 201)]}, "body.items.0.note"),
        ({"items": [_item()], "table_number": "x" * 21}, "body.table_number"),
        ({"items": [_item()], "customer_name": "x" * 101}, "body.customer_name"),
        ({"items": "nasi"}, "body.items"),
    ],
)
async def test_invalid_orders_are_rejected_naming_the_field(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    payload: dict[str, Any],
    field: str,
) -> None:
    response = await client.post("/api/v1/orders", json=payload)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]]
    async with sessionmaker() as session:
        assert (await session.scalars(select(Order))).all() == []


async def test_fifty_lines_are_accepted(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    body = await place_order(client, [_item(demo_menu["Es Jeruk"])] * 50)
    assert body["total_amount"] == 50 * 8000


async def test_unknown_and_unavailable_items_are_rejected(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    available = await create_menu_item(sessionmaker, name="Soto", category="A")
    sold_out = await create_menu_item(
        sessionmaker, name="Rendang", is_available=False, category="B"
    )
    hidden = await create_menu_item(sessionmaker, name="Bakso", category="C", category_active=False)
    for bad_id in (sold_out.id, hidden.id, 999_999):
        response = await client.post(
            "/api/v1/orders", json={"items": [_item(available.id), _item(bad_id)]}
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "item_not_orderable"
        assert error["details"] == [{"field": "body.items.1.menu_item_id", "menu_item_id": bad_id}]
    async with sessionmaker() as session:
        assert (await session.scalars(select(Order))).all() == []


async def test_malformed_json_is_a_422_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/orders", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_order_is_readable_with_its_token_only(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    body = await place_order(client, [_item(demo_menu["Sate Ayam"], 2)])
    url = f"/api/v1/orders/{body['id']}"
    ok = await client.get(url, headers={"X-Order-Token": body["access_token"]})
    assert ok.status_code == 200
    assert ok.json()["total_amount"] == 60000
    assert ok.json()["payment_status"] == "unpaid"
    assert "access_token" not in ok.json()

    missing = await client.get("/api/v1/orders/999999", headers={"X-Order-Token": "x"})
    for response in (
        await client.get(url),
        await client.get(url, headers={"X-Order-Token": "wrong"}),
        await client.get(url, headers={"X-Order-Token": body["access_token"][:-1]}),
        await client.get(url, headers={"X-Order-Token": "x" * 500}),  # was a 422
        missing,
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "order_not_found"
    # A wrong token and a missing order look the same, so ids cannot be probed.
    assert (await client.get(url)).json()["error"]["message"].replace(
        str(body["id"]), "N"
    ) == missing.json()["error"]["message"].replace("999999", "N")


async def test_order_id_out_of_range_is_a_clean_422(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/v1/orders/{2**70}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
