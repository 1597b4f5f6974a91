from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from santap.models import MenuCategory, MenuItem


async def list_active_categories(session: AsyncSession) -> Sequence[MenuCategory]:
    query = (
        select(MenuCategory)
        .where(MenuCategory.is_active.is_(True))
        .options(selectinload(MenuCategory.items))
        .order_by(MenuCategory.position, MenuCategory.id)
    )
    return (await session.scalars(query)).all()


async def list_all_categories(session: AsyncSession) -> Sequence[MenuCategory]:
    query = (
        select(MenuCategory)
        .options(selectinload(MenuCategory.items))
        .order_by(MenuCategory.position, MenuCategory.id)
    )
    return (await session.scalars(query)).all()


async def get_items_for_order(
    session: AsyncSession, item_ids: Iterable[int]
) -> dict[int, MenuItem]:
    """Items by id, with their category's active flag folded into availability."""
    query = (
        select(MenuItem, MenuCategory.is_active)
        .join(MenuCategory, MenuItem.category_id == MenuCategory.id)
        .where(MenuItem.id.in_(set(item_ids)))
    )
    rows = (await session.execute(query)).all()
    return {item.id: item for item, category_active in rows if category_active}


async def count_items(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(MenuItem)) or 0)


async def get_category_by_name(session: AsyncSession, name: str) -> MenuCategory | None:
    return await session.scalar(select(MenuCategory).where(MenuCategory.name == name))


async def get_item_by_name(session: AsyncSession, category_id: int, name: str) -> MenuItem | None:
    query = select(MenuItem).where(MenuItem.category_id == category_id, MenuItem.name == name)
    return await session.scalar(query)


async def get_category(session: AsyncSession, category_id: int) -> MenuCategory | None:
    return await session.scalar(select(MenuCategory).where(MenuCategory.id == category_id))


async def get_item(session: AsyncSession, item_id: int) -> MenuItem | None:
    return await session.scalar(select(MenuItem).where(MenuItem.id == item_id))


def add(session: AsyncSession, entity: MenuCategory | MenuItem) -> None:
    session.add(entity)
