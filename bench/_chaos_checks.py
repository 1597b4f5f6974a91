"""What the chaos run checks, computed from the database and the simulator's own truth."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from santap.payments.inbox import dedupe_key

# The payment status each final Midtrans status must end in.
EXPECTED_PAYMENT = {"settlement": "paid", "expire": "expired", "cancel": "cancelled"}
FINAL = frozenset(EXPECTED_PAYMENT)


@dataclass
class Snapshot:
    """Everything the checks need, read once after the run has settled."""

    orders: dict[int, str]
    payments: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    reconciler_changes: int
    truth: dict[str, str | None]  # order_uid -> simulator transaction_status
    deliveries: list[dict[str, Any]]
    counts: dict[str, int]


@dataclass
class Forgery:
    kind: str
    order_uid: str
    raw: str
    http_status: int | None


@dataclass
class Verdict:
    failures: list[str] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)

    def fail(self, check: str, details: list[str]) -> None:
        if details:
            shown = "; ".join(details[:5]) + (" …" if len(details) > 5 else "")
            self.failures.append(f"{check}: {len(details)} ({shown})")
        self.numbers[check] = len(details)


async def read_snapshot(
    engine: AsyncEngine,
    truth: list[dict[str, Any]],
    deliveries: dict[str, Any],
) -> Snapshot:
    async with engine.connect() as conn:
        orders = {
            int(row[0]): str(row[1])
            for row in await conn.execute(text('SELECT id, status FROM "order"'))
        }
        payments = [
            dict(row)
            for row in (
                await conn.execute(
                    text(
                        "SELECT id, order_id, order_uid, method, status, needs_refund,"
                        " amount_mismatch FROM payment"
                    )
                )
            ).mappings()
        ]
        notifications = [
            dict(row)
            for row in (
                await conn.execute(
                    text(
                        "SELECT order_uid, transaction_status, signature_valid, deliveries,"
                        " dedupe_key, outcome, applied_at FROM notification"
                        # Forgeries are kept apart from the inbox since the flood cap.
                        " UNION ALL SELECT order_uid, transaction_status, false, deliveries,"
                        " dedupe_key, 'invalid_signature', NULL FROM rejected_notification"
                    )
                )
            ).mappings()
        ]
        reconciler_changes = (
            await conn.execute(
                text("SELECT count(*) FROM payment_status_history WHERE actor = 'reconciler'")
            )
        ).scalar_one()
    return Snapshot(
        orders=orders,
        payments=payments,
        notifications=notifications,
        reconciler_changes=int(reconciler_changes),
        truth={tx["order_id"]: tx["transaction_status"] for tx in truth},
        deliveries=deliveries.get("deliveries", []),
        counts=deliveries.get("counts", {}),
    )


async def unsettled(engine: AsyncEngine, truth: list[dict[str, Any]]) -> dict[str, int]:
    """Payments whose status does not yet follow a final simulator status, and stored
    genuine notifications not applied yet."""
    final = {tx["order_id"]: tx["transaction_status"] for tx in truth}
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT order_uid, status FROM payment"))).all()
        unapplied = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM notification WHERE applied_at IS NULL AND signature_valid"
                )
            )
        ).scalar_one()
    lagging = sum(
        1
        for uid, status in rows
        # "creating": a creation cut off by the kill, which reconciliation closes.
        if status == "creating"
        or (final.get(uid) in FINAL and EXPECTED_PAYMENT[str(final[uid])] != status)
    )
    return {"payments behind": lagging, "unapplied notifications": int(unapplied)}


def check(snapshot: Snapshot, planned: dict[str, str], forged: list[Forgery]) -> Verdict:
    verdict = Verdict()
    verdict.fail("payments differing from the simulator", _truth_mismatches(snapshot))
    verdict.fail("orders differing from the plan", _plan_mismatches(snapshot, planned))
    verdict.fail("orders inconsistent with their payments", _order_mismatches(snapshot))
    verdict.fail("orders paid twice without needs_refund", _double_paid(snapshot))
    verdict.fail("amount_mismatch flags", _amount_flags(snapshot))
    verdict.fail("forgeries not rejected", _forgeries_accepted(snapshot, forged))
    verdict.fail("delivered notifications missing from the inbox", _inbox_gaps(snapshot))
    return verdict


def _truth_mismatches(snapshot: Snapshot) -> list[str]:
    problems = []
    for payment in snapshot.payments:
        if payment["method"] != "qris":
            continue
        uid, status = payment["order_uid"], payment["status"]
        truth = snapshot.truth.get(uid)
        if status == "failed" and truth in (None, "pending", "expire"):
            # The charge failed or timed out: the customer never saw a QR to pay, though a
            # timed-out charge may live on at Midtrans until it expires (counted as ghosts).
            continue
        if status == "pending" and truth == "pending":
            # A QR the kill kept from its customer (cut after the attempt went pending): both
            # sides still wait, and it expires at Midtrans on its own. Its order must still be
            # awaiting payment, which the plan check holds it to.
            continue
        if status == "cancelled" and truth is None:
            # A creation cut off by the kill before Midtrans was asked, closed by reconciliation.
            continue
        expected = EXPECTED_PAYMENT.get(str(truth), f"<simulator says {truth}>")
        if status != expected:
            problems.append(f"{uid} is {status}, simulator {truth}")
    return problems


def _plan_mismatches(snapshot: Snapshot, planned: dict[str, str]) -> list[str]:
    """Every driven order ends as its script said: paid, or still awaiting payment."""
    by_uid = {p["order_uid"]: p for p in snapshot.payments}
    problems = []
    for uid, fate in planned.items():
        payment = by_uid.get(uid)
        if payment is None:
            problems.append(f"{uid} missing")
            continue
        order_status = snapshot.orders[payment["order_id"]]
        expected = "paid" if fate == "pay" else "pending_payment"
        if order_status != expected:
            problems.append(f"order {payment['order_id']} is {order_status}, expected {expected}")
    return problems


def _order_mismatches(snapshot: Snapshot) -> list[str]:
    paid: Counter[int] = Counter(p["order_id"] for p in snapshot.payments if p["status"] == "paid")
    problems = []
    for order_id, status in snapshot.orders.items():
        if status == "paid" and not paid[order_id]:
            problems.append(f"order {order_id} paid without a paid payment")
        elif status == "pending_payment" and paid[order_id]:
            problems.append(f"order {order_id} has a paid payment but awaits payment")
        elif status not in ("paid", "pending_payment"):
            problems.append(f"order {order_id} is {status}")
    return problems


def _double_paid(snapshot: Snapshot) -> list[str]:
    unflagged: Counter[int] = Counter(
        p["order_id"] for p in snapshot.payments if p["status"] == "paid" and not p["needs_refund"]
    )
    return [f"order {order_id}" for order_id, count in unflagged.items() if count > 1]


def _amount_flags(snapshot: Snapshot) -> list[str]:
    return [p["order_uid"] for p in snapshot.payments if p["amount_mismatch"]]


def _forgeries_accepted(snapshot: Snapshot, forged: list[Forgery]) -> list[str]:
    stored = {n["dedupe_key"]: n for n in snapshot.notifications}
    problems = []
    for forgery in forged:
        row = stored.get(dedupe_key(json.loads(forgery.raw)))
        if forgery.http_status != 401:
            problems.append(f"{forgery.kind} on {forgery.order_uid} got {forgery.http_status}")
        elif row is None or row["signature_valid"] or row["outcome"] != "invalid_signature":
            problems.append(f"{forgery.kind} on {forgery.order_uid} not stored as invalid")
    return problems


def _inbox_gaps(snapshot: Snapshot) -> list[str]:
    """Each (order_uid, status) answered 2xx must be stored, counted at least as often."""
    delivered: Counter[tuple[str, str]] = Counter(
        (d["order_id"], d["transaction_status"])
        for d in snapshot.deliveries
        if d["http_status"] is not None and 200 <= d["http_status"] < 300
    )
    stored: Counter[tuple[str, str]] = Counter()
    for n in snapshot.notifications:
        if n["signature_valid"]:
            stored[(n["order_uid"], n["transaction_status"])] += n["deliveries"]
    return [
        f"{key}: {count} delivered, {stored[key]} stored"
        for key, count in delivered.items()
        if stored[key] < count
    ]


def figures(snapshot: Snapshot, forged: list[Forgery]) -> dict[str, int]:
    """Counts for the summary that are not pass/fail."""
    outcomes = Counter(
        "2xx" if d["http_status"] is not None and 200 <= d["http_status"] < 300 else d["outcome"]
        for d in snapshot.deliveries
    )
    db_uids = {p["order_uid"] for p in snapshot.payments}
    truth = Counter(str(status) for status in snapshot.truth.values())
    return {
        "sim_settlement": truth["settlement"],
        "sim_expire": truth["expire"],
        "sim_cancel": truth["cancel"],
        "sim_pending": truth["pending"],
        "ghosts": sum(1 for uid in snapshot.truth if uid not in db_uids),
        "failed_charges": sum(1 for p in snapshot.payments if p["status"] == "failed"),
        "dispatched": snapshot.counts.get("dispatched", 0),
        "dropped": snapshot.counts.get("dropped", 0),
        "duplicated": snapshot.counts.get("duplicated", 0),
        "reordered": snapshot.counts.get("reordered", 0),
        "attempts": len(snapshot.deliveries) - outcomes["dropped"],
        "delivered_2xx": outcomes["2xx"],
        "failed_attempts": outcomes["failed"],
        "inbox_valid": sum(1 for n in snapshot.notifications if n["signature_valid"]),
        "inbox_invalid": sum(1 for n in snapshot.notifications if not n["signature_valid"]),
        "forged_sent": len(forged),
        "forged_rejected": sum(1 for f in forged if f.http_status == 401),
        "reconciler_changes": snapshot.reconciler_changes,
        "orders_in_db": len(snapshot.orders),
        "orders_paid": sum(1 for s in snapshot.orders.values() if s == "paid"),
        "needs_refund": sum(1 for p in snapshot.payments if p["needs_refund"]),
    }
