from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.menu import service as menu_service
from tests.fixtures.factories import create_menu_item


async def test_menu_lists_active_categories_with_items(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await create_menu_item(sessionmaker, name="Soto", price=20000, category="Makanan")
    await create_menu_item(sessionmaker, name="Teh", price=5000, is_available=False, category="B")
    await create_menu_item(sessionmaker, name="Hidden", category="C", category_active=False)
    response = await client.get("/api/v1/menu")
    assert response.status_code == 200
    categories = response.json()["categories"]
    assert [c["name"] for c in categories] == ["Makanan", "B"]
    assert categories[0]["items"] == [
        {
            "id": categories[0]["items"][0]["id"],
            "name": "Soto",
            "description": "",
            "price": 20000,
            "is_available": True,
        }
    ]
    assert categories[1]["items"][0]["is_available"] is False


async def test_demo_seed_is_idempotent(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    for expected_added in (7, 0):
        async with sessionmaker() as session:
            assert await menu_service.seed_demo_menu(session) == expected_added
            await session.commit()
    names = [
        item["name"]
        for category in (await client.get("/api/v1/menu")).json()["categories"]
        for item in category["items"]
    ]
    assert "Nasi Goreng Spesial" in names
    assert len(names) == len(set(names)) == 7
