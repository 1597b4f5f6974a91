"""Who may follow which stream, and what a stream opens with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from santap.board import service as board_service
from santap.config import Settings
from santap.errors import SantapError
from santap.events.hub import Hub, HubUnavailable, Subscription, TooManyStreams
from santap.events.streams import follow, frame
from santap.models import OrderStatus, Staff
from santap.orders import service as orders_service
from santap.orders.schemas import OrderRead
from santap.staff import service as staff_service

# The staff stream opens with the orders still in play, newest first, as the board shows.
OPEN = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PREPARING, OrderStatus.READY)
SNAPSHOT_ORDERS = 100
RETRY_AFTER_S = 5


class StreamsFull(SantapError):
    status_code = 503
    code = "too_many_streams"

    def __init__(self) -> None:
        super().__init__(
            "This server holds as many live streams as it may; try again shortly",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )


class LiveUpdatesUnavailable(SantapError):
    status_code = 503
    code = "live_updates_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "Live updates cannot reach the database right now; try again shortly",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )


@dataclass(frozen=True)
class Credentials:
    """What a stream request may prove itself with. Browsers' EventSource cannot send
    headers, so ``access_token`` (the query parameter) may carry either kind of token."""

    order_token: str | None = None
    bearer: str | None = None
    access_token: str | None = None


@dataclass(frozen=True)
class Streams:
    hub: Hub
    read_sessionmaker: async_sessionmaker[AsyncSession]
    reader: AsyncEngine
    settings: Settings


async def order_stream(
    streams: Streams, *, order_id: int, credentials: Credentials, last_event_id: int | None
) -> AsyncIterator[bytes]:
    """One order's stream, for whoever may read the order (same 404 otherwise)."""
    async with streams.read_sessionmaker() as session:
        order = await orders_service.get_order(session, order_id=order_id)
        if await _staff(session, streams.settings, credentials) is None:
            tokens = (credentials.order_token, credentials.access_token)
            if not any(orders_service.token_matches(order, token) for token in tokens if token):
                raise orders_service.OrderNotFound(order_id)
    subscription = await _subscribe(streams.hub, order_id)
    try:
        first = None
        if last_event_id is None:
            async with streams.read_sessionmaker() as session:
                order = await orders_service.get_order(session, order_id=order_id)
                snapshot = OrderRead.model_validate(order).model_dump_json()
            first = frame(subscription.since, "snapshot", snapshot)
    except BaseException:
        streams.hub.unsubscribe(subscription)
        raise
    return follow(
        streams.hub, streams.reader, subscription, first=first, last_event_id=last_event_id
    )


async def staff_stream(
    streams: Streams, *, credentials: Credentials, last_event_id: int | None
) -> AsyncIterator[bytes]:
    """Every order's events, for cashiers and admins."""
    async with streams.read_sessionmaker() as session:
        if await _staff(session, streams.settings, credentials) is None:
            raise staff_service.NotAuthenticated()
    subscription = await _subscribe(streams.hub, None)
    try:
        first = None
        if last_event_id is None:
            async with streams.read_sessionmaker() as session:
                page = await board_service.list_orders(
                    session, statuses=OPEN, day=None, limit=SNAPSHOT_ORDERS, cursor=None
                )
            first = frame(subscription.since, "snapshot", page.model_dump_json())
    except BaseException:
        streams.hub.unsubscribe(subscription)
        raise
    return follow(
        streams.hub, streams.reader, subscription, first=first, last_event_id=last_event_id
    )


async def _subscribe(hub: Hub, order_id: int | None) -> Subscription:
    try:
        return await hub.subscribe(order_id)
    except TooManyStreams:
        raise StreamsFull() from None
    except HubUnavailable:
        raise LiveUpdatesUnavailable() from None


async def _staff(
    session: AsyncSession, settings: Settings, credentials: Credentials
) -> Staff | None:
    """The active staff member one of the tokens belongs to (every role may follow)."""
    for token in (credentials.bearer, credentials.access_token):
        if not token:
            continue
        try:
            return await staff_service.staff_for_token(session, settings=settings, token=token)
        except staff_service.NotAuthenticated:
            continue
    return None
