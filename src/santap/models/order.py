from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from santap.models.base import Base, BigIntPK, CreatedAt, Timestamps, UTCDateTime

if TYPE_CHECKING:
    from santap.models.payment import Payment


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PREPARING = "preparing"
    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Order(Timestamps, Base):
    __tablename__ = "order"
    __table_args__ = (CheckConstraint("total_amount > 0", name="total_positive"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    access_token_hash: Mapped[str] = mapped_column(String(64))
    table_number: Mapped[str | None] = mapped_column(String(20))
    customer_name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[OrderStatus] = mapped_column(String(20), index=True)
    total_amount: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[OrderItem]] = relationship(lazy="raise", order_by="OrderItem.id")
    payments: Mapped[list[Payment]] = relationship(lazy="raise", order_by="Payment.id")


class OrderItem(Base):
    __tablename__ = "order_item"
    __table_args__ = (
        CheckConstraint("quantity BETWEEN 1 AND 99", name="quantity_range"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    menu_item_id: Mapped[int] = mapped_column(ForeignKey("menu_item.id"))
    name: Mapped[str] = mapped_column(String(100))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(200))

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity


class OrderStatusHistory(CreatedAt, Base):
    __tablename__ = "order_status_history"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100))
