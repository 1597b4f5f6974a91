"""rejected notifications: bad-signature deliveries leave the inbox for a bounded record

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rejected_notification",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("order_uid", sa.String(length=100), nullable=True),
        sa.Column("transaction_status", sa.String(length=30), nullable=True),
        sa.Column("body_prefix", sa.Text(), nullable=False),
        sa.Column("body_bytes", sa.Integer(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_notification")),
        sa.UniqueConstraint(
            "source_ip", "dedupe_key", name=op.f("uq_rejected_notification_source_ip")
        ),
    )
    with op.batch_alter_table("rejected_notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rejected_notification_order_uid"), ["order_uid"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rejected_notification_last_seen_at"), ["last_seen_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("rejected_notification")
