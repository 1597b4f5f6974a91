from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from santap.models.base import Base, BigIntPK, Timestamps


class MenuCategory(Timestamps, Base):
    __tablename__ = "menu_category"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    items: Mapped[list[MenuItem]] = relationship(
        back_populates="category", lazy="raise", order_by="MenuItem.id"
    )


class MenuItem(Timestamps, Base):
    __tablename__ = "menu_item"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        # Names are unique within a category (migration 0009); retired items keep theirs.
        Index("uq_menu_item_category_id_name", "category_id", "name", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("menu_category.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column(BigInteger)
    is_available: Mapped[bool] = mapped_column(Boolean, default=True)
    # Retired: off the menu for good (not "sold out today"), kept for its orders' history.
    is_retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    category: Mapped[MenuCategory] = relationship(back_populates="items", lazy="raise")
