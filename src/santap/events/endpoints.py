"""The live streams (text/event-stream)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from santap.events import service
from santap.events.service import Credentials, Streams
from santap.events.streams import HEADERS
from santap.models.base import MAX_ID
from santap.orders.endpoints import OrderId
from santap.orders.service import token_cookie
from santap.staff.dependencies import BearerDep
from santap.web.session import COOKIE as STAFF_COOKIE

router = APIRouter(tags=["live updates"])

_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "Server-Sent Events: a `snapshot` first (unless resuming), then each "
        "change as it commits. Every event has an `id` to resume from.",
    },
    503: {
        "description": "Too many open streams on this server, or live updates cannot reach "
        "the database; retry after Retry-After"
    },
}
AccessToken = Annotated[
    str | None,
    Query(
        max_length=1000,
        description="The order token or a staff token, for clients that cannot send headers "
        "(EventSource). Never logged.",
    ),
]
LastEventIdHeader = Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=MAX_ID)]
LastEventIdQuery = Annotated[
    int | None,
    Query(alias="last_event_id", ge=0, le=MAX_ID, description="As the Last-Event-ID header."),
]


def _streams(request: Request) -> Streams:
    state = request.app.state
    return Streams(
        hub=state.hub,
        read_sessionmaker=state.read_sessionmaker,
        reader=state.event_reader,
        settings=state.settings,
    )


def _response(body: Any) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS)


@router.get(
    "/api/v1/orders/{order_id}/events",
    response_class=StreamingResponse,
    responses={**_STREAM, 404: {"description": "Order not found, or no token that opens it"}},
)
async def order_events(
    request: Request,
    order_id: OrderId,
    credentials: BearerDep,
    access_token: AccessToken = None,
    x_order_token: Annotated[str | None, Header(max_length=1000)] = None,
    last_event_id: LastEventIdHeader = None,
    last_event_id_query: LastEventIdQuery = None,
) -> StreamingResponse:
    """Follow one order live: for its customer (order token) or staff."""
    body = await service.order_stream(
        _streams(request),
        order_id=order_id,
        credentials=Credentials(
            # The customer's pages keep the token in an HttpOnly cookie, which EventSource sends.
            order_token=x_order_token or request.cookies.get(token_cookie(order_id)),
            bearer=credentials.credentials if credentials else None,
            access_token=access_token,
        ),
        last_event_id=last_event_id if last_event_id is not None else last_event_id_query,
    )
    return _response(body)


@router.get(
    "/api/v1/staff/events",
    response_class=StreamingResponse,
    responses={**_STREAM, 401: {"description": "No valid staff token"}},
)
async def staff_events(
    request: Request,
    credentials: BearerDep,
    access_token: AccessToken = None,
    last_event_id: LastEventIdHeader = None,
    last_event_id_query: LastEventIdQuery = None,
) -> StreamingResponse:
    """Follow every order live (cashier and admin)."""
    body = await service.staff_stream(
        _streams(request),
        credentials=Credentials(
            bearer=credentials.credentials if credentials else None,
            # The console keeps the staff token in an HttpOnly cookie, which EventSource sends.
            access_token=access_token or request.cookies.get(STAFF_COOKIE),
        ),
        last_event_id=last_event_id if last_event_id is not None else last_event_id_query,
    )
    return _response(body)
