from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from santap.audit import service as audit
from santap.errors import Conflict, NotFound
from santap.menu import repository
from santap.menu.schemas import (
    MenuCategoryAdminRead,
    MenuCategoryAdminView,
    MenuCategoryCreate,
    MenuCategoryRead,
    MenuCategoryUpdate,
    MenuItemAdminRead,
    MenuItemCreate,
    MenuItemRead,
    MenuItemUpdate,
    MenuRead,
)
from santap.models import MenuCategory, MenuItem, Staff

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
    """The customers' menu: active categories, their items not retired (sold out shown)."""
    categories = await repository.list_active_categories(session)
    return MenuRead(
        categories=[
            MenuCategoryRead(
                id=category.id,
                name=category.name,
                items=[MenuItemRead.model_validate(i) for i in category.items if not i.is_retired],
            )
            for category in categories
        ]
    )


async def get_admin_menu(session: AsyncSession) -> list[MenuCategoryAdminView]:
    """Everything, for the owner: hidden categories, sold-out and retired items included."""
    categories = await repository.list_all_categories(session)
    return [
        MenuCategoryAdminView(
            category=MenuCategoryAdminRead.model_validate(category),
            items=[MenuItemAdminRead.model_validate(item) for item in category.items],
        )
        for category in categories
    ]


async def items_for_order(session: AsyncSession, *, item_ids: Iterable[int]) -> dict[int, MenuItem]:
    """Orderable menu items by id; unknown, unavailable or hidden ones are left out."""
    items = await repository.get_items_for_order(session, item_ids)
    return {
        item_id: item
        for item_id, item in items.items()
        if item.is_available and not item.is_retired
    }


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


# Menu administration (admin role). Orders copy each line's name and price when they are
# placed, so no change here reaches an existing order.

_CATEGORY_FIELDS = ("name", "position", "is_active")
_ITEM_FIELDS = ("category_id", "name", "description", "price", "is_available", "is_retired")


class CategoryNotFound(NotFound):
    code = "category_not_found"

    def __init__(self, category_id: int) -> None:
        super().__init__(f"Menu category {category_id} was not found")


class MenuItemNotFound(NotFound):
    code = "menu_item_not_found"

    def __init__(self, item_id: int) -> None:
        super().__init__(f"Menu item {item_id} was not found")


class CategoryNameTaken(Conflict):
    code = "category_name_taken"

    def __init__(self, name: str) -> None:
        super().__init__(f"A menu category named {name!r} already exists")


class MenuItemNameTaken(Conflict):
    code = "menu_item_name_taken"

    def __init__(
        self, category: tuple[int, str], name: str, existing: MenuItem | None = None
    ) -> None:
        category_id, category_name = category
        message = f"The category {category_name!r} already has an item named {name!r}"
        details: dict[str, Any] = {"category_id": category_id, "name": name}
        if existing is not None:
            details |= {"menu_item_id": existing.id, "is_retired": existing.is_retired}
            if existing.is_retired:
                message += " (retired: bring it back with is_retired=false, or rename it)"
        super().__init__(message, details=details)


async def create_category(
    session: AsyncSession, *, data: MenuCategoryCreate, staff: Staff
) -> MenuCategory:
    await _ensure_name_free(session, data.name)
    category = MenuCategory(**data.model_dump())
    repository.add(session, category)
    await _flush_category(session, data.name)
    await _audit(session, staff, "menu_category.create", category, None, _CATEGORY_FIELDS)
    return category


async def update_category(
    session: AsyncSession, *, category_id: int, data: MenuCategoryUpdate, staff: Staff
) -> MenuCategory:
    category = await _get_category(session, category_id)
    changes = _changed(category, data.changes())
    if "name" in changes:
        await _ensure_name_free(session, changes["name"])
    before = _snapshot(category, _CATEGORY_FIELDS)
    if changes:
        _apply(category, changes)
        await _flush_category(session, category.name)
        await _audit(session, staff, "menu_category.update", category, before, _CATEGORY_FIELDS)
    return category


async def create_item(session: AsyncSession, *, data: MenuItemCreate, staff: Staff) -> MenuItem:
    category = await _get_category(session, data.category_id)
    await _ensure_item_name_free(session, category, data.name)
    item = MenuItem(**data.model_dump())
    repository.add(session, item)
    await _flush_item(session, category, data.name)
    await _audit(session, staff, "menu_item.create", item, None, _ITEM_FIELDS)
    return item


async def update_item(
    session: AsyncSession, *, item_id: int, data: MenuItemUpdate, staff: Staff
) -> MenuItem:
    item = await repository.get_item(session, item_id)
    if item is None:
        raise MenuItemNotFound(item_id)
    changes = _changed(item, data.changes())
    category: MenuCategory | None = None
    if "category_id" in changes or "name" in changes:
        category = await _get_category(session, changes.get("category_id", item.category_id))
        await _ensure_item_name_free(session, category, changes.get("name", item.name))
    before = _snapshot(item, _ITEM_FIELDS)
    if changes:
        _apply(item, changes)
        if category is None:
            await session.flush()
        else:
            await _flush_item(session, category, item.name)
        await _audit(session, staff, "menu_item.update", item, before, _ITEM_FIELDS)
    return item


async def _get_category(session: AsyncSession, category_id: int) -> MenuCategory:
    category = await repository.get_category(session, category_id)
    if category is None:
        raise CategoryNotFound(category_id)
    return category


async def _ensure_name_free(session: AsyncSession, name: str) -> None:
    if await repository.get_category_by_name(session, name) is not None:
        raise CategoryNameTaken(name)


async def _flush_category(session: AsyncSession, name: str) -> None:
    # The check above cannot see a concurrent insert; the unique constraint can.
    try:
        await session.flush()
    except IntegrityError:
        raise CategoryNameTaken(name) from None


async def _ensure_item_name_free(session: AsyncSession, category: MenuCategory, name: str) -> None:
    existing = await repository.get_item_by_name(session, category.id, name)
    if existing is not None:
        raise MenuItemNameTaken((category.id, category.name), name, existing)


async def _flush_item(session: AsyncSession, category: MenuCategory, name: str) -> None:
    # As for categories: the unique index catches what the check above could not see. Read
    # before the flush: a failed one expires every loaded object.
    named = (category.id, category.name)
    try:
        await session.flush()
    except IntegrityError:
        raise MenuItemNameTaken(named, name) from None


def _changed(entity: MenuCategory | MenuItem, values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if getattr(entity, name) != value}


def _apply(entity: MenuCategory | MenuItem, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(entity, name, value)


def _snapshot(entity: MenuCategory | MenuItem, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(entity, name) for name in fields}


async def _audit(
    session: AsyncSession,
    staff: Staff,
    action: str,
    entity: MenuCategory | MenuItem,
    before: dict[str, Any] | None,
    fields: tuple[str, ...],
) -> None:
    await audit.record(
        session,
        staff=staff,
        action=action,
        entity_type=entity.__tablename__,
        entity_id=entity.id,
        before=before,
        after=_snapshot(entity, fields),
    )
