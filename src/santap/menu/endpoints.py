from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from santap.db import SessionDep, TransactionalRoute
from santap.menu import service
from santap.menu.schemas import (
    MenuCategoryAdminRead,
    MenuCategoryAdminView,
    MenuCategoryCreate,
    MenuCategoryUpdate,
    MenuItemAdminRead,
    MenuItemCreate,
    MenuItemUpdate,
    MenuRead,
)
from santap.models.base import MAX_ID
from santap.staff.dependencies import AdminDep

router = APIRouter(prefix="/api/v1/menu", tags=["menu"], route_class=TransactionalRoute)


@router.get("")
async def get_menu(session: SessionDep) -> MenuRead:
    """The menu: active categories with their items and availability."""
    return await service.get_menu(session)


admin_router = APIRouter(
    prefix="/api/v1/admin/menu", tags=["menu admin"], route_class=TransactionalRoute
)

CategoryId = Annotated[int, Path(ge=1, le=MAX_ID)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid staff token"},
    403: {"description": "Admin role required"},
}
_CATEGORY_ERRORS = {**_AUTH, 409: {"description": "Category name already taken"}}
_ITEM_ERRORS = {
    **_AUTH,
    404: {"description": "Item or category not found"},
    409: {"description": "The category already has an item of that name"},
}


@admin_router.get("", responses=_AUTH)
async def get_admin_menu(session: SessionDep, _staff: AdminDep) -> list[MenuCategoryAdminView]:
    """The whole menu: every category (hidden ones too), each with all its items (sold-out
    and retired ones too)."""
    return await service.get_admin_menu(session)


@admin_router.post("/categories", status_code=201, responses=_CATEGORY_ERRORS)
async def create_category(
    data: MenuCategoryCreate, session: SessionDep, staff: AdminDep
) -> MenuCategoryAdminRead:
    """Add a menu category."""
    category = await service.create_category(session, data=data, staff=staff)
    return MenuCategoryAdminRead.model_validate(category)


@admin_router.patch(
    "/categories/{category_id}",
    responses={**_CATEGORY_ERRORS, 404: {"description": "Category not found"}},
)
async def update_category(
    category_id: CategoryId, data: MenuCategoryUpdate, session: SessionDep, staff: AdminDep
) -> MenuCategoryAdminRead:
    """Rename, reorder, hide (is_active=false) or show a category."""
    category = await service.update_category(
        session, category_id=category_id, data=data, staff=staff
    )
    return MenuCategoryAdminRead.model_validate(category)


@admin_router.post("/items", status_code=201, responses=_ITEM_ERRORS)
async def create_item(
    data: MenuItemCreate, session: SessionDep, staff: AdminDep
) -> MenuItemAdminRead:
    """Add a menu item (price in whole rupiah)."""
    item = await service.create_item(session, data=data, staff=staff)
    return MenuItemAdminRead.model_validate(item)


@admin_router.patch("/items/{item_id}", responses=_ITEM_ERRORS)
async def update_item(
    item_id: ItemId, data: MenuItemUpdate, session: SessionDep, staff: AdminDep
) -> MenuItemAdminRead:
    """Change an item, or disable it (is_available=false); existing orders keep their lines."""
    item = await service.update_item(session, item_id=item_id, data=data, staff=staff)
    return MenuItemAdminRead.model_validate(item)
