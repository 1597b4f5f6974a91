from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, computed_field

from santap.models import OrderStatus
from santap.models.base import MAX_ID, NO_NUL
from santap.payments.schemas import PaymentSummary, payment_status_of
from santap.timestamps import Timestamp

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100, pattern=NO_NUL)]


class OrderItemCreate(BaseModel):
    menu_item_id: Annotated[StrictInt, Field(gt=0, le=MAX_ID)]
    quantity: Annotated[StrictInt, Field(ge=1, le=99)]
    note: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=NO_NUL)]
        | None
    ) = None


class OrderCreate(BaseModel):
    items: Annotated[list[OrderItemCreate], Field(min_length=1, max_length=50)]
    table_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=20, pattern=NO_NUL)]
        | None
    ) = None
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
    created_at: Timestamp
    updated_at: Timestamp
    paid_at: Timestamp | None
    payments: list[PaymentSummary]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def payment_status(self) -> str:
        return payment_status_of([p.status for p in self.payments])


class OrderCreated(OrderRead):
    access_token: str
