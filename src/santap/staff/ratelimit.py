"""Failed-login throttling: sliding windows of failures per (username, client IP) pair and per
client IP, which refuse further attempts (429), and per username across all addresses, which
only slows them down.

A username is never locked for everyone: whoever guesses from one address is refused there,
while the real user at another address waits at most ``DELAY_CAP_S`` before their password is
checked. The delay makes each distributed guess cost seconds of an open connection; what bounds
their number is the per-address limit.

The state lives in the process (on ``app.state``), so each worker process counts on its own:
with N workers an attacker gets up to N times the budget. Put a shared limiter (e.g. at the
reverse proxy) in front when running several workers."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

PAIR_FAILURES = 5
IP_FAILURES = 20
WINDOW_S = 300.0
# Failures of one username (from any address) before its attempts are slowed down, and the
# delay: DELAY_BASE_S for the first one over, doubling with each further failure up to the cap.
FREE_USERNAME_FAILURES = 3
DELAY_BASE_S = 0.5
DELAY_CAP_S = 4.0
# A refused (429) attempt is reported for audit at most this often per blocked key; the ones in
# between are counted into the next report instead of each adding a row.
REPORT_EVERY_S = 60.0
_SWEEP_ABOVE = 10_000


@dataclass
class SlidingWindow:
    window_s: float
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def count(self, key: str) -> int:
        return len(self._prune(key, self.clock()))

    def retry_after(self, key: str, max_failures: int) -> int:
        """Seconds until ``key`` may try again; 0 when it is not blocked."""
        now = self.clock()
        failures = self._prune(key, now)
        if len(failures) < max_failures:
            return 0
        return max(1, math.ceil(failures[-max_failures] + self.window_s - now))

    def add_failure(self, key: str) -> None:
        if len(self._failures) > _SWEEP_ABOVE:
            self._sweep()
        self._failures.setdefault(key, deque()).append(self.clock())

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)

    def forget_one(self, key: str) -> None:
        failures = self._failures.get(key)
        if failures:
            failures.pop()

    def _prune(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def _sweep(self) -> None:
        now = self.clock()
        for key in list(self._failures):
            self._prune(key, now)


class Limit(StrEnum):
    ADDRESS = "address"
    USERNAME_AND_ADDRESS = "username_and_address"


@dataclass(frozen=True, slots=True)
class Throttled:
    limit: Limit
    key: str
    retry_after: int


@dataclass
class LoginLimiter:
    pair_failures: int
    ip_failures: int
    by_pair: SlidingWindow
    by_ip: SlidingWindow
    by_username: SlidingWindow
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    free_username_failures: int = FREE_USERNAME_FAILURES
    delay_base_s: float = DELAY_BASE_S
    delay_cap_s: float = DELAY_CAP_S
    # Blocked key -> (when it was last reported, refusals since then not reported).
    _reports: dict[str, tuple[float, int]] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        *,
        pair_failures: int = PAIR_FAILURES,
        ip_failures: int = IP_FAILURES,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> LoginLimiter:
        return cls(
            pair_failures=pair_failures,
            ip_failures=ip_failures,
            by_pair=SlidingWindow(window_s, clock),
            by_ip=SlidingWindow(window_s, clock),
            by_username=SlidingWindow(window_s, clock),
            clock=clock,
            sleep=sleep,
        )

    def throttled(self, *, username: str, ip: str) -> Throttled | None:
        """Which hard limit refuses this attempt, if any (the address first: it is the wider)."""
        retry_after = self.by_ip.retry_after(ip, self.ip_failures)
        if retry_after:
            return Throttled(Limit.ADDRESS, f"ip:{ip}", retry_after)
        pair = _pair(username, ip)
        retry_after = self.by_pair.retry_after(pair, self.pair_failures)
        if retry_after:
            return Throttled(Limit.USERNAME_AND_ADDRESS, f"pair:{pair}", retry_after)
        return None

    async def add_attempt(self, *, username: str, ip: str) -> float:
        """Count an attempt as failed before checking it, so that parallel guesses cannot all
        slip past the limit while their hashes are being verified; then wait the username's
        delay. Returns the seconds waited."""
        delay = self.delay_for(username)
        self.by_pair.add_failure(_pair(username, ip))
        self.by_ip.add_failure(ip)
        self.by_username.add_failure(username)
        if delay:
            await self.sleep(delay)
        return delay

    def delay_for(self, username: str) -> float:
        over = self.by_username.count(username) - self.free_username_failures
        if over < 0:
            return 0.0
        # The exponent is capped too, so a long attack cannot build a huge float.
        return min(self.delay_cap_s, self.delay_base_s * 2.0 ** min(over, 32))

    def add_success(self, *, username: str, ip: str) -> None:
        """Undo the attempt's advance count. Other addresses' failures on the username keep
        slowing it down until they age out: a success does not buy a guesser a fresh start."""
        self.by_pair.reset(_pair(username, ip))
        self.by_ip.forget_one(ip)
        self.by_username.forget_one(username)

    def refusals_to_report(self, throttled: Throttled) -> int | None:
        """The refusals to report for audit now, this one included, or None while this key
        was reported less than ``REPORT_EVERY_S`` ago (the refusal is counted for later)."""
        now = self.clock()
        if len(self._reports) > _SWEEP_ABOVE:
            self._reports = {
                key: report
                for key, report in self._reports.items()
                if now - report[0] < REPORT_EVERY_S
            }
        last = self._reports.get(throttled.key)
        if last is not None and now - last[0] < REPORT_EVERY_S:
            self._reports[throttled.key] = (last[0], last[1] + 1)
            return None
        self._reports[throttled.key] = (now, 0)
        return 1 + (last[1] if last is not None else 0)


def _pair(username: str, ip: str) -> str:
    # NUL cannot appear in a login's username (the schema refuses it), so pairs cannot collide.
    return f"{username}\x00{ip}"
