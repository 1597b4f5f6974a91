"""The chaos run's checks can fail: each one, fed a snapshot broken its way, reports it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from bench._chaos_checks import Forgery, Snapshot, check

from santap.payments.inbox import dedupe_key

FORGED_BODY = {"order_id": "U1", "transaction_status": "settlement", "signature_key": "0" * 128}


def _consistent() -> tuple[Snapshot, dict[str, str], list[Forgery]]:
    def payment(id_: int, uid: str, status: str) -> dict[str, Any]:
        return {
            "id": id_,
            "order_id": id_,
            "order_uid": uid,
            "method": "qris",
            "status": status,
            "needs_refund": False,
            "amount_mismatch": False,
        }

    def stored(uid: str, status: str, key: str, valid: bool, outcome: str) -> dict[str, Any]:
        return {
            "order_uid": uid,
            "transaction_status": status,
            "signature_valid": valid,
            "deliveries": 2 if valid else 1,
            "dedupe_key": key,
            "outcome": outcome,
            "applied_at": None,
        }

    snapshot = Snapshot(
        orders={1: "paid", 2: "pending_payment"},
        payments=[payment(1, "U1", "paid"), payment(2, "U2", "expired")],
        notifications=[
            stored("U1", "settlement", "k1", True, "applied"),
            stored("U1", "settlement", dedupe_key(FORGED_BODY), False, "invalid_signature"),
        ],
        reconciler_changes=0,
        truth={"U1": "settlement", "U2": "expire"},
        deliveries=[{"order_id": "U1", "transaction_status": "settlement", "http_status": 200}] * 2,
        counts={},
    )
    forged = [Forgery("tampered", "U1", json.dumps(FORGED_BODY), 401)]
    return snapshot, {"U1": "pay", "U2": "expire"}, forged


def _unpay(s: Snapshot, _f: list[Forgery]) -> None:
    s.payments[0]["status"] = "pending"


def _pay_unplanned(s: Snapshot, _f: list[Forgery]) -> None:
    s.orders[2] = "paid"


def _pay_twice(s: Snapshot, _f: list[Forgery]) -> None:
    s.payments.append({**s.payments[0], "id": 3, "order_uid": "U3"})
    s.truth["U3"] = "settlement"


def _flag_amount(s: Snapshot, _f: list[Forgery]) -> None:
    s.payments[0]["amount_mismatch"] = True


def _accept_forgery(_s: Snapshot, f: list[Forgery]) -> None:
    f[0].http_status = 200


def _lose_a_delivery(s: Snapshot, _f: list[Forgery]) -> None:
    s.deliveries.append(dict(s.deliveries[0]))


BREAKAGES: dict[str, tuple[Callable[[Snapshot, list[Forgery]], None], str]] = {
    "unpaid": (_unpay, "payments differing from the simulator"),
    "unplanned": (_pay_unplanned, "orders differing from the plan"),
    "inconsistent": (_unpay, "orders inconsistent with their payments"),
    "twice": (_pay_twice, "orders paid twice without needs_refund"),
    "amount": (_flag_amount, "amount_mismatch flags"),
    "forgery": (_accept_forgery, "forgeries not rejected"),
    "inbox": (_lose_a_delivery, "delivered notifications missing from the inbox"),
}


def test_a_consistent_run_passes() -> None:
    verdict = check(*_consistent())
    assert verdict.failures == []
    assert set(verdict.numbers.values()) == {0}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_each_check_reports_its_breakage(breakage: str) -> None:
    snapshot, planned, forged = copy.deepcopy(_consistent())
    breaks, name = BREAKAGES[breakage]
    breaks(snapshot, forged)
    verdict = check(snapshot, planned, forged)
    assert verdict.numbers[name] > 0, verdict.numbers
    assert any(failure.startswith(name) for failure in verdict.failures)


def test_a_qr_the_kill_kept_from_its_customer_passes_while_both_sides_wait() -> None:
    snapshot, planned, forged = copy.deepcopy(_consistent())
    snapshot.orders[3] = "pending_payment"
    snapshot.payments.append({**snapshot.payments[1], "id": 3, "order_id": 3, "order_uid": "U3"})
    snapshot.payments[-1]["status"] = "pending"
    snapshot.truth["U3"] = "pending"
    assert check(snapshot, planned, forged).failures == []
    snapshot.truth["U3"] = "settlement"  # paid at Midtrans but pending here: still a failure
    assert check(snapshot, planned, forged).failures
