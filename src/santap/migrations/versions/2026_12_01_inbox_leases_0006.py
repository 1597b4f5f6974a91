"""inbox leases: the background applier claims unapplied notifications for a while

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNAPPLIED = sa.text("applied_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    # The applier's claim reads only unapplied rows, in id order: a small index that stays
    # small however long the inbox grows.
    op.create_index(
        "ix_notification_unapplied",
        "notification",
        ["id"],
        postgresql_where=_UNAPPLIED,
        sqlite_where=_UNAPPLIED,
    )


def downgrade() -> None:
    op.drop_index("ix_notification_unapplied", table_name="notification")
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("attempts")
        batch.drop_column("lease_until")
