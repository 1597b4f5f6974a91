"""The simulator's truth: transactions, their state changes, and the notifications they cause."""

from __future__ import annotations

import asyncio
import heapq
import hmac
import itertools
import time
import uuid
from base64 import b64encode
from datetime import timedelta
from typing import Any

import httpx

from santap.gateways.midtrans.schemas import format_rupiah
from santap.simulator.faults import Faults
from santap.simulator.notifier import Delivery, Notifier
from santap.simulator.qr import qris_payload
from santap.simulator.state import (
    MERCHANT_ID,
    MERCHANT_NAME,
    REFUNDABLE,
    SimTransaction,
    SimulatorError,
    expiry_seconds,
    now_wib,
    start_time,
    validate_payment_body,
    wib,
)

QRIS_MAX_AMOUNT = 10_000_000
IDEMPOTENCY_TTL_S = 300.0
DUPLICATE_ORDER = (
    "transaction_details.order_id has been paid and utilized, please use another order ID"
)
NOT_FOUND = "Transaction doesn't exist."
CANNOT_MODIFY = "Merchant cannot modify the status of the transaction"


class Simulator:
    """Create with :func:`santap.simulator.create_simulator`; ``app`` is set there."""

    app: Any

    def __init__(
        self,
        *,
        server_key: str,
        notify_url: str | None,
        public_base_url: str,
        time_factor: float = 1.0,
        faults: Faults | None = None,
        http_client: httpx.AsyncClient | None = None,
        expiry_factor: float = 1.0,
    ) -> None:
        self._server_key = server_key
        self._expected_auth = "Basic " + b64encode(f"{server_key}:".encode()).decode()
        self.notify_url = notify_url
        self.public_base_url = public_base_url.rstrip("/")
        self.time_factor = time_factor
        self.expiry_factor = expiry_factor
        self.faults = faults if faults is not None else Faults()
        self._http_client = http_client
        self._owns_client = http_client is None
        self.notifier = Notifier(faults=self.faults, time_factor=time_factor, client=self._client)
        self.transactions: dict[str, SimTransaction] = {}
        self._by_transaction_id: dict[str, SimTransaction] = {}
        self._by_token: dict[str, SimTransaction] = {}
        self._idempotent: dict[str, tuple[float, dict[str, Any]]] = {}
        self._expiries: list[tuple[float, int, str]] = []
        self._sweeper: asyncio.Task[None] | None = None
        self._sequence = itertools.count(1)

    def __repr__(self) -> str:
        return (
            f"Simulator(public_base_url={self.public_base_url!r}, notify_url={self.notify_url!r})"
        )

    @property
    def deliveries(self) -> list[Delivery]:
        return self.notifier.deliveries

    def is_authorized(self, authorization: str | None) -> bool:
        return authorization is not None and hmac.compare_digest(
            authorization.encode(), self._expected_auth.encode()
        )

    def use_http_client(self, client: httpx.AsyncClient) -> None:
        """Deliver notifications through ``client`` (e.g. in-process to the host app); the
        simulator closes it on ``aclose()``."""
        self._http_client = client
        self._owns_client = True

    async def drain(self) -> None:
        await self.notifier.drain()

    async def aclose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self.notifier.aclose()
        if self._owns_client and self._http_client is not None:
            await self._http_client.aclose()
            self._http_client = None

    # --- Midtrans API operations -------------------------------------------------------------

    def create_snap(
        self,
        body: dict[str, Any],
        *,
        override: list[str] | None = None,
        append: list[str] | None = None,
    ) -> SimTransaction:
        order_id, gross, items = validate_payment_body(body)
        if order_id in self.transactions:
            raise SimulatorError(400, DUPLICATE_ORDER)
        seconds = expiry_seconds(body.get("expiry"), duration_key="duration")
        tx = SimTransaction(order_id, gross, "snap", seconds, items, token=str(uuid.uuid4()))
        tx.start_time = start_time(body.get("expiry"))
        page = body.get("page_expiry")
        # Midtrans' default page_expiry is 24 hours.
        open_for: list[float] = [expiry_seconds(page, duration_key="duration") if page else 86400]
        if tx.start_time is not None:
            open_for.append(seconds - (now_wib() - tx.start_time).total_seconds())
        tx.choose_deadline = time.monotonic() + min(open_for) * self.expiry_factor
        tx.notify_urls, tx.append_urls = override, append or []
        self.transactions[order_id] = tx
        self._by_token[tx.token or ""] = tx
        return tx

    def charge(
        self,
        body: dict[str, Any],
        *,
        override: list[str] | None = None,
        append: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        cached = self._cached_charge(idempotency_key)
        if cached is not None:
            return cached
        if body.get("payment_type") != "qris":
            raise SimulatorError(402, "Payment channel is not activated.")
        order_id, gross, items = validate_payment_body(body)
        if gross > QRIS_MAX_AMOUNT:
            raise SimulatorError(400, "transaction_details.gross_amount exceeds the QRIS limit")
        existing = self.transactions.get(order_id)
        # A pending Core order_id becomes reusable after /cancel or /expire (midtrans.md §3).
        if existing is not None and not (
            existing.kind == "core" and existing.status in ("cancel", "expire")
        ):
            raise SimulatorError(406, DUPLICATE_ORDER)
        qris = body.get("qris")
        acquirer = str(qris.get("acquirer", "gopay")) if isinstance(qris, dict) else "gopay"
        seconds = expiry_seconds(body.get("custom_expiry"), duration_key="expiry_duration")
        tx = SimTransaction(order_id, gross, "core", seconds, items, acquirer=acquirer)
        tx.notify_urls, tx.append_urls = override, append or []
        self.transactions[order_id] = tx
        self._start_pending(tx)
        answer = self._charge_answer(tx)
        if idempotency_key is not None:
            self._idempotent[idempotency_key] = (time.monotonic(), answer)
        return answer

    def status(self, transaction: str) -> dict[str, Any]:
        return self.find_core(transaction).status_answer(self._server_key)

    def cancel(self, transaction: str) -> dict[str, Any]:
        tx = self._transition(self.find_core(transaction), "cancel")
        return self._change_answer(tx, "200", "Success, transaction is canceled")

    def expire(self, transaction: str) -> dict[str, Any]:
        tx = self._transition(self.find_core(transaction), "expire")
        return self._change_answer(tx, "407", "Success, transaction has expired")

    def refund(self, transaction: str, body: dict[str, Any]) -> dict[str, Any]:
        tx = self.find_core(transaction)
        key = str(body.get("refund_key") or uuid.uuid4())
        if key in tx.refund_answers:
            return tx.refund_answers[key]
        if tx.status not in REFUNDABLE:
            raise SimulatorError(412, CANNOT_MODIFY)
        remaining = tx.gross_amount - tx.refunded_amount
        amount = body.get("amount", remaining)
        if type(amount) is not int or not 1 <= amount <= remaining:
            raise SimulatorError(414, "Refund amount is invalid or exceeds the refundable amount")
        refund: dict[str, Any] = {
            "refund_chargeback_id": next(self._sequence),
            "amount": amount,
            "created_at": wib(now_wib()),
            "reason": str(body.get("reason", ""))[:255],
            "refund_key": key,
            "refund_method": "online",
            "bank_confirmed_at": None,
        }
        tx.refunds.append(refund)
        tx.status = "refund" if amount == remaining else "partial_refund"
        answer = {
            **self._change_answer(tx, "200", "Success, refund request is approved"),
            "refund_chargeback_id": refund["refund_chargeback_id"],
            "refund_amount": format_rupiah(amount),
            "refund_key": key,
        }
        tx.refund_answers[key] = answer
        # Midtrans notifies twice: on approval, then once the bank confirms (midtrans.md §4).
        self._notify(tx)
        refund["bank_confirmed_at"] = wib(now_wib())
        self._notify(tx)
        return answer

    # --- payer and operator actions ----------------------------------------------------------

    async def choose_qris(self, order_id: str) -> SimTransaction:
        """The payer picks QRIS on the Snap page: the Core transaction starts as pending."""
        tx = self._require(order_id)
        if tx.kind != "snap":
            raise SimulatorError(400, f"{order_id} is a Core charge, not a Snap transaction")
        if tx.status is None:
            if tx.choose_deadline is not None and time.monotonic() >= tx.choose_deadline:
                raise SimulatorError(412, "The Snap page has expired; start a new transaction")
            self._start_pending(tx)
        return tx

    async def pay(self, order_id: str) -> SimTransaction:
        tx = self._require(order_id)
        if tx.status is None:
            await self.choose_qris(order_id)
        self._expire_if_due(tx)
        if tx.status != "pending":
            raise SimulatorError(412, f"cannot pay a transaction that is {tx.status}")
        tx.status, tx.settlement_time = "settlement", now_wib()
        self._notify(tx)
        return tx

    async def expire_transaction(self, order_id: str) -> SimTransaction:
        """The QR's (or, before a method was chosen, the Snap page's) time is up."""
        return self._close(order_id, "expire")

    async def cancel_transaction(self, order_id: str) -> SimTransaction:
        """The payer cancels, on the Snap page before choosing a method or on the QR."""
        return self._close(order_id, "cancel")

    def find_core(self, transaction: str) -> SimTransaction:
        """By order_id or transaction_id; a Snap payment without a chosen method is unknown."""
        tx = self.transactions.get(transaction) or self._by_transaction_id.get(transaction)
        if tx is None or tx.status is None:
            raise SimulatorError(404, NOT_FOUND)
        self._expire_if_due(tx)
        return tx

    def by_token(self, token: str) -> SimTransaction | None:
        return self._by_token.get(token)

    def _require(self, order_id: str) -> SimTransaction:
        tx = self.transactions.get(order_id)
        if tx is None:
            raise SimulatorError(404, NOT_FOUND)
        return tx

    # --- internals ---------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http_client is None:
            self._http_client = httpx.AsyncClient(follow_redirects=False)
        return self._http_client

    def _start_pending(self, tx: SimTransaction) -> None:
        tx.transaction_id = str(uuid.uuid4())
        tx.transaction_time = now_wib()
        # Snap with a start_time: the QR lives until start_time + duration, not from now.
        started = tx.start_time or tx.transaction_time
        tx.expiry_time = started + timedelta(seconds=tx.expiry_seconds)
        tx.qr_string = qris_payload(
            amount=tx.gross_amount,
            reference=tx.transaction_id.replace("-", "")[:25],
            acquirer=tx.acquirer,
            merchant_name=MERCHANT_NAME,
        )
        tx.status = "pending"
        left = (tx.expiry_time - tx.transaction_time).total_seconds()
        tx.deadline = time.monotonic() + left * self.expiry_factor
        self._by_transaction_id[tx.transaction_id] = tx
        heapq.heappush(self._expiries, (tx.deadline, next(self._sequence), tx.transaction_id))
        self._ensure_sweeper()
        self._notify(tx)

    def _close(self, order_id: str, status: str) -> SimTransaction:
        tx = self.transactions.get(order_id)
        if tx is not None and tx.kind == "snap" and tx.status is None:
            # Snap before a method was chosen: Midtrans' page lets the payment expire (or the
            # payer give up) there, and the merchant hears of it like any other change.
            tx.transaction_id = str(uuid.uuid4())
            tx.transaction_time = now_wib()
            tx.status = status
            self._by_transaction_id[tx.transaction_id] = tx
            self._notify(tx)
            return tx
        return self._transition(self.find_core(order_id), status)

    def _transition(self, tx: SimTransaction, status: str) -> SimTransaction:
        self._expire_if_due(tx)
        if tx.status != "pending":
            raise SimulatorError(412, CANNOT_MODIFY)
        tx.status = status
        self._notify(tx)
        return tx

    def _expire_if_due(self, tx: SimTransaction) -> None:
        if tx.status == "pending" and tx.deadline is not None and time.monotonic() >= tx.deadline:
            tx.status = "expire"
            self._notify(tx)

    def _ensure_sweeper(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        """Expire pending transactions on time even if nobody asks about them."""
        while True:
            now = time.monotonic()
            while self._expiries and self._expiries[0][0] <= now:
                _, _, transaction_id = heapq.heappop(self._expiries)
                self._expire_if_due(self._by_transaction_id[transaction_id])
            wait = self._expiries[0][0] - now if self._expiries else 1.0
            await asyncio.sleep(min(max(wait, 0.01), 1.0))

    def _notify(self, tx: SimTransaction) -> None:
        if tx.notify_urls is not None:
            urls = list(tx.notify_urls)
        else:
            urls = self.default_notify_urls() + tx.append_urls
        self.notifier.dispatch(tx.notification(self._server_key), urls)

    def default_notify_urls(self) -> list[str]:
        """``notify_url`` may list up to 3 comma-separated URLs, like X-Override-Notification."""
        if not self.notify_url:
            return []
        return [url.strip() for url in self.notify_url.split(",") if url.strip()][:3]

    def _cached_charge(self, key: str | None) -> dict[str, Any] | None:
        if key is None or key not in self._idempotent:
            return None
        stored_at, answer = self._idempotent[key]
        if time.monotonic() - stored_at > IDEMPOTENCY_TTL_S:
            del self._idempotent[key]
            return None
        return answer

    def _charge_answer(self, tx: SimTransaction) -> dict[str, Any]:
        base = self.public_base_url
        return {
            "status_code": "201",
            "status_message": "QRIS transaction is created",
            "transaction_id": tx.transaction_id,
            "order_id": tx.order_id,
            "merchant_id": MERCHANT_ID,
            "gross_amount": format_rupiah(tx.gross_amount),
            "currency": "IDR",
            "payment_type": "qris",
            "transaction_time": wib(tx.transaction_time),
            "transaction_status": tx.status,
            "fraud_status": "accept",
            "acquirer": tx.acquirer,
            "actions": [
                {
                    "name": "generate-qr-code",
                    "method": "GET",
                    "url": f"{base}/v2/qris/{tx.transaction_id}/qr-code",
                },
                {
                    "name": "generate-qr-code-v2",
                    "method": "GET",
                    "url": f"{base}/v4/qris/{tx.transaction_id}/qr-code",
                },
            ],
            "qr_string": tx.qr_string,
            "expiry_time": wib(tx.expiry_time),
        }

    def _change_answer(self, tx: SimTransaction, code: str, message: str) -> dict[str, Any]:
        fields = tx.fields(self._server_key)
        # The signature covers the notification status_code, not this answer's; leave it out.
        del fields["signature_key"]
        return {**fields, "status_code": code, "status_message": message}
