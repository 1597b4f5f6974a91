from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from santap.timestamps import Timestamp


class AuditLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    staff_id: int | None
    username: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: Timestamp


class AuditLogPage(BaseModel):
    items: list[AuditLogRead]
    next_cursor: str | None
