"""Focused checks of a stream's buffer and heartbeat (the HTTP tests cover the rest)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import create_async_engine

from santap.events.hub import STREAM_BUFFER, Hub, Subscription
from santap.events.repository import Event
from santap.events.streams import follow


def _event(seq: int, order_id: int = 1) -> Event:
    return Event(seq, order_id, "order_status", '{"status": "paid"}', datetime.now(UTC))


async def _drain(subscription: Subscription) -> list[int]:
    seqs = []
    while (item := await subscription.queue.get()) is not None:
        seqs.append(item.seq)
    return seqs


async def test_a_subscriber_that_falls_behind_is_closed_without_slowing_the_others() -> None:
    slow, fast = Subscription(1, since=0), Subscription(1, since=0)
    for seq in range(1, STREAM_BUFFER + 10):
        slow.offer(_event(seq))
        fast.offer(_event(seq))
        if seq % 16 == 0:  # the fast one keeps up
            while not fast.queue.empty():
                fast.queue.get_nowait()
    assert slow.closed
    assert not fast.closed
    # What it held is still delivered, then its stream ends (the client resumes from there).
    assert await _drain(slow) == list(range(1, STREAM_BUFFER + 1))


async def _stream(subscription: Subscription, heartbeat_s: float) -> AsyncIterator[bytes]:
    engine = create_async_engine("sqlite+aiosqlite://")
    hub = Hub(engine, writes_on=engine, max_streams=10, poll_s=1.0)
    try:
        async for chunk in follow(
            hub,
            engine,
            subscription,
            first=b"first\n\n",
            last_event_id=None,
            heartbeat_s=heartbeat_s,
        ):
            yield chunk
    finally:
        await engine.dispose()


async def test_an_idle_stream_sends_heartbeats_then_ends_when_closed() -> None:
    subscription = Subscription(None, since=5)
    chunks = []
    async for chunk in _stream(subscription, heartbeat_s=0.01):
        chunks.append(chunk)
        if chunks.count(b": keep-alive\n\n") == 2:
            subscription.offer(_event(5))  # at or before where it went live: not sent again
            subscription.offer(_event(6))
            subscription.close()
    assert chunks[0].startswith(b"retry: ")
    assert chunks[1] == b"first\n\n"
    assert chunks[-1].startswith(b"id: 6\nevent: order_status\n")
    assert b"id: 5\n" not in b"".join(chunks)
