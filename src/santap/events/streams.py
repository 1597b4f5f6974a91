"""Server-Sent Events framing, and the life of one stream: its first event, the replay of
what a reconnecting client missed, then live events with heartbeats.

The framing is a few lines over Starlette's ``StreamingResponse`` (which already ends the
generator when the client goes away); the hub owns back-pressure and shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from santap.events import repository
from santap.events.hub import Hub, Subscription
from santap.events.repository import Event

# How long a browser waits before reconnecting after the stream ends.
RETRY_MS = 2_000
# A comment line this often keeps proxies from closing an idle stream.
HEARTBEAT_S = 15.0
REPLAY_BATCH = 500
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def frame(seq: int, kind: str, data: str) -> bytes:
    # ``data`` is one line of JSON: the triggers and pydantic both write it compact.
    return f"id: {seq}\nevent: {kind}\ndata: {data}\n\n".encode()


def event_frame(item: Event) -> bytes:
    return frame(item.seq, item.kind, item.payload)


async def follow(
    hub: Hub,
    reader: AsyncEngine,
    subscription: Subscription,
    *,
    first: bytes | None,
    last_event_id: int | None,
    heartbeat_s: float = HEARTBEAT_S,
) -> AsyncIterator[bytes]:
    """``first`` (the current state) opens a fresh stream; a resumed one instead replays the
    log from ``last_event_id`` up to where the subscription went live. Either way each event
    is sent once, in order: live events at or before what was sent are skipped."""
    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        sent = subscription.since
        if last_event_id is None:
            if first is not None:
                yield first
        else:
            sent = last_event_id
            async for missed in _replay(reader, subscription, after=last_event_id):
                yield event_frame(missed)
                sent = missed.seq
        while True:
            item: Event | None
            try:
                # A timeout scope, not wait_for: no extra task per wait for each open stream.
                async with asyncio.timeout(heartbeat_s):
                    item = await subscription.queue.get()
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if item is None:
                return  # shutdown, or the client fell behind: it resumes from its last id
            if item.seq <= sent:
                continue
            yield event_frame(item)
            sent = item.seq
    finally:
        hub.unsubscribe(subscription)


async def _replay(
    reader: AsyncEngine, subscription: Subscription, *, after: int
) -> AsyncIterator[Event]:
    while after < subscription.since:
        async with reader.connect() as connection:
            items = await repository.events_after(
                connection,
                after,
                limit=REPLAY_BATCH,
                order_id=subscription.order_id,
                upto=subscription.since,
            )
        for item in items:
            yield item
        if len(items) < REPLAY_BATCH:
            return
        after = items[-1].seq
