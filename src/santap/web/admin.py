"""The owner's pages (admin role): the menu, first. Every change goes through the menu
service, which audits it, as the API's admin routes do."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from santap.audit import service as audit_service
from santap.db import SessionDep, TransactionalRoute
from santap.errors import SantapError
from santap.menu import service as menu_service
from santap.menu.schemas import MenuItemCreate, MenuItemUpdate
from santap.models import Staff, StaffRole
from santap.models.base import MAX_ID, NO_NUL
from santap.staff.dependencies import SettingsDep
from santap.web import forms, session
from santap.web.render import page
from santap.web.service import qr_inline
from santap.web.staff import LoginRequired

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)
AUDIT_PAGE = 50
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]


class AdminOnly(Exception):
    pass


async def _admin(request: Request, settings: SettingsDep) -> Staff:
    staff = await session.current_staff(request, settings)
    if staff is None:
        raise LoginRequired()
    if staff.role != StaffRole.ADMIN:
        raise AdminOnly()
    return staff


AdminStaff = Annotated[Staff, Depends(_admin)]


@router.get("/admin/menu")
async def menu_page(
    request: Request, db: SessionDep, staff: AdminStaff, settings: SettingsDep
) -> Response:
    """Every category and item: availability, price, and a new item."""
    menu = await menu_service.get_admin_menu(db)
    return page(
        request,
        "admin_menu.html",
        staff=staff,
        menu=menu,
        retired=[item for entry in menu for item in entry.items if item.is_retired],
        csrf=session.csrf_token(settings, request.cookies[session.COOKIE]),
        query=request.query_params,
    )


@router.get("/admin/tables")
async def table_cards(request: Request, staff: AdminStaff, settings: SettingsDep) -> Response:
    """One QR card per table, to print on A4 and stand on the tables."""
    base = (settings.public_base_url or str(request.base_url)).rstrip("/")
    cards = [(n, f"{base}/t/{n}") for n in range(1, settings.tables + 1)]
    return page(
        request,
        "admin_tables.html",
        staff=staff,
        cards=[(n, url, qr_inline(url)) for n, url in cards],
    )


@router.get("/admin/audit")
async def audit_page(
    request: Request,
    db: SessionDep,
    staff: AdminStaff,
    action: Annotated[str | None, Query(max_length=50, pattern=NO_NUL)] = None,
    entity_type: Annotated[str | None, Query(max_length=50, pattern=NO_NUL)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Who did what, newest first; filtered by action or kind of thing, a page at a time."""
    entries = await audit_service.list_entries(
        db,
        limit=AUDIT_PAGE,
        cursor=cursor,
        entity_type=entity_type or None,
        entity_id=None,
        action=action or None,
    )
    return page(
        request,
        "admin_audit.html",
        staff=staff,
        entries=entries,
        action=action or "",
        entity_type=entity_type or "",
    )


@router.post("/admin/menu/items")
async def create_item(db: SessionDep, staff: AdminStaff, form: session.CheckedForm) -> Response:
    try:
        data = MenuItemCreate(
            category_id=forms.number(form.get("category_id", "0")),
            name=str(form.get("name", "")),
            description=str(form.get("description", "")),
            price=forms.rupiah(form.get("price", "0")),
        )
        item = await menu_service.create_item(db, data=data, staff=staff)
    except (ValueError, ValidationError):
        return _back(error="item_invalid")
    except SantapError as exc:
        await db.rollback()
        return _back(error=exc.message)
    return _back(notice="created", item=item.name)


@router.post("/admin/menu/items/{item_id}")
async def update_item(
    item_id: ItemId, db: SessionDep, staff: AdminStaff, form: session.CheckedForm
) -> Response:
    try:
        item = await menu_service.update_item(
            db, item_id=item_id, data=_item_changes(form), staff=staff
        )
    except (ValueError, ValidationError):
        return _back(error="item_invalid")
    except SantapError as exc:
        await db.rollback()
        return _back(error=exc.message)
    return _back(notice="updated", item=item.name)


def _item_changes(form: FormData) -> MenuItemUpdate:
    """What the form posted: one of the toggles, or the edit form's fields."""
    changes: dict[str, object] = {}
    for flag in ("is_available", "is_retired"):
        if flag in form:
            changes[flag] = form.get(flag) == "true"
    for field in ("name", "description"):
        if field in form:
            changes[field] = str(form.get(field))
    if form.get("price"):
        changes["price"] = forms.rupiah(form.get("price"))
    if form.get("category_id"):
        changes["category_id"] = forms.number(form.get("category_id"))
    return MenuItemUpdate.model_validate(changes)


def install(app: FastAPI) -> None:
    """A cashier who opens an owner's page is told so (403), not shown it."""

    async def refuse(request: Request, _exc: Exception) -> Response:
        return page(request, "admin_only.html", status_code=403)

    app.add_exception_handler(AdminOnly, refuse)


def _back(**query: object) -> Response:
    return RedirectResponse(
        "/admin/menu?" + urlencode({k: str(v) for k, v in query.items()}), status_code=303
    )
