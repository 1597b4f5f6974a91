from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from santap.board import service
from santap.board.schemas import (
    BoardOrderDetailRead,
    BoardOrderRead,
    BoardPage,
    BoardSort,
    KitchenStatusUpdate,
    OrderCancel,
)
from santap.db import SessionDep, TransactionalRoute, TransactionsDep
from santap.models import OrderStatus
from santap.orders.endpoints import OrderId
from santap.payments.gateway import GatewayDep
from santap.staff.dependencies import CashierDep

router = APIRouter(
    prefix="/api/v1/admin/orders", tags=["order board"], route_class=TransactionalRoute
)

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid staff token"},
    403: {"description": "Role not allowed"},
}
_ORDER: dict[int | str, dict[str, Any]] = {**_AUTH, 404: {"description": "Order not found"}}
_CHANGE: dict[int | str, dict[str, Any]] = {
    **_ORDER,
    409: {"description": "Illegal transition, or a paid order that needs a refund"},
}


@router.get("", responses=_AUTH)
async def list_orders(
    session: SessionDep,
    _staff: CashierDep,
    status: Annotated[list[OrderStatus] | None, Query()] = None,
    # The first and last representable days have no UTC bounds (Jakarta is UTC+7).
    day: Annotated[
        date | None,
        Query(alias="date", gt=date.min, lt=date.max, description="Asia/Jakarta day, YYYY-MM-DD"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[
        BoardSort,
        Query(
            description="oldest first (the kitchen's queue, the default) or newest first "
            "(history); a cursor continues the sort it was issued for"
        ),
    ] = "oldest",
) -> BoardPage:
    """Orders, oldest first or ?sort=newest; filter by status (repeatable) and Jakarta day."""
    return await service.list_orders(
        session, statuses=status or [], day=day, limit=limit, cursor=cursor, sort=sort
    )


@router.get("/{order_id}", responses=_ORDER)
async def get_order(
    order_id: OrderId, session: SessionDep, _staff: CashierDep
) -> BoardOrderDetailRead:
    """One order with its status history and its payments (their ids are what a refund takes)."""
    return await service.get_order_detail(session, order_id=order_id)


@router.post("/{order_id}/status", responses=_CHANGE)
async def change_status(
    order_id: OrderId, data: KitchenStatusUpdate, session: SessionDep, staff: CashierDep
) -> BoardOrderRead:
    """Move a paid order to preparing, ready or completed."""
    order = await service.change_status(session, order_id=order_id, status=data.status, staff=staff)
    return BoardOrderRead.model_validate(order)


@router.post("/{order_id}/cancel", responses=_CHANGE)
async def cancel_order(
    order_id: OrderId,
    data: OrderCancel,
    gateway: GatewayDep,
    transactions: TransactionsDep,
    staff: CashierDep,
) -> BoardOrderRead:
    """Cancel an order that has not been paid (closing any open QRIS at Midtrans)."""
    order = await service.cancel_order(
        transactions, order_id=order_id, reason=data.reason, staff=staff, gateway=gateway
    )
    return BoardOrderRead.model_validate(order)
