"""payments and notification inbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:32:47.096519
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("order_uid", sa.String(length=100), nullable=True),
        sa.Column("transaction_status", sa.String(length=30), nullable=True),
        sa.Column("raw_body", sa.Text(), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.Column("signature_valid", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notification_dedupe_key")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_applied_at"), ["applied_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notification_order_uid"), ["order_uid"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("order_uid", sa.String(length=50), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("gateway_status", sa.String(length=30), nullable=True),
        sa.Column("transaction_id", sa.String(length=64), nullable=True),
        sa.Column("snap_token", sa.String(length=100), nullable=True),
        sa.Column("redirect_url", sa.Text(), nullable=True),
        sa.Column("qr_code_url", sa.Text(), nullable=True),
        sa.Column("qr_string", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("amount_tendered", sa.BigInteger(), nullable=True),
        sa.Column("change_given", sa.BigInteger(), nullable=True),
        sa.Column("cashier", sa.String(length=100), nullable=True),
        sa.Column("needs_refund", sa.Boolean(), nullable=False),
        sa.Column("amount_mismatch", sa.Boolean(), nullable=False),
        sa.Column("fraud_challenge", sa.Boolean(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("gateway_response", sa.JSON(), nullable=True),
        sa.Column("last_status_response", sa.JSON(), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_payment_order_id_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
        sa.UniqueConstraint("order_uid", name=op.f("uq_payment_order_uid")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_needs_refund"), ["needs_refund"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_status"), ["status"], unique=False)

    op.create_table(
        "payment_status_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payment.id"],
            name=op.f("fk_payment_status_history_payment_id_payment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_status_history")),
    )
    with op.batch_alter_table("payment_status_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_status_history_payment_id"), ["payment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_status_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_status_history_payment_id"))

    op.drop_table("payment_status_history")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_status"))
        batch_op.drop_index(batch_op.f("ix_payment_order_id"))
        batch_op.drop_index(batch_op.f("ix_payment_needs_refund"))

    op.drop_table("payment")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_order_uid"))
        batch_op.drop_index(batch_op.f("ix_notification_applied_at"))

    op.drop_table("notification")
