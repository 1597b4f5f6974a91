from __future__ import annotations

from fastapi import APIRouter

from santap.db import SessionDep, TransactionalRoute
from santap.menu import service
from santap.menu.schemas import MenuRead

router = APIRouter(prefix="/api/v1/menu", tags=["menu"], route_class=TransactionalRoute)


@router.get("")
async def get_menu(session: SessionDep) -> MenuRead:
    """The menu: active categories with their items and availability."""
    return await service.get_menu(session)
