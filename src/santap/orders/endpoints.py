from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path

from santap.db import AutocommitDep, SessionDep, TransactionalRoute, TransactionsDep
from santap.models.base import MAX_ID
from santap.orders import service
from santap.orders.schemas import OrderCreate, OrderCreated, OrderRead
from santap.staff.dependencies import OptionalStaff

router = APIRouter(prefix="/api/v1/orders", tags=["orders"], route_class=TransactionalRoute)

OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"description": "Order not found"}}


@router.post("", status_code=201, responses={422: {"description": "Invalid order"}})
async def create_order(
    data: OrderCreate, transactions: TransactionsDep, engine: AutocommitDep
) -> OrderCreated:
    """Place an order; the server prices every line from the menu."""
    return await service.create_order(transactions, engine, data=data)


@router.get("/{order_id}", responses=_ERRORS)
async def get_order(
    order_id: OrderId,
    session: SessionDep,
    staff: OptionalStaff,
    x_order_token: Annotated[str | None, Header()] = None,
) -> OrderRead:
    """An order, for the customer holding its access token or for staff with a bearer token."""
    if staff is not None:
        order = await service.get_order(session, order_id=order_id)
    else:
        order = await service.get_order_for_customer(
            session, order_id=order_id, token=x_order_token
        )
    return OrderRead.model_validate(order)
