from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from santap.models.base import Base, BigIntPK, CreatedAt


class OrderEvent(CreatedAt, Base):
    """One change to an order or its payments, for live updates (the transactional outbox).

    Rows are written by database triggers on the history tables and the payment flags, so
    every change the state machine records has its event in the same transaction, whichever
    path (ORM or Core) made it. ``id`` is the insertion order; ``seq``, the order subscribers
    see, must never go back: on PostgreSQL a transaction that took a lower ``id`` can commit
    after a higher one, so ``santap.events.repository.sequence`` assigns it after commit; on
    SQLite (one writer at a time) the trigger assigns it as it writes."""

    __tablename__ = "order_event"
    __table_args__ = (
        Index(
            "ix_order_event_unsequenced",
            "id",
            postgresql_where=text("seq IS NULL"),
            sqlite_where=text("seq IS NULL"),
        ),
        Index("ix_order_event_order_seq", "order_id", "seq"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"))
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[str] = mapped_column(Text)
