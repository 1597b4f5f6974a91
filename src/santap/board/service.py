"""The staff order board: list and inspect orders, move them through the kitchen, cancel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from santap import state_machine
from santap.audit import service as audit
from santap.board import repository
from santap.board.schemas import (
    BoardCursor,
    BoardOrderDetailRead,
    BoardOrderRead,
    BoardPage,
    BoardSort,
    OrderStatusHistoryRead,
)
from santap.db import Transactions
from santap.errors import Conflict
from santap.localtime import day_bounds
from santap.models import Order, OrderStatus, Staff
from santap.orders import service as orders_service
from santap.pagination import InvalidCursor, decode_cursor, encode_cursor
from santap.payments import voiding
from santap.payments.gateway import PaymentGateway
from santap.payments.schemas import PaymentAdminRead

_PAID_STATES = frozenset({OrderStatus.PAID, OrderStatus.PREPARING, OrderStatus.READY})


class RefundRequired(Conflict):
    code = "refund_required"


KITCHEN_STEPS = frozenset({OrderStatus.PREPARING, OrderStatus.READY, OrderStatus.COMPLETED})


def staff_actor(staff: Staff) -> str:
    """How a staff member is named in order and payment history rows."""
    return f"staff:{staff.username}"


async def list_orders(
    session: AsyncSession,
    *,
    statuses: Sequence[OrderStatus],
    day: date | None,
    limit: int,
    cursor: str | None,
    sort: BoardSort = "oldest",
) -> BoardPage:
    after = decode_cursor(cursor, BoardCursor) if cursor else None
    if after is not None and after.sort != sort:
        raise InvalidCursor(
            f"The cursor continues sort={after.sort}; ask with that sort, or without a cursor"
        )
    created_from, created_before = day_bounds(day) if day else (None, None)
    rows = await repository.list_orders(
        session,
        limit=limit + 1,
        statuses=statuses,
        created_from=created_from,
        created_before=created_before,
        after=(after.created_at, after.id) if after else None,
        newest_first=sort == "newest",
    )
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(BoardCursor(created_at=last.created_at, id=last.id, sort=sort))
    return BoardPage(
        items=[BoardOrderRead.model_validate(order) for order in page], next_cursor=next_cursor
    )


async def get_order_detail(session: AsyncSession, *, order_id: int) -> BoardOrderDetailRead:
    order = await orders_service.get_order(session, order_id=order_id)
    history = await repository.list_history(session, order.id)
    return BoardOrderDetailRead.model_validate(
        {
            **BoardOrderRead.model_validate(order).model_dump(),
            "history": [OrderStatusHistoryRead.model_validate(row) for row in history],
            "payments": [PaymentAdminRead.model_validate(row) for row in order.payments],
        }
    )


async def change_status(
    session: AsyncSession, *, order_id: int, status: OrderStatus, staff: Staff
) -> Order:
    """Move a paid order along preparing → ready → completed (409 for any other step).

    Only the kitchen's steps: paying and cancelling have their own paths (the money, Midtrans),
    which the state machine's table alone would not tell apart from a kitchen move."""
    if status not in KITCHEN_STEPS:
        raise state_machine.IllegalTransition(
            f"{status} is not a kitchen step; pay or cancel the order instead",
            details={"to": status},
        )
    order = await orders_service.get_order(session, order_id=order_id, for_update=True)
    before = {"status": OrderStatus(order.status)}
    state_machine.change_order_status(
        session, order, status, reason="kitchen progress", actor=staff_actor(staff)
    )
    await session.flush()
    await audit.record(
        session,
        staff=staff,
        action="order.status",
        entity_type="order",
        entity_id=order.id,
        before=before,
        after={"status": order.status},
    )
    return order


async def cancel_order(
    transactions: Transactions,
    *,
    order_id: int,
    reason: str,
    staff: Staff,
    gateway: PaymentGateway,
) -> Order:
    """Cancel an unpaid order, closing its open QRIS attempts at Midtrans first. A paid one
    (including one whose QRIS turns out to be paid just now) needs a refund instead (409)."""

    def check(order: Order, closed_some: bool) -> None:
        if order.status in _PAID_STATES:
            raise RefundRequired(
                f"Order {order.id} is {order.status}: a paid order needs a refund, "
                "not a cancellation",
                details={"status": order.status},
            )

    async def finish(session: AsyncSession, order: Order) -> Order:
        before = {"status": OrderStatus(order.status)}
        state_machine.cancel_order(session, order, reason=reason, actor=staff_actor(staff))
        await session.flush()
        await audit.record(
            session,
            staff=staff,
            action="order.cancel",
            entity_type="order",
            entity_id=order.id,
            before=before,
            after={"status": order.status, "reason": reason},
        )
        return order

    return await voiding.after_closing_attempts(
        transactions,
        order_id=order_id,
        gateway=gateway,
        actor=staff_actor(staff),
        check=check,
        finish=finish,
    )
