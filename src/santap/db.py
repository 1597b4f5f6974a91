"""Engine, session factory and the one-transaction-per-request route class."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from santap.config import Settings
from santap.errors import SantapError

# Execution option marking a read-only engine or connection (see ``create_sessionmaker``).
READ_ONLY = "santap_read_only"


def create_engine(
    settings: Settings, *, pool_size: int | None = None, **kwargs: Any
) -> AsyncEngine:
    # SQL arguments (password hashes, notification bodies) stay out of logs and error messages.
    kwargs.setdefault("hide_parameters", True)
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.async_database_url, connect_args={"timeout": 30}, **kwargs
        )
        _serialize_sqlite_writers(engine)
        return engine
    engine = create_async_engine(
        settings.async_database_url,
        pool_size=pool_size or settings.db_pool_size,
        # No overflow: SQLAlchemy closes an overflow connection as soon as the pool has
        # ``pool_size`` idle, so bursty load above the pool opened and closed connections all
        # the time (a third of them, with 32 requests in flight on 20 + 10; each costs a
        # handshake). Waiting for a pooled one is cheaper than opening one.
        max_overflow=0,
        pool_recycle=1800,
        **kwargs,
    )
    _discard_closed_connections(engine)
    return engine


def _discard_closed_connections(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling without a round trip.

    SQLAlchemy's ``pool_pre_ping`` costs asyncpg three round trips (BEGIN, ``;``, ROLLBACK) on
    every checkout, a fifth of a webhook's statements. asyncpg already notices when PostgreSQL
    closes a connection (restart, idle timeout, ``pg_terminate_backend``): the event loop reads
    the EOF while the connection sits in the pool. Refusing such a connection at checkout makes
    the pool open a fresh one, so the request never sees the dead one."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver_connection = getattr(dbapi_connection, "driver_connection", None)
        if driver_connection is not None and driver_connection.is_closed():
            raise DisconnectionError("connection closed by the server while pooled")


def _serialize_sqlite_writers(engine: AsyncEngine) -> None:
    """SQLite has no SELECT ... FOR UPDATE; BEGIN IMMEDIATE gives each transaction the write
    lock up front, so two requests can never read-then-update the same order concurrently."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-only transaction (GET) takes no write lock: under WAL it reads a snapshot
        # while a writer works, instead of queueing behind it (e.g. behind a QRIS creation
        # that is waiting for Midtrans).
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def autocommit(bind: AsyncEngine | async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """Where single statements run on their own (the webhook's acknowledgement, the applier):
    on PostgreSQL in autocommit, so one statement is one round trip with no BEGIN and COMMIT
    around it. SQLite takes its write lock in a transaction as usual."""
    engine = bind if isinstance(bind, AsyncEngine) else bind.kw["bind"]
    if engine.dialect.name != "postgresql":
        return engine
    if engine.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return engine
    # Made once per engine: making one costs more than the statement it runs.
    made = _AUTOCOMMIT.get(engine.sync_engine)
    if made is None:
        made = _AUTOCOMMIT[engine.sync_engine] = engine.execution_options(
            isolation_level="AUTOCOMMIT"
        )
    return made


_AUTOCOMMIT: weakref.WeakKeyDictionary[Any, AsyncEngine] = weakref.WeakKeyDictionary()


def create_sessionmaker(
    engine: AsyncEngine, *, read_only: bool = False
) -> async_sessionmaker[AsyncSession]:
    """Sessions for the engine; ``read_only`` ones never take SQLite's write lock, and on
    PostgreSQL run ``BEGIN READ ONLY``, so a write slipped into a GET fails loudly."""
    bind = engine
    if read_only:
        options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        bind = engine.execution_options(**options)
    return async_sessionmaker(bind, expire_on_commit=False)


async def get_session(request: Request) -> AsyncSession:
    """The request's session: read-only for GET and HEAD, which never change anything."""
    session: AsyncSession | None = getattr(request.state, "db", None)
    if session is None:
        if request.method in ("GET", "HEAD"):
            session = request.app.state.read_sessionmaker()
        else:
            session = request.app.state.sessionmaker()
        request.state.db = session
    return session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


class Transactions:
    """Short transactions one after another, for a service that must call the network
    between them (never inside one). Each ``begin()`` block commits when it ends without an
    error and rolls back otherwise: the transactions still belong to infrastructure."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        async with self._sessionmaker.begin() as session:
            yield session

    @property
    def autocommit_engine(self) -> AsyncEngine:
        """For single statements that commit on their own, between the transactions."""
        return autocommit(self._sessionmaker)


async def get_transactions(request: Request) -> Transactions:
    return Transactions(request.app.state.sessionmaker)


TransactionsDep = Annotated[Transactions, Depends(get_transactions)]


async def get_autocommit_engine(request: Request) -> AsyncEngine:
    """For single statements that commit on their own (see ``autocommit``)."""
    engine: AsyncEngine = request.app.state.autocommit_engine
    return engine


AutocommitDep = Annotated[AsyncEngine, Depends(get_autocommit_engine)]


class TransactionalRoute(APIRoute):
    """Owns the request's transaction: commit before the response leaves, roll back on error.

    A ``SantapError`` with ``keeps_changes`` (e.g. a failed gateway call that marked its
    payment attempt failed) commits what the service flushed before it raised."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SantapError as exc:
                await _finish(request, commit=exc.keeps_changes)
                raise
            except BaseException:
                await _finish(request, commit=False)
                raise
            await _finish(request, commit=response.status_code < 400)
            return response

        return route_handler


async def _finish(request: Request, *, commit: bool) -> None:
    session: AsyncSession | None = getattr(request.state, "db", None)
    if session is None:
        return
    request.state.db = None
    try:
        if commit:
            await session.commit()
        else:
            await session.rollback()
    finally:
        await session.close()
