"""Placing an order on PostgreSQL in one statement (one round trip, autocommit).

The statement prices every line from the menu as it stands (available items of active
categories only), and stores the order, its lines and its birth in the history only when
every line found its item; otherwise it stores nothing and returns no row, and the service
reads the menu to say which lines it refused. SQLite takes the ORM path
(``service.create_order``) with the same rules: it has no data-modifying CTEs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from santap import state_machine
from santap.models import OrderStatus
from santap.orders.schemas import OrderCreate

_PLACE = text(
    """
WITH lines AS (
    SELECT line.position, line.menu_item_id, line.quantity, line.note, item.name, item.price
    FROM unnest(
        CAST(:menu_item_ids AS BIGINT[]),
        CAST(:quantities AS INTEGER[]),
        CAST(:notes AS VARCHAR[])
    ) WITH ORDINALITY AS line (menu_item_id, quantity, note, position)
    JOIN menu_item AS item ON item.id = line.menu_item_id AND item.is_available
        AND NOT item.is_retired
    JOIN menu_category AS category ON category.id = item.category_id AND category.is_active
),
placed AS (
    INSERT INTO "order" (access_token_hash, table_number, customer_name, status, total_amount,
                         created_at, updated_at)
    SELECT :token_hash, :table_number, :customer_name, :status, sum(price * quantity),
           :now, :now
    FROM lines
    HAVING count(*) = :line_count
    RETURNING id
),
items AS (
    INSERT INTO order_item (order_id, menu_item_id, name, unit_price, quantity, note)
    SELECT placed.id, lines.menu_item_id, lines.name, lines.price, lines.quantity, lines.note
    FROM placed, lines
    ORDER BY lines.position
    RETURNING id, order_id, menu_item_id, name, unit_price, quantity, note
),
born AS (
    INSERT INTO order_status_history (order_id, from_status, to_status, reason, actor,
                                      created_at)
    SELECT id, NULL, :status, :reason, :actor, :now FROM placed
)
SELECT * FROM items ORDER BY id
"""
)


@dataclass(frozen=True)
class PlacedLine:
    menu_item_id: int
    name: str
    unit_price: int
    quantity: int
    note: str | None

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity


async def place(
    connection: AsyncConnection, *, data: OrderCreate, token_hash: str, now: datetime
) -> tuple[int, list[PlacedLine]] | None:
    """The new order's id and its priced lines, or None when a line's item is not orderable
    (nothing was stored)."""
    reason, actor = state_machine.ORDER_PLACED
    rows = (
        await connection.execute(
            _PLACE,
            {
                "menu_item_ids": [line.menu_item_id for line in data.items],
                "quantities": [line.quantity for line in data.items],
                "notes": [line.note or None for line in data.items],
                "line_count": len(data.items),
                "token_hash": token_hash,
                "table_number": data.table_number or None,
                "customer_name": data.customer_name or None,
                "status": OrderStatus.PENDING_PAYMENT.value,
                "reason": reason,
                "actor": actor,
                "now": now,
            },
        )
    ).all()
    if not rows:
        return None
    lines = [
        PlacedLine(row.menu_item_id, row.name, row.unit_price, row.quantity, row.note)
        for row in rows
    ]
    return rows[0].order_id, lines
