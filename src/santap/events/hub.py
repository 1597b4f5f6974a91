"""One hub per process: places new events in the log's order, reads them once, and hands
each to the streams that follow its order (and to every staff stream).

It is woken by the triggers' NOTIFY on PostgreSQL (whichever process committed), by this
process's own commits on SQLite, and by a periodic look as a safety net; after a lost
listener connection it simply reads on from its cursor, so nothing is missed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncEngine

from santap.db import READ_ONLY, autocommit
from santap.events import repository
from santap.events.repository import Event
from santap.observability import metrics

logger = logging.getLogger(__name__)

READ_BATCH = 500
# A stream that lets this many events pile up unread is too slow: it is closed, and the
# client resumes from its Last-Event-ID.
STREAM_BUFFER = 256


# A new stream waits this long at most for the hub's next pass (the database unreachable).
SUBSCRIBE_WAIT_S = 10.0


class TooManyStreams(Exception):
    pass


class HubUnavailable(Exception):
    pass


class Subscription:
    """A stream's place at the hub. ``since``: the hub's cursor when it subscribed; every
    event after it arrives on ``queue``, everything up to it is in the log."""

    def __init__(self, order_id: int | None, since: int) -> None:
        self.order_id = order_id
        self.since = since
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(STREAM_BUFFER + 1)
        self.closed = False

    def offer(self, item: Event) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= STREAM_BUFFER:
            metrics.count_stream_dropped()
            self.close()
            return
        self.queue.put_nowait(item)

    def close(self) -> None:
        """End the stream after what it already holds (a slot is kept for this)."""
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


class Hub:
    def __init__(
        self, engine: AsyncEngine, *, writes_on: AsyncEngine, max_streams: int, poll_s: float
    ) -> None:
        """``engine`` is the hub's own (a few connections, apart from the requests' pool);
        ``writes_on`` is the app's, whose commits wake it on SQLite."""
        self._engine = engine
        # Reads take no write lock on SQLite, and run in autocommit on PostgreSQL.
        self._reader = (
            autocommit(engine)
            if engine.dialect.name == "postgresql"
            else engine.execution_options(**{READ_ONLY: True})
        )
        self._max_streams = max_streams
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._stopping = False
        self._cursor = 0
        self._streams: dict[int | None, set[Subscription]] = {}
        self._count = 0
        self._passes_started = 0
        self._passes_done = 0
        self._passed = asyncio.Condition()
        if engine.dialect.name != "postgresql":
            # No NOTIFY on SQLite: this process's own commits wake the hub at once, another
            # process's on the same file (rare: SQLite suits one) are seen by the periodic look.
            sa_event.listen(writes_on.sync_engine, "commit", self._on_commit)

    @property
    def reader(self) -> AsyncEngine:
        return self._reader

    def _on_commit(self, _connection: object) -> None:
        self._wake.set()

    @property
    def open_streams(self) -> int:
        return self._count

    def wake(self) -> None:
        self._wake.set()

    async def subscribe(self, order_id: int | None) -> Subscription:
        """A new stream's place: after a pass of the hub that began after this call, so
        every event committed before it is behind ``since`` (in the log, and reflected in
        the state the stream opens with), never delivered after it."""
        if self._count >= self._max_streams:
            raise TooManyStreams()
        try:
            async with asyncio.timeout(SUBSCRIBE_WAIT_S):
                await self._caught_up()
        except TimeoutError:
            raise HubUnavailable() from None
        if self._stopping:
            raise TooManyStreams()
        subscription = Subscription(order_id, self._cursor)
        self._streams.setdefault(order_id, set()).add(subscription)
        self._count += 1
        metrics.stream_opened()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        streams = self._streams.get(subscription.order_id)
        if streams is not None and subscription in streams:
            streams.discard(subscription)
            if not streams:
                del self._streams[subscription.order_id]
            self._count -= 1
            metrics.stream_closed()

    async def _caught_up(self) -> None:
        await self._ready.wait()
        async with self._passed:
            target = self._passes_started + 1
            self._wake.set()
            await self._passed.wait_for(lambda: self._passes_done >= target or self._stopping)

    def close_streams(self) -> None:
        """Shutdown: every stream ends cleanly, and no new one starts."""
        self._stopping = True
        self._ready.set()
        for subscription in list(self._all()):
            subscription.close()
        self._wake.set()

    def _all(self) -> Iterator[Subscription]:
        for streams in self._streams.values():
            yield from streams

    async def run(self) -> None:
        """The supervised loop: place, read, hand out; then wait for the next wake-up."""
        async with self._reader.connect() as connection:
            self._cursor = max(self._cursor, await repository.last_seq(connection))
        self._ready.set()
        while not self._stopping:
            self._wake.clear()
            self._passes_started += 1
            await repository.sequence(self._engine)
            await self._read()
            async with self._passed:
                self._passes_done = self._passes_started
                self._passed.notify_all()
            try:
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            except TimeoutError:
                pass

    async def _read(self) -> None:
        while True:
            async with self._reader.connect() as connection:
                events = await repository.events_after(connection, self._cursor, limit=READ_BATCH)
            for item in events:
                self._publish(item)
            if events:
                self._cursor = events[-1].seq
            if len(events) < READ_BATCH:
                return

    def _publish(self, item: Event) -> None:
        for subscription in self._streams.get(item.order_id, ()):
            subscription.offer(item)
        for subscription in self._streams.get(None, ()):
            subscription.offer(item)
