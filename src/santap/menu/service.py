from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from santap.menu import repository
from santap.menu.schemas import MenuCategoryRead, MenuRead
from santap.models import MenuCategory, MenuItem

DEMO_MENU: dict[str, list[tuple[str, str, int]]] = {
    "Makanan": [
        ("Nasi Goreng Spesial", "Nasi goreng dengan telur, ayam suwir dan kerupuk", 35000),
        ("Mie Ayam", "Mie ayam jamur dengan pangsit", 25000),
        ("Sate Ayam", "10 tusuk sate ayam bumbu kacang, dengan lontong", 30000),
        ("Gado-Gado", "Sayuran rebus dengan saus kacang", 22000),
    ],
    "Minuman": [
        ("Es Teh Manis", "Teh manis dingin", 5000),
        ("Es Jeruk", "Jeruk peras segar dengan es", 8000),
        ("Kopi Susu", "Kopi susu gula aren", 15000),
    ],
}


async def get_menu(session: AsyncSession) -> MenuRead:
    categories = await repository.list_active_categories(session)
    return MenuRead(categories=[MenuCategoryRead.model_validate(c) for c in categories])


async def items_for_order(session: AsyncSession, *, item_ids: Iterable[int]) -> dict[int, MenuItem]:
    """Orderable menu items by id; unknown, unavailable or hidden ones are left out."""
    items = await repository.get_items_for_order(session, item_ids)
    return {item_id: item for item_id, item in items.items() if item.is_available}


async def seed_demo_menu(session: AsyncSession) -> int:
    """Add the demo menu's missing categories and items; returns how many items were added."""
    added = 0
    for position, (category_name, items) in enumerate(DEMO_MENU.items()):
        category = await repository.get_category_by_name(session, category_name)
        if category is None:
            category = MenuCategory(name=category_name, position=position, is_active=True)
            session.add(category)
            await session.flush()
        for name, description, price in items:
            if await repository.get_item_by_name(session, category.id, name) is None:
                session.add(
                    MenuItem(
                        category_id=category.id,
                        name=name,
                        description=description,
                        price=price,
                        is_available=True,
                    )
                )
                added += 1
    await session.flush()
    return added


async def menu_is_empty(session: AsyncSession) -> bool:
    return await repository.count_items(session) == 0
