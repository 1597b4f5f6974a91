"""The audit trail: one row per state-changing staff action or sign-in event, never updated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from santap.audit import repository
from santap.audit.schemas import AuditLogPage, AuditLogRead
from santap.models import AuditLog, Staff
from santap.pagination import CursorId, CursorKey, decode_cursor, encode_cursor


async def record(
    session: AsyncSession,
    *,
    staff: Staff | None,
    action: str,
    entity_type: str,
    entity_id: int | str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    actor: str = "system",
) -> AuditLog:
    """Add an audit row in the caller's transaction. ``actor`` names who acted when there is
    no staff member (e.g. ``"cli"``); values are stored as JSON (datetimes as ISO strings)."""
    return await record_by(
        session,
        staff_id=staff.id if staff is not None else None,
        username=staff.username if staff is not None else actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
    )


async def record_by(
    session: AsyncSession,
    *,
    staff_id: int | None,
    username: str,
    action: str,
    entity_type: str,
    entity_id: int | str,
    after: Mapping[str, Any] | None,
    before: Mapping[str, Any] | None = None,
) -> AuditLog:
    """``record`` for an actor known only by id and name (no loaded ``Staff`` at hand)."""
    entry = AuditLog(
        staff_id=staff_id,
        username=username,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
    )
    repository.add(session, entry)
    await session.flush()
    return entry


class _AuditCursor(CursorKey):
    id: CursorId


def _jsonable(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    converted: dict[str, Any] = to_jsonable_python(dict(values))
    return converted


async def list_entries(
    session: AsyncSession,
    *,
    limit: int,
    cursor: str | None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
) -> AuditLogPage:
    """Newest first; the cursor continues after the last row of the previous page."""
    before_id = decode_cursor(cursor, _AuditCursor).id if cursor else None
    rows = await repository.list_entries(
        session,
        limit=limit + 1,
        before_id=before_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
    )
    page = rows[:limit]
    next_cursor = encode_cursor(_AuditCursor(id=page[-1].id)) if len(rows) > limit else None
    return AuditLogPage(
        items=[AuditLogRead.model_validate(row) for row in page], next_cursor=next_cursor
    )
