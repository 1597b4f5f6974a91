"""menu item names unique within their category

A unique index on (category_id, name), so that two items of one category can never share a
name, even when two admins save at the same moment. Items that already share a name keep it
on their oldest row; each later one gets a number ("Es Teh (2)") and a warning in the log,
for the owner to rename. A unique index rather than a constraint: on SQLite a constraint
means rebuilding the table, which order_item's foreign keys would refuse.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("santap.migrations")

INDEX = "uq_menu_item_category_id_name"
NAME_LENGTH = 100

_item = sa.table(
    "menu_item",
    sa.column("id", sa.BigInteger()),
    sa.column("category_id", sa.BigInteger()),
    sa.column("name", sa.String(NAME_LENGTH)),
)


def upgrade() -> None:
    _number_repeated_names(op.get_bind())
    with op.batch_alter_table("menu_item") as batch:
        batch.create_index(INDEX, ["category_id", "name"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("menu_item") as batch:
        batch.drop_index(INDEX)


def _number_repeated_names(bind: sa.Connection) -> None:
    repeated = bind.execute(
        sa.select(_item.c.category_id, _item.c.name)
        .group_by(_item.c.category_id, _item.c.name)
        .having(sa.func.count() > 1)
    ).all()
    for category_id, name in repeated:
        taken = set(bind.scalars(sa.select(_item.c.name).where(_item.c.category_id == category_id)))
        later = bind.scalars(
            sa.select(_item.c.id)
            .where(_item.c.category_id == category_id, _item.c.name == name)
            .order_by(_item.c.id)
            .offset(1)
        ).all()
        for item_id in later:
            new_name = _free_name(name, taken)
            taken.add(new_name)
            bind.execute(sa.update(_item).where(_item.c.id == item_id).values(name=new_name))
            logger.warning(
                "menu item %d renamed from %r to %r: category %d already has an item named so",
                item_id,
                name,
                new_name,
                category_id,
            )


def _free_name(name: str, taken: set[str]) -> str:
    number = 2
    while True:
        suffix = f" ({number})"
        candidate = name[: NAME_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        number += 1
