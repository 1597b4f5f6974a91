"""The SQLite driver closes a connection that SQLAlchemy terminated.

When a task is cancelled while it uses a connection, SQLAlchemy terminates it: a graceful
``close()`` in a shielded task, then ``stop()`` when that is cancelled too. aiosqlite 0.22's
``close()`` then waits forever for the worker thread that ``stop()`` already ended, so the
event loop never finishes shutting down (seen here as a test run hanging in teardown). The
pin in pyproject.toml keeps a driver without that hang."""

from __future__ import annotations

import asyncio

import aiosqlite


async def test_close_finishes_after_the_connection_was_stopped() -> None:
    connection = await aiosqlite.connect(":memory:")
    closing = asyncio.ensure_future(connection.close())
    await asyncio.sleep(0)
    if hasattr(connection, "stop"):
        connection.stop()
    await asyncio.wait_for(closing, timeout=5)
