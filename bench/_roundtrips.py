"""Counting database round trips from outside the app: a TCP proxy between Santap and
PostgreSQL that reads the client's side of the wire protocol.

A round trip is a message after which the client waits for the server: a simple Query ('Q')
a Sync ('S', which ends an extended-protocol Parse/Bind/Execute batch) or a Flush ('H', after
which asyncpg waits for a statement's description before binding it). The proxy counts
them per connection and in total; a bench divides by the requests it sent. Nothing in Santap
is instrumented, so the count is what the server actually saw. TLS would hide the protocol,
so the proxied connections use ``ssl=disable`` (loopback only)."""

from __future__ import annotations

import asyncio
import struct
import threading
from dataclasses import dataclass


@dataclass
class Counts:
    round_trips: int = 0
    connections: int = 0


class RoundTripProxy:
    """Runs in a thread of its own with its own event loop, so it never competes with the
    bench's load generator for its loop."""

    def __init__(self, upstream_port: int = 5432) -> None:
        self.upstream_port = upstream_port
        self.counts = Counts()
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RoundTripProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def reset(self) -> None:
        self.counts.round_trips = 0

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await server.serve_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counts.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            await asyncio.gather(
                self._client_to_server(reader, up_writer),
                _pipe(up_reader, writer),
                return_exceptions=True,
            )
        finally:
            for w in (writer, up_writer):
                w.close()

    async def _client_to_server(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            await self._forward(reader, writer)
        finally:
            writer.close()  # the client hung up: so does the server's side

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The startup message has no type byte: a length, then the protocol version.
        length = struct.unpack("!I", await reader.readexactly(4))[0]
        writer.write(struct.pack("!I", length) + await reader.readexactly(length - 4))
        while True:
            header = await reader.readexactly(5)
            kind, length = header[:1], struct.unpack("!I", header[1:])[0]
            body = await reader.readexactly(length - 4)
            if kind in (b"Q", b"S", b"H"):
                self.counts.round_trips += 1
            writer.write(header + body)
            await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()  # the server hung up: so does the client's side


def through(proxy: RoundTripProxy, database_url: str) -> str:
    """``database_url`` (postgresql://user@127.0.0.1:5432/db) pointed at the proxy."""
    rest = database_url.split("@", 1)
    host_and_db = rest[1].split("/", 1)
    url = f"{rest[0]}@127.0.0.1:{proxy.port}/{host_and_db[1]}"
    return url + ("&" if "?" in url else "?") + "ssl=disable"
