from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from santap.models import OrderStatus
from santap.models.base import NO_NUL
from santap.orders.schemas import OrderItemRead
from santap.pagination import CursorId, CursorKey, CursorTime


class BoardOrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: OrderStatus
    total_amount: int
    table_number: str | None
    customer_name: str | None
    items: list[OrderItemRead]
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None


class OrderStatusHistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: OrderStatus | None
    to_status: OrderStatus
    reason: str
    actor: str
    created_at: datetime


class BoardOrderDetailRead(BoardOrderRead):
    history: list[OrderStatusHistoryRead]


class BoardPage(BaseModel):
    items: list[BoardOrderRead]
    next_cursor: str | None


class KitchenStatusUpdate(BaseModel):
    # Staff move paid orders through the kitchen; paying and cancelling have their own routes.
    status: Literal[OrderStatus.PREPARING, OrderStatus.READY, OrderStatus.COMPLETED]


class OrderCancel(BaseModel):
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=NO_NUL),
    ]


class BoardCursor(CursorKey):
    created_at: CursorTime
    id: CursorId
