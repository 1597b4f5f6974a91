"""retired menu items: off the menu for good, kept for the history of the orders that had them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("menu_item") as batch:
        batch.add_column(
            sa.Column("is_retired", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("menu_item") as batch:
        batch.drop_column("is_retired")
