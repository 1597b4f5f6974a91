"""PostgreSQL LISTEN on one connection of its own per process (asyncpg), so another process's
commit wakes this one within moments. Run under ``Supervised``: a lost connection ends
``listen`` with an error, and the restart reconnects and calls ``on_connect`` so the
listener catches up on what it may have missed meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine

# asyncpg.connect() arguments SQLAlchemy derives from DATABASE_URL that we pass on.
_CONNECT_KEYS = ("host", "port", "user", "password", "database", "ssl", "server_settings")


PING_EVERY_S = 15.0


class ListenerLost(ConnectionError):
    pass


async def listen(
    engine: AsyncEngine,
    channels: dict[str, Callable[[], None]],
    *,
    on_connect: Callable[[], None],
) -> None:
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    connection = await asyncpg.connect(**{k: v for k, v in kwargs.items() if k in _CONNECT_KEYS})
    lost = asyncio.Event()
    try:
        connection.add_termination_listener(lambda _connection: lost.set())
        for channel, callback in channels.items():
            await connection.add_listener(channel, _caller(callback))
        on_connect()
        while not lost.is_set():
            # A ping now and then also notices a peer gone without a word (no EOF).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), PING_EVERY_S)
            if not lost.is_set():
                await connection.execute("SELECT 1", timeout=PING_EVERY_S)
        raise ListenerLost("the LISTEN connection was closed")
    finally:
        if not connection.is_closed():
            try:
                await connection.close(timeout=2)
            except BaseException:
                connection.terminate()  # cancelled or timed out while closing: never leak it
                raise


def _caller(callback: Callable[[], None]) -> Callable[..., None]:
    def on_notify(*_args: Any) -> None:
        callback()

    return on_notify
