from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from santap.models import OrderStatus
from santap.models.base import NO_NUL
from santap.orders.schemas import OrderItemRead
from santap.pagination import CursorId, CursorKey, CursorTime
from santap.payments.schemas import PaymentAdminRead
from santap.timestamps import Timestamp


class BoardOrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: OrderStatus
    total_amount: int
    table_number: str | None
    customer_name: str | None
    items: list[OrderItemRead]
    created_at: Timestamp
    updated_at: Timestamp
    paid_at: Timestamp | None


class OrderStatusHistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: OrderStatus | None
    to_status: OrderStatus
    reason: str
    actor: str
    created_at: Timestamp


class BoardOrderDetailRead(BoardOrderRead):
    history: list[OrderStatusHistoryRead]
    payments: list[PaymentAdminRead]


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


BoardSort = Literal["newest", "oldest"]


class BoardCursor(CursorKey):
    created_at: CursorTime
    id: CursorId
    # Which order the cursor continues; absent in cursors issued before sorting existed.
    sort: BoardSort = "newest"
