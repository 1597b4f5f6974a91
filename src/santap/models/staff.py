from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, String
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
