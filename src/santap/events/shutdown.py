"""End the event streams as soon as uvicorn is told to stop.

uvicorn waits for every open response to finish before it runs the lifespan's shutdown, and
an event stream never finishes on its own: without this, a SIGTERM would wait forever (or
until ``--timeout-graceful-shutdown`` cut the streams off mid-frame). ASGI has no "server is
stopping" message, so at start-up, when uvicorn's own handler for SIGTERM and SIGINT is in
place, the hub puts a handler in front of it that ends the streams first; clients then
reconnect (to another instance) with their Last-Event-ID. Under any other server, or when
the app is not served by uvicorn from the main thread, nothing is changed."""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType
from typing import Any

from santap.events.hub import Hub

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def close_streams_on_server_exit(hub: Hub) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for sig in SIGNALS:
        current = signal.getsignal(sig)
        if _is_uvicorns(current):
            signal.signal(sig, _closing_first(hub, loop, current))


def _is_uvicorns(handler: Any) -> bool:
    owner = getattr(handler, "__self__", None)
    return type(owner).__module__.startswith("uvicorn.") and callable(handler)


def _closing_first(hub: Hub, loop: asyncio.AbstractEventLoop, handler: Any) -> Any:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(hub.close_streams)
        handler(signum, frame)

    return on_signal
