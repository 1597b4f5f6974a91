"""The pages' form posts, over HTTP: what a hand-made post cannot do that the pages never offer."""

from __future__ import annotations

import re

import httpx
import pytest

from santap.models import Staff
from tests.fixtures.factories import place_order
from tests.fixtures.staff import PASSWORD


async def _console(client: httpx.AsyncClient, cashier: Staff) -> str:
    """Log the client in to the console; returns the session's CSRF token."""
    login = await client.post(
        "/staff/login", data={"username": cashier.username, "password": PASSWORD}
    )
    assert login.status_code == 303
    board = await client.get("/staff")
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', board.text)
    assert found, board.text[:500]
    return found.group(1)


async def _status(client: httpx.AsyncClient, order: dict[str, object]) -> str:
    answer = await client.get(
        f"/api/v1/orders/{order['id']}", headers={"X-Order-Token": str(order["access_token"])}
    )
    status: str = answer.json()["status"]
    return status


@pytest.mark.parametrize("target", ["paid", "cancelled", "pending_payment"])
async def test_the_status_form_moves_orders_through_the_kitchen_only(
    client: httpx.AsyncClient, demo_menu: dict[str, int], cashier: Staff, target: str
) -> None:
    """Paying and cancelling have their own paths (with the money and Midtrans); a status
    post naming them is refused and changes nothing."""
    csrf = await _console(client, cashier)
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 1}])
    answer = await client.post(
        f"/staff/orders/{order['id']}/status", data={"csrf": csrf, "status": target}
    )
    assert answer.status_code == 303
    assert "error=" in answer.headers["location"]
    assert await _status(client, order) == "pending_payment"


@pytest.mark.parametrize("quantity", ["²", "9" * 5000, "-1", "1.5"])
async def test_an_odd_quantity_is_a_message_not_an_error(
    client: httpx.AsyncClient, demo_menu: dict[str, int], quantity: str
) -> None:
    item = demo_menu["Es Teh Manis"]
    answer = await client.post("/t/3", data={f"qty-{item}": quantity})
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text


@pytest.mark.parametrize("price", ["²", "9" * 5000, "-5", "abc"])
async def test_an_odd_price_on_the_menu_page_is_a_message_not_an_error(
    client: httpx.AsyncClient, demo_menu: dict[str, int], admin: Staff, price: str
) -> None:
    csrf = await _console(client, admin)
    item = demo_menu["Mie Ayam"]
    edited = await client.post(
        f"/admin/menu/items/{item}", data={"csrf": csrf, "name": "Mie", "price": price}
    )
    assert edited.status_code == 303
    assert "error=item_invalid" in edited.headers["location"]
    menu = (await client.get("/api/v1/menu")).json()
    names = [i["name"] for c in menu["categories"] for i in c["items"]]
    assert "Mie Ayam" in names  # nothing changed
