"""order events: the transactional outbox behind live updates

Every row inserted into order_status_history or payment_status_history, and every change of
a payment's needs_refund or amount_mismatch flag, appends an order_event row from a trigger,
in the same transaction. On PostgreSQL the trigger also NOTIFYs santap_events, which is
delivered on commit only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNSEQUENCED = sa.text("seq IS NULL")
_FLAGS = ("needs_refund", "amount_mismatch")

_PG_FUNCTIONS = """CREATE FUNCTION santap_order_history_event() RETURNS trigger AS $$
BEGIN
    INSERT INTO order_event (order_id, kind, payload, created_at)
    VALUES (
        NEW.order_id,
        CASE WHEN NEW.from_status IS NULL THEN 'order_placed' ELSE 'order_status' END,
        json_build_object('order_id', NEW.order_id, 'status', NEW.to_status,
                          'from', NEW.from_status, 'reason', NEW.reason)::text,
        now()
    );
    PERFORM pg_notify('santap_events', '');
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION santap_payment_history_event() RETURNS trigger AS $$
BEGIN
    INSERT INTO order_event (order_id, kind, payload, created_at)
    SELECT p.order_id, 'payment_status',
           json_build_object('order_id', p.order_id, 'payment_id', p.id, 'method', p.method,
                             'amount', p.amount,
                             'status', NEW.to_status, 'from', NEW.from_status,
                             'reason', NEW.reason)::text,
           now()
    FROM payment p WHERE p.id = NEW.payment_id;
    PERFORM pg_notify('santap_events', '');
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION santap_payment_flag_event() RETURNS trigger AS $$
BEGIN
    IF NEW.needs_refund IS DISTINCT FROM OLD.needs_refund THEN
        INSERT INTO order_event (order_id, kind, payload, created_at)
        VALUES (NEW.order_id, 'payment_flag',
                json_build_object('order_id', NEW.order_id, 'payment_id', NEW.id,
                                  'flag', 'needs_refund',
                                  'set', NEW.needs_refund)::text,
                now());
    END IF;
    IF NEW.amount_mismatch IS DISTINCT FROM OLD.amount_mismatch THEN
        INSERT INTO order_event (order_id, kind, payload, created_at)
        VALUES (NEW.order_id, 'payment_flag',
                json_build_object('order_id', NEW.order_id, 'payment_id', NEW.id,
                                  'flag', 'amount_mismatch',
                                  'set', NEW.amount_mismatch)::text,
                now());
    END IF;
    PERFORM pg_notify('santap_events', '');
    RETURN NULL;
END $$ LANGUAGE plpgsql;

-- Places committed events after the highest placed so far, in id order, and tells every
-- process (on commit) that there is more to read. Under the lock, after every earlier call
-- committed, so places only ever grow in the order rows become visible: a transaction that
-- took a lower id can commit after one with a higher id. Each statement of a plpgsql function
-- reads afresh under READ COMMITTED, so the UPDATE sees what the lock waited for.
CREATE FUNCTION santap_sequence_events(batch integer) RETURNS integer AS $$
DECLARE
    placed integer;
BEGIN
    PERFORM pg_advisory_xact_lock(7261031004);
    UPDATE order_event SET seq = numbered.seq
    FROM (
        SELECT id, (SELECT coalesce(max(seq), 0) FROM order_event)
                   + row_number() OVER (ORDER BY id) AS seq
        FROM order_event WHERE seq IS NULL ORDER BY id LIMIT batch
    ) AS numbered
    WHERE order_event.id = numbered.id;
    GET DIAGNOSTICS placed = ROW_COUNT;
    IF placed > 0 THEN
        PERFORM pg_notify('santap_events', '');
    END IF;
    RETURN placed;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER order_history_event AFTER INSERT ON order_status_history
    FOR EACH ROW EXECUTE FUNCTION santap_order_history_event();

CREATE TRIGGER payment_history_event AFTER INSERT ON payment_status_history
    FOR EACH ROW EXECUTE FUNCTION santap_payment_history_event();

CREATE TRIGGER payment_flag_event AFTER UPDATE OF needs_refund, amount_mismatch ON payment
    FOR EACH ROW
    WHEN (NEW.needs_refund IS DISTINCT FROM OLD.needs_refund
          OR NEW.amount_mismatch IS DISTINCT FROM OLD.amount_mismatch)
    EXECUTE FUNCTION santap_payment_flag_event();"""

# SQLAlchemy stores SQLite datetimes as text with microseconds.
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"
# SQLite has one writer at a time, so an event's place can be taken as it is written: insertion
# order is commit order there (PostgreSQL's are placed after commit, by the hub).
_SQLITE_NEXT_SEQ = "(SELECT coalesce(max(seq), 0) + 1 FROM order_event)"
_SQLITE_TRIGGERS = [
    f"""
CREATE TRIGGER order_history_event AFTER INSERT ON order_status_history
BEGIN
    INSERT INTO order_event (order_id, kind, payload, created_at, seq)
    VALUES (
        NEW.order_id,
        CASE WHEN NEW.from_status IS NULL THEN 'order_placed' ELSE 'order_status' END,
        json_object('order_id', NEW.order_id, 'status', NEW.to_status, 'from', NEW.from_status,
                    'reason', NEW.reason),
        {_SQLITE_NOW},
        {_SQLITE_NEXT_SEQ}
    );
END""",
    f"""
CREATE TRIGGER payment_history_event AFTER INSERT ON payment_status_history
BEGIN
    INSERT INTO order_event (order_id, kind, payload, created_at, seq)
    SELECT p.order_id, 'payment_status',
           json_object('order_id', p.order_id, 'payment_id', p.id, 'method', p.method,
                       'amount', p.amount,
                       'status', NEW.to_status, 'from', NEW.from_status, 'reason', NEW.reason),
           {_SQLITE_NOW},
           {_SQLITE_NEXT_SEQ}
    FROM payment p WHERE p.id = NEW.payment_id;
END""",
    *(
        f"""
CREATE TRIGGER payment_{flag}_event AFTER UPDATE OF {flag} ON payment
WHEN NEW.{flag} IS NOT OLD.{flag}
BEGIN
    INSERT INTO order_event (order_id, kind, payload, created_at, seq)
    VALUES (NEW.order_id, 'payment_flag',
            json_object('order_id', NEW.order_id, 'payment_id', NEW.id, 'flag', '{flag}',
                        'set', json(CASE WHEN NEW.{flag} THEN 'true' ELSE 'false' END)),
            {_SQLITE_NOW},
            {_SQLITE_NEXT_SEQ});
END"""
        for flag in _FLAGS
    ),
]


def upgrade() -> None:
    op.create_table(
        "order_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["order.id"], name=op.f("fk_order_event_order_id_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_event")),
        sa.UniqueConstraint("seq", name=op.f("uq_order_event_seq")),
    )
    op.create_index(
        "ix_order_event_unsequenced",
        "order_event",
        ["id"],
        postgresql_where=_UNSEQUENCED,
        sqlite_where=_UNSEQUENCED,
    )
    op.create_index("ix_order_event_order_seq", "order_event", ["order_id", "seq"])
    if op.get_bind().dialect.name == "postgresql":
        # asyncpg prepares each statement: one command per execute.
        for statement in _PG_FUNCTIONS.split("\n\n"):
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER payment_flag_event ON payment")
        op.execute("DROP TRIGGER payment_history_event ON payment_status_history")
        op.execute("DROP TRIGGER order_history_event ON order_status_history")
        for name in ("payment_flag", "payment_history", "order_history"):
            op.execute(f"DROP FUNCTION santap_{name}_event()")
        op.execute("DROP FUNCTION santap_sequence_events(integer)")
    else:
        for name in ("payment_needs_refund", "payment_amount_mismatch"):
            op.execute(f"DROP TRIGGER {name}_event")
        op.execute("DROP TRIGGER payment_history_event")
        op.execute("DROP TRIGGER order_history_event")
    op.drop_index("ix_order_event_order_seq", table_name="order_event")
    op.drop_index("ix_order_event_unsequenced", table_name="order_event")
    op.drop_table("order_event")
