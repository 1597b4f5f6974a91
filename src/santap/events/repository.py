"""The event log's SQL: sequencing committed events, and reading them in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import TextClause, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from santap.models import OrderEvent

# NOTIFY channel of the triggers that write events, and of the sequencer once it has placed
# them (other processes then read them).
CHANNEL = "santap_events"
# Serializes sequencers across processes (pg_advisory_xact_lock's key; any constant).
_SEQUENCER_LOCK = 7_261_031_004
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


@cache
def _sequence_statement() -> TextClause:
    # seq continues from the highest one given so far, in id order. Run under the sequencer
    # lock, after every earlier sequencer committed, so seq only ever grows in the order
    # subscribers can see rows: a row committed later gets a later seq even if its id is lower.
    return text(
        "UPDATE order_event SET seq = numbered.seq FROM ("
        " SELECT id, (SELECT coalesce(max(seq), 0) FROM order_event)"
        "   + row_number() OVER (ORDER BY id) AS seq"
        " FROM order_event WHERE seq IS NULL ORDER BY id LIMIT :batch"
        ") AS numbered WHERE order_event.id = numbered.id"
    )


async def sequence(engine: AsyncEngine) -> int:
    """Give committed events without a place theirs; returns how many were placed, and tells
    the other processes (on commit) that there is more to read. PostgreSQL only: SQLite's
    triggers place each event as they write it (one writer at a time)."""
    if engine.dialect.name != "postgresql":
        return 0
    placed = 0
    async with engine.connect() as connection:
        while True:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEQUENCER_LOCK}
            )
            result = await connection.execute(_sequence_statement(), {"batch": _SEQUENCE_BATCH})
            count = result.rowcount
            if not count:
                await connection.rollback()
                return placed
            await connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
            await connection.commit()
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
