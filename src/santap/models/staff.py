from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from santap.models.base import Base, BigIntPK, Timestamps


class StaffRole(StrEnum):
    ADMIN = "admin"
    CASHIER = "cashier"


class Staff(Timestamps, Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Tokens carry the epoch they were issued under; a new password, a deactivation or a
    # reactivation moves it on, so every token issued before stops working at once.
    token_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
