"""Background work that must keep running: one task per kind, restarted when it fails."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from santap.observability import metrics

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
# How long work asked to stop may take to finish what it holds before it is cancelled.
STOP_GRACE_S = 10.0
STOP_WAIT_S = 10.0


class Supervised:
    """Runs ``work()`` as a task; if it raises, logs why and runs it again after a backoff
    (1 s, doubling to 30 s).

    ``stop()`` first calls ``request_stop`` when given: the work then ends on its own once it
    has finished what it holds (a batch half-applied is never cut inside its transactions,
    where a cancelled SQLite connection can be left holding the write lock). Work that does not
    end within ``STOP_GRACE_S``, or has no ``request_stop``, is cancelled."""

    def __init__(
        self,
        name: str,
        work: Callable[[], Coroutine[Any, Any, None]],
        *,
        request_stop: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.restarts = 0
        self._work = work
        self._request_stop = request_stop
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Supervised:
        self._task = asyncio.create_task(self._loop(), name=self.name)
        return self

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        if self._task is None:
            return
        task, self._task = self._task, None
        if self._request_stop is not None:
            self._request_stop()
            done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_S)
            if done:
                with contextlib.suppress(asyncio.CancelledError):
                    task.result()
                return
            logger.warning(
                "background task %s did not finish within %.0f s; cancelling it",
                self.name,
                STOP_GRACE_S,
            )
        task.cancel()
        # Shutdown never waits on a task that will not end (it is abandoned, loudly).
        done, _ = await asyncio.wait({task}, timeout=STOP_WAIT_S)
        if not done:
            logger.error("background task %s did not stop within %.0f s", self.name, STOP_WAIT_S)
            return
        with contextlib.suppress(asyncio.CancelledError):
            task.result()

    async def _loop(self) -> None:
        backoff = 1.0
        while True:
            try:
                await self._work()
                return
            except Exception as exc:
                self.restarts += 1
                metrics.count_task_restart(self.name)
                logger.error(
                    "background task %s failed (%s); restarting in %.0f s",
                    self.name,
                    type(exc).__name__,
                    backoff,
                    exc_info=True,
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
