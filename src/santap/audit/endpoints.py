from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from santap.audit import service
from santap.audit.schemas import AuditLogPage
from santap.db import SessionDep, TransactionalRoute
from santap.models.base import NO_NUL
from santap.staff.dependencies import AdminDep

router = APIRouter(prefix="/api/v1/admin/audit", tags=["audit"], route_class=TransactionalRoute)

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid staff token"},
    403: {"description": "Admin role required"},
}


@router.get("", responses=_AUTH)
async def list_audit_log(
    session: SessionDep,
    _staff: AdminDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    entity_type: Annotated[str | None, Query(max_length=50, pattern=NO_NUL)] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    action: Annotated[str | None, Query(max_length=50, pattern=NO_NUL)] = None,
) -> AuditLogPage:
    """Staff actions and sign-in events, newest first."""
    return await service.list_entries(
        session,
        limit=limit,
        cursor=cursor,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
    )
