from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from santap.models import AuditLog


def add(session: AsyncSession, entry: AuditLog) -> None:
    session.add(entry)


async def list_entries(
    session: AsyncSession,
    *,
    limit: int,
    before_id: int | None,
    entity_type: str | None,
    entity_id: str | None,
    action: str | None = None,
) -> Sequence[AuditLog]:
    # Ids grow with time, so keyset on the id alone keeps the newest-first order stable.
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditLog.id < before_id)
    if entity_type is not None:
        query = query.where(AuditLog.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditLog.entity_id == entity_id)
    if action is not None:
        query = query.where(AuditLog.action == action)
    return (await session.scalars(query)).all()
