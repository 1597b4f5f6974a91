from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from santap import state_machine
from santap.db import Transactions
from santap.errors import NotFound, Unprocessable
from santap.menu import service as menu_service
from santap.models import Order, OrderItem, OrderStatus
from santap.models.base import utcnow
from santap.orders import placing, repository
from santap.orders.placing import PlacedLine
from santap.orders.schemas import OrderCreate, OrderCreated, OrderItemRead, OrderRead


class OrderNotFound(NotFound):
    code = "order_not_found"

    def __init__(self, order_id: int) -> None:
        super().__init__(f"Order {order_id} was not found")


class ItemNotOrderable(Unprocessable):
    code = "item_not_orderable"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_cookie(order_id: int) -> str:
    """The HttpOnly cookie in which the customer's pages keep an order's token."""
    return f"santap_order_{order_id}"


def token_matches(order: Order, token: str | None) -> bool:
    if not token:
        return False
    return hmac.compare_digest(hash_token(token), order.access_token_hash)


async def create_order(
    transactions: Transactions, engine: AsyncEngine, *, data: OrderCreate
) -> OrderCreated:
    """Price every line from the database and store the order; returns it with its token.
    On PostgreSQL one statement on ``engine`` (autocommit) does it all (``placing``)."""
    token = secrets.token_urlsafe(32)
    if engine.dialect.name != "postgresql":
        async with transactions.begin() as session:
            order = await _create_with_orm(session, data=data, token=token)
            return OrderCreated(**OrderRead.model_validate(order).model_dump(), access_token=token)
    for _ in range(2):
        now = utcnow()
        async with engine.connect() as connection:
            placed = await placing.place(
                connection, data=data, token_hash=hash_token(token), now=now
            )
        if placed is not None:
            order_id, lines = placed
            return _created(order_id, lines, data=data, now=now, token=token)
        async with transactions.begin() as session:
            await _priced_lines(session, data)  # raises, naming the refused lines
        # Every line is orderable now: an item came back between the two reads. Again.
    raise ItemNotOrderable("The menu changed while ordering; try again")


def _created(
    order_id: int, lines: list[PlacedLine], *, data: OrderCreate, now: datetime, token: str
) -> OrderCreated:
    return OrderCreated(
        id=order_id,
        status=OrderStatus.PENDING_PAYMENT,
        total_amount=sum(line.subtotal for line in lines),
        table_number=data.table_number or None,
        customer_name=data.customer_name or None,
        items=[
            OrderItemRead(
                menu_item_id=line.menu_item_id,
                name=line.name,
                unit_price=line.unit_price,
                quantity=line.quantity,
                subtotal=line.subtotal,
                note=line.note,
            )
            for line in lines
        ],
        created_at=now,
        updated_at=now,
        paid_at=None,
        payments=[],
        access_token=token,
    )


async def _priced_lines(session: AsyncSession, data: OrderCreate) -> list[OrderItem]:
    menu = await menu_service.items_for_order(
        session, item_ids=[line.menu_item_id for line in data.items]
    )
    missing = [
        {"field": f"body.items.{index}.menu_item_id", "menu_item_id": line.menu_item_id}
        for index, line in enumerate(data.items)
        if line.menu_item_id not in menu
    ]
    if missing:
        fields = ", ".join(str(entry["field"]) for entry in missing)
        raise ItemNotOrderable(f"Unknown or unavailable menu item at {fields}", details=missing)
    return [
        OrderItem(
            menu_item_id=line.menu_item_id,
            name=menu[line.menu_item_id].name,
            unit_price=menu[line.menu_item_id].price,
            quantity=line.quantity,
            note=line.note or None,
        )
        for line in data.items
    ]


async def _create_with_orm(session: AsyncSession, *, data: OrderCreate, token: str) -> Order:
    lines = await _priced_lines(session, data)
    order = Order(
        access_token_hash=hash_token(token),
        table_number=data.table_number or None,
        customer_name=data.customer_name or None,
        status=OrderStatus.PENDING_PAYMENT,
        total_amount=sum(line.subtotal for line in lines),
        items=lines,
        payments=[],
    )
    repository.add(session, order)
    await session.flush()
    state_machine.start_order(session, order)
    await session.flush()
    return order


async def get_order(session: AsyncSession, *, order_id: int, for_update: bool = False) -> Order:
    order = await repository.get_order(session, order_id, for_update=for_update)
    if order is None:
        raise OrderNotFound(order_id)
    return order


async def lock_order_with_items(session: AsyncSession, *, order_id: int) -> Order:
    order = await repository.lock_order_with_items(session, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


async def lock_order(session: AsyncSession, *, order_id: int) -> Order:
    """Lock the order row without loading its lines: for settling and status changes."""
    order = await repository.lock_order(session, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


async def get_order_for_customer(
    session: AsyncSession, *, order_id: int, token: str | None
) -> Order:
    """The order when the token opens it; otherwise the same 404 as for a missing order."""
    order = await repository.get_order(session, order_id)
    if order is None or not token_matches(order, token):
        raise OrderNotFound(order_id)
    return order
