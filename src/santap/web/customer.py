"""The customer's pages, on their own phone: the table's menu, and their order.

The order's token never reaches the page: placing an order sets it in an HttpOnly cookie for
that order, and the order page, its QR code and its live stream (EventSource sends the cookie)
all read it from there."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from santap.db import AutocommitDep, SessionDep, TransactionalRoute, TransactionsDep
from santap.errors import SantapError
from santap.orders.endpoints import OrderId
from santap.orders.service import OrderNotFound, token_cookie
from santap.payments.gateway import GatewayDep
from santap.payments.qris import Proof
from santap.staff.dependencies import SettingsDep
from santap.web import service
from santap.web.render import page, status_labels

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

Table = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$")]


@router.get("/t/{table}")
async def table_menu(request: Request, table: Table, session: SessionDep) -> Response:
    """What a printed table QR opens: the menu, a cart and "Pesan"."""
    menu = await service.menu(session)
    return page(request, "table.html", table=table, menu=menu, errors=[], entered={})


@router.post("/t/{table}")
async def place_order(
    request: Request, table: Table, transactions: TransactionsDep, engine: AutocommitDep
) -> Response:
    form = await request.form()
    try:
        created = await service.place_order(transactions, engine, table=table, form=form)
    except (ValidationError, service.NothingOrdered, service.BadLine, service.Refused) as exc:
        async with transactions.begin() as session:
            menu = await service.menu(session)
        return page(
            request,
            "table.html",
            status_code=422,
            table=table,
            menu=menu,
            errors=service.messages(exc),
            entered=dict(form),
        )
    response = RedirectResponse(f"/o/{created.id}", status_code=303)
    response.set_cookie(
        token_cookie(created.id),
        created.access_token,
        max_age=2 * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/o/{order_id}")
async def order_page(request: Request, order_id: OrderId, session: SessionDep) -> Response:
    """The customer's order, followed live: pay by QRIS or at the counter."""
    return await _order(request, session, order_id)


async def _order(
    request: Request,
    session: AsyncSession,
    order_id: int,
    *,
    error: SantapError | None = None,
) -> Response:
    try:
        view = await service.order_view(
            session, order_id=order_id, token=request.cookies.get(token_cookie(order_id))
        )
    except OrderNotFound:
        return page(request, "not_found.html", status_code=404)
    return page(
        request,
        "order.html",
        status_code=error.status_code if error else 200,
        view=view,
        labels=status_labels(request),
        # Only what this request was told: never text from the URL, which anyone can write
        # into a link to a customer's order (the order's cookie is sent on a link, SameSite=Lax).
        error=error.message if error else None,
    )


@router.post("/o/{order_id}/qris")
async def pay_by_qris(
    request: Request,
    order_id: OrderId,
    transactions: TransactionsDep,
    settings: SettingsDep,
    gateway: GatewayDep,
) -> Response:
    token = request.cookies.get(token_cookie(order_id))
    try:
        await service.start_qris(
            transactions,
            order_id=order_id,
            proof=Proof(order_token=token),
            settings=settings,
            gateway=gateway,
        )
    except OrderNotFound:
        return page(request, "not_found.html", status_code=404)
    except SantapError as exc:
        # Midtrans refused or did not answer, the order was paid meanwhile...: said in words.
        async with transactions.begin() as session:
            return await _order(request, session, order_id, error=exc)
    return RedirectResponse(f"/o/{order_id}", status_code=303)


@router.get("/o/{order_id}/qr.svg")
async def qr_code(request: Request, order_id: OrderId, session: SessionDep) -> Response:
    """The attempt's QR as SVG, to show or to save ("Simpan QR") and open in an e-wallet."""
    svg = await service.qr_svg(
        session, order_id=order_id, token=request.cookies.get(token_cookie(order_id))
    )
    headers = {"Cache-Control": "no-store"}
    if request.query_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="santap-{order_id}-qris.svg"'
    return Response(svg, media_type="image/svg+xml", headers=headers)
