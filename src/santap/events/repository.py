"""The event log's SQL: sequencing committed events, and reading them in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from santap.db import autocommit
from santap.models import OrderEvent

# NOTIFY channel of the triggers that write events, and of the sequencer once it has placed
# them (other processes then read them).
CHANNEL = "santap_events"
_SEQUENCE = text("SELECT santap_sequence_events(:batch)")
# Rows placed per statement; a backlog is placed over several.
_SEQUENCE_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    order_id: int
    kind: str
    payload: str  # JSON text, as the trigger wrote it
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Event:
        return cls(row.seq, row.order_id, row.kind, row.payload, row.created_at)


async def sequence(engine: AsyncEngine) -> int:
    """Give committed events without a place theirs; returns how many were placed, and tells
    the other processes (on commit) that there is more to read. PostgreSQL only, one round
    trip per batch (the migration's ``santap_sequence_events``); SQLite's triggers place each
    event as they write it (one writer at a time)."""
    if engine.dialect.name != "postgresql":
        return 0
    placed = 0
    async with autocommit(engine).connect() as connection:
        while True:
            count = int(await connection.scalar(_SEQUENCE, {"batch": _SEQUENCE_BATCH}) or 0)
            placed += count
            if count < _SEQUENCE_BATCH:
                return placed


async def last_seq(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.coalesce(func.max(OrderEvent.seq), 0))) or 0)


async def events_after(
    connection: AsyncConnection,
    seq: int,
    *,
    limit: int,
    order_id: int | None = None,
    upto: int | None = None,
) -> list[Event]:
    """Placed events after ``seq`` (up to ``upto``), oldest first; one order's if given."""
    statement = (
        select(
            OrderEvent.seq,
            OrderEvent.order_id,
            OrderEvent.kind,
            OrderEvent.payload,
            OrderEvent.created_at,
        )
        .where(OrderEvent.seq > seq)
        .order_by(OrderEvent.seq)
        .limit(limit)
    )
    if order_id is not None:
        statement = statement.where(OrderEvent.order_id == order_id)
    if upto is not None:
        statement = statement.where(OrderEvent.seq <= upto)
    return [Event.from_row(row) for row in await connection.execute(statement)]
