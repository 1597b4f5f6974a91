from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Staff
from tests.fixtures.factories import create_menu_item, place_order


async def test_staff_tokens_open_any_order_and_nothing_else_does(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier: Staff,
    cashier_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    item = await create_menu_item(sessionmaker)
    order = await place_order(client, [{"menu_item_id": item.id, "quantity": 1}])
    url = f"/api/v1/orders/{order['id']}"
    for headers in (cashier_headers, admin_headers):
        response = await client.get(url, headers=headers)
        assert response.status_code == 200
        assert response.json()["id"] == order["id"]
    missing = await client.get("/api/v1/orders/999999", headers=cashier_headers)
    assert missing.status_code == 404
    for headers in (
        {"Authorization": "Bearer forged"},
        {"Authorization": cashier_headers["Authorization"][:-2]},
        {"Authorization": "Basic a2FzaXI6eA=="},
    ):
        response = await client.get(url, headers=headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "order_not_found"
    async with sessionmaker() as session:
        await session.execute(update(Staff).where(Staff.id == cashier.id).values(is_active=False))
        await session.commit()
    assert (await client.get(url, headers=cashier_headers)).status_code == 404
    # The customer's own token still works alongside a dead staff token.
    both = {**cashier_headers, "X-Order-Token": order["access_token"]}
    assert (await client.get(url, headers=both)).status_code == 200
