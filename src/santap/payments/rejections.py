"""Deliveries with a bad signature: a bounded forensic record instead of an inbox row each.

Kept per delivery: its source address, its canonical-body hash, the order_uid and status it
claimed, the first ``BODY_PREFIX_CHARS`` characters of its body and its full size. The same
body from the same source again only counts one more delivery. Each source (an IPv4 address,
or an IPv6 /64) may send ``per_minute`` such deliveries a minute; beyond that they are
answered 429 and nothing is written. A genuine notification is checked before any of this,
so it is never refused here."""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from santap.errors import TooManyRequests
from santap.models.base import utcnow
from santap.payments import repository

BODY_PREFIX_CHARS = 2048
_MAX_SOURCES = 10_000  # tracked in one minute; past that, the rest share one budget
_OVERFLOW = "other-sources"


class RejectionsThrottled(TooManyRequests):
    code = "too_many_rejected_notifications"


@dataclass
class RejectionBudget:
    """Bad-signature deliveries per source in the current minute (one process's count)."""

    per_minute: int
    clock: Callable[[], float] = time.time
    _minute: int = -1
    _counts: dict[str, int] = field(default_factory=dict)

    def take(self, source: str) -> int:
        """0 when ``source`` may add one more; else the seconds until it may again."""
        now = self.clock()
        minute = int(now // 60)
        if minute != self._minute:
            self._minute, self._counts = minute, {}
        key = source if source in self._counts or len(self._counts) < _MAX_SOURCES else _OVERFLOW
        used = self._counts.get(key, 0)
        if used >= self.per_minute:
            return max(1, math.ceil((minute + 1) * 60 - now))
        self._counts[key] = used + 1
        return 0


def source_key(address: str | None) -> str:
    """The unit one budget covers: an IPv4 address, or an IPv6 /64 (one subscriber's)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "unknown")[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


async def record(
    session: AsyncSession,
    *,
    raw: bytes,
    body: dict[str, Any],
    dedupe_key: str,
    source_ip: str | None,
    budget: RejectionBudget,
) -> None:
    """Count a bad-signature delivery, or raise 429 when its source is over its budget."""
    source = source_key(source_ip)
    retry_after = budget.take(source)
    if retry_after:
        raise RejectionsThrottled(
            "Too many notifications with a bad signature from this address",
            headers={"Retry-After": str(retry_after)},
        )
    now = utcnow()
    await repository.store_rejected_notification(
        session,
        {
            "source_ip": source,
            "dedupe_key": dedupe_key,
            "order_uid": body["order_id"][:100],
            "transaction_status": body["transaction_status"][:30],
            "body_prefix": raw.decode()[:BODY_PREFIX_CHARS],
            "body_bytes": len(raw),
            "deliveries": 1,
            "first_seen_at": now,
            "last_seen_at": now,
        },
    )
