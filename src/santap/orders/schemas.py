from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from santap.models import OrderStatus

MAX_ID = 2**63 - 1
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class OrderItemCreate(BaseModel):
    menu_item_id: Annotated[StrictInt, Field(gt=0, le=MAX_ID)]
    quantity: Annotated[StrictInt, Field(ge=1, le=99)]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class OrderCreate(BaseModel):
    items: Annotated[list[OrderItemCreate], Field(min_length=1, max_length=50)]
    table_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = (
        None
    )
    customer_name: ShortText | None = None


class OrderItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    menu_item_id: int
    name: str
    unit_price: int
    quantity: int
    subtotal: int
    note: str | None


class OrderRead(BaseModel):
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
    payment_status: str = "unpaid"
    payments: list[dict[str, Any]] = Field(default_factory=list)


class OrderCreated(OrderRead):
    access_token: str
