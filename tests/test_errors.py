"""How a malformed request is told what is wrong: values, not Python reprs; a missing body
named by the fields it needs. Nothing changes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import AuditLog, Order
from tests.fixtures.factories import place_order

BOARD = "/api/v1/admin/orders"


async def _pending_order(client: httpx.AsyncClient, demo_menu: dict[str, int]) -> int:
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Jeruk"], "quantity": 1}])
    order_id: int = order["id"]
    return order_id


async def _unchanged(sessionmaker: async_sessionmaker[AsyncSession], order_id: int) -> None:
    async with sessionmaker() as session:
        assert (await session.get_one(Order, order_id)).status == "pending_payment"
        assert (await session.scalars(select(AuditLog))).all() == []


async def test_a_bad_status_is_told_the_allowed_values_not_enum_reprs(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
) -> None:
    order_id = await _pending_order(client, demo_menu)
    response = await client.post(
        f"{BOARD}/{order_id}/status", json={"status": "eaten"}, headers=cashier_headers
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == "Invalid request: body.status"
    assert error["details"] == [
        {
            "field": "body.status",
            "message": "Input should be 'preparing', 'ready' or 'completed'",
            "type": "literal_error",
        }
    ]
    assert "OrderStatus" not in response.text
    await _unchanged(sessionmaker, order_id)


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({}, "A JSON body with the field 'reason' is required"),
        ({"content": b"null"}, "The body must be a JSON object with the field 'reason'"),
        ({"json": ["reason"]}, "The body must be a JSON object with the field 'reason'"),
    ],
    ids=["no body", "null", "a list"],
)
async def test_a_cancel_without_a_body_names_the_reason_it_needs(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier_headers: dict[str, str],
    request_body: dict[str, Any],
    message: str,
) -> None:
    order_id = await _pending_order(client, demo_menu)
    json_type = {"Content-Type": "application/json"} if "content" in request_body else {}
    response = await client.post(
        f"{BOARD}/{order_id}/cancel", headers=cashier_headers | json_type, **request_body
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == message
    assert error["details"] == [
        {"field": "body", "message": message, "type": error["details"][0]["type"]}
    ]
    await _unchanged(sessionmaker, order_id)


async def test_a_missing_body_names_every_required_field_and_other_faults_too(
    client: httpx.AsyncClient, cashier_headers: dict[str, str]
) -> None:
    cash = await client.post("/api/v1/payments/cash", headers=cashier_headers)
    assert cash.status_code == 422
    assert cash.json()["error"]["message"] == (
        "A JSON body with the fields 'order_id' and 'amount_tendered' is required"
    )
    # A missing body and a bad path parameter: both are named.
    both = await client.post(f"{BOARD}/0/cancel", headers=cashier_headers)
    assert both.status_code == 422
    assert both.json()["error"]["message"] == (
        "A JSON body with the field 'reason' is required; also invalid: path.order_id"
    )
