"""Delivers notifications the way Midtrans does: retries by reply code, no order guarantee."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

from santap.simulator.faults import Faults

logger = logging.getLogger(__name__)

# midtrans.md §6: nominal delays before retry 1..5, in minutes.
RETRY_DELAYS_MIN = (2, 10, 30, 90, 210)
MAX_REDIRECTS = 5
DELIVERY_TIMEOUT_S = 15.0  # Midtrans waits 15 s for an answer
CLOSE_GRACE_S = 5.0  # how long aclose() lets a POST already on the wire finish
# Deliveries beyond this wait on a semaphore, not in httpcore's pool, whose per-request cost
# grows with its waiters (encode/httpx#3215): thousands of queued deliveries froze the loop.
MAX_CONCURRENT_POSTS = 32
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "User-Agent": "Veritrans",
}


def retry_budget(http_status: int | None) -> int:
    """How many retries Midtrans grants after a failed delivery answered with ``http_status``."""
    if http_status == 500:
        return 1
    if http_status == 503:
        return 4
    if http_status in (400, 404):
        return 2
    if http_status in (301, 302, 303):
        return 0  # Midtrans does not follow these: the merchant must fix the URL.
    return 5


@dataclass(frozen=True)
class Delivery:
    """One attempt (or a decision not to attempt), kept for tests and the control endpoint."""

    url: str | None
    order_id: str
    transaction_status: str
    attempt: int
    outcome: str  # delivered | failed | dropped | no_url
    http_status: int | None = None
    error: str | None = None


class Notifier:
    def __init__(
        self, *, faults: Faults, time_factor: float, client: Callable[[], httpx.AsyncClient]
    ) -> None:
        self._faults = faults
        self._time_factor = time_factor
        self._client = client
        self._tasks: set[asyncio.Task[None]] = set()
        self._posting: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._held: dict[str, asyncio.Event] = {}
        self._sending = asyncio.Semaphore(MAX_CONCURRENT_POSTS)
        self.deliveries: list[Delivery] = []
        # Notifications dispatched and the faults rolled on them (for the chaos run's summary).
        self.counts: Counter[str] = Counter()

    @property
    def in_flight(self) -> int:
        """Deliveries not finished yet: being sent, held for reordering or waiting to retry."""
        return len(self._tasks)

    def dispatch(self, payload: dict[str, Any], urls: list[str]) -> None:
        order_id, status = str(payload["order_id"]), str(payload["transaction_status"])
        self.counts["dispatched"] += 1
        if not urls:
            self.deliveries.append(Delivery(None, order_id, status, 0, "no_url"))
            return
        if self._faults.roll(self._faults.drop_rate):
            self.counts["dropped"] += 1
            self.deliveries.extend(Delivery(u, order_id, status, 0, "dropped") for u in urls)
            return
        copies = 2 if self._faults.roll(self._faults.duplicate_rate) else 1
        self.counts["duplicated"] += copies - 1
        earlier = self._held.pop(order_id, None)
        hold: asyncio.Event | None = None
        if self._faults.roll(self._faults.reorder_rate):
            self.counts["reordered"] += 1
            hold = self._held[order_id] = asyncio.Event()
        body = json.dumps(payload).encode()
        # A held earlier notification for this order goes out once this one has been tried.
        release = earlier.set if earlier is not None else None
        for _ in range(copies):
            for url in urls:
                self._spawn(self._deliver(url, body, order_id, status, hold, release))

    async def drain(self) -> None:
        """Wait until every delivery, including retries and held ones, is finished."""
        while self._tasks:
            for event in self._held.values():
                event.set()
            self._held.clear()
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop: waiting retries end now; a POST already on the wire gets a moment to finish,
        since cancelling the receiver mid-request could strand its database transaction."""
        self._closing = True
        for task in list(self._tasks - self._posting):
            task.cancel()
        if self._posting:
            await asyncio.wait(list(self._posting), timeout=CLOSE_GRACE_S)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._tasks.clear()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self,
        url: str,
        body: bytes,
        order_id: str,
        status: str,
        hold: asyncio.Event | None,
        release: Callable[[], None] | None,
    ) -> None:
        if hold is not None:
            # Held until the next notification of the order, or as long as a first retry.
            try:
                await asyncio.wait_for(hold.wait(), self._delay(0))
            except TimeoutError:
                pass
        attempt = 0
        while True:
            http_status, error = await self._post(url, body)
            if release is not None:
                release()
                release = None
            delivered = http_status is not None and 200 <= http_status < 300
            outcome = "delivered" if delivered else "failed"
            self.deliveries.append(
                Delivery(url, order_id, status, attempt, outcome, http_status, error)
            )
            if self._closing:
                return
            if delivered or attempt >= min(retry_budget(http_status), len(RETRY_DELAYS_MIN)):
                if not delivered:
                    logger.warning("gave up delivering %s notification for %s", status, order_id)
                return
            await asyncio.sleep(self._delay(attempt))
            attempt += 1

    def _delay(self, attempt: int) -> float:
        nominal = RETRY_DELAYS_MIN[attempt] * 60 * self._time_factor
        return nominal * self._faults.rng.uniform(0.75, 1.25)

    async def _post(self, url: str, body: bytes) -> tuple[int | None, str | None]:
        task = asyncio.current_task()
        async with self._sending:
            if task is not None:
                self._posting.add(task)
            try:
                return await self._post_following(url, body)
            finally:
                self._posting.discard(task)

    async def _post_following(self, url: str, body: bytes) -> tuple[int | None, str | None]:
        target = url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                response = await self._client().post(
                    target, content=body, headers=HEADERS, timeout=DELIVERY_TIMEOUT_S
                )
                location = response.headers.get("location")
                if response.status_code not in (307, 308) or not location:
                    return response.status_code, None
                target = urljoin(target, location)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return None, "too many redirects"
