"""Failed-login throttling: a sliding window of failures per username and per client IP.

The state lives in the process (on ``app.state``), so each worker process counts on its own:
with N workers an attacker gets up to N times the budget. Put a shared limiter (e.g. at the
reverse proxy) in front when running several workers."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

USERNAME_FAILURES = 5
IP_FAILURES = 20
WINDOW_S = 300.0
_SWEEP_ABOVE = 10_000


@dataclass
class SlidingWindow:
    max_failures: int
    window_s: float
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again; 0 when it is not blocked."""
        now = self.clock()
        failures = self._prune(key, now)
        if len(failures) < self.max_failures:
            return 0
        return max(1, math.ceil(failures[-self.max_failures] + self.window_s - now))

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


@dataclass
class LoginLimiter:
    by_username: SlidingWindow
    by_ip: SlidingWindow

    @classmethod
    def create(
        cls,
        *,
        username_failures: int = USERNAME_FAILURES,
        ip_failures: int = IP_FAILURES,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> LoginLimiter:
        return cls(
            by_username=SlidingWindow(username_failures, window_s, clock),
            by_ip=SlidingWindow(ip_failures, window_s, clock),
        )

    def retry_after(self, *, username: str, ip: str) -> int:
        return max(self.by_username.retry_after(username), self.by_ip.retry_after(ip))

    def add_attempt(self, *, username: str, ip: str) -> None:
        """Count an attempt as failed before checking it, so that parallel guesses cannot all
        slip past the limit while their hashes are being verified."""
        self.by_username.add_failure(username)
        self.by_ip.add_failure(ip)

    def add_success(self, *, username: str, ip: str) -> None:
        self.by_username.reset(username)
        self.by_ip.forget_one(ip)
