"""The cashier's and kitchen's console: log in, the live board, cash with change, kitchen
moves and cancels. Every rule stays in the services the API uses; a refusal (409 and the
like) is shown as its plain message."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from santap.board import service as board_service
from santap.board.schemas import OrderCancel
from santap.config import Settings
from santap.db import SessionDep, TransactionalRoute, TransactionsDep
from santap.errors import SantapError
from santap.models import OrderStatus, Staff, StaffRole
from santap.models.base import MAX_ID
from santap.net import client_ip
from santap.orders.endpoints import OrderId
from santap.orders.service import OrderNotFound
from santap.payments import cash
from santap.payments.gateway import GatewayDep
from santap.payments.qris import Proof
from santap.payments.schemas import CashPaymentCreate
from santap.staff import service as staff_service
from santap.staff.dependencies import LoginLimiterDep, SettingsDep
from santap.web import forms, session
from santap.web import service as web_service
from santap.web.render import page, status_labels

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)

BOARD = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.PREPARING, OrderStatus.READY)
KITCHEN = (OrderStatus.PAID, OrderStatus.PREPARING)
BOARD_SIZE = 100
STAFF_ROLES = frozenset({StaffRole.CASHIER, StaffRole.ADMIN})


class LoginRequired(Exception):
    pass


async def _staff(request: Request, settings: SettingsDep) -> Staff:
    staff = await session.current_staff(request, settings)
    if staff is None or staff.role not in STAFF_ROLES:
        raise LoginRequired()
    return staff


ConsoleStaff = Annotated[Staff, Depends(_staff)]


def _safe_next(target: str | None) -> str:
    # Only a path of this site: never an open redirect.
    if target and target.startswith(("/staff", "/admin")) and not target.startswith("//"):
        return target
    return "/staff"


@router.get("/staff/login")
async def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002
    return page(request, "staff_login.html", next=_safe_next(next), error=None)


@router.post("/staff/login")
async def login(
    request: Request, db: SessionDep, settings: SettingsDep, limiter: LoginLimiterDep
) -> Response:
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    try:
        token = await staff_service.login(
            db,
            settings=settings,
            limiter=limiter,
            username=username,
            password=password,
            client_ip=client_ip(request, settings.trusted_proxies),
        )
    except SantapError as exc:
        if exc.keeps_changes:
            await db.commit()  # the failed attempt's audit row, as the API keeps it
        return page(
            request, "staff_login.html", status_code=exc.status_code, next=target, error=exc.message
        )
    response = RedirectResponse(target, status_code=303)
    session.start(response, request, token.access_token, token.expires_in)
    return response


@router.post("/staff/logout")
async def logout(form: session.CheckedForm) -> Response:
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(session.COOKIE)
    return response


@router.get("/staff")
async def board(
    request: Request,
    db: SessionDep,
    staff: ConsoleStaff,
    settings: SettingsDep,
    partial: Annotated[bool, Query()] = False,
) -> Response:
    """Open orders, oldest first, grouped by status; followed live."""
    return await _orders_page(request, db, staff, settings, BOARD, partial=partial)


@router.get("/staff/kitchen")
async def kitchen(
    request: Request,
    db: SessionDep,
    staff: ConsoleStaff,
    settings: SettingsDep,
    partial: Annotated[bool, Query()] = False,
) -> Response:
    """Paid and preparing orders, items and notes in large type; followed live."""
    return await _orders_page(request, db, staff, settings, KITCHEN, partial=partial)


async def _orders_page(
    request: Request,
    db: AsyncSession,
    staff: Staff,
    settings: Settings,
    statuses: tuple[OrderStatus, ...],
    *,
    partial: bool,
) -> Response:
    # The oldest first: with more open orders than fit, the ones waiting longest stay on.
    listed = await board_service.list_orders(
        db, statuses=statuses, day=None, limit=BOARD_SIZE, cursor=None, sort="oldest"
    )
    orders = listed.items
    groups = {status.value: [o for o in orders if o.status == status] for status in statuses}
    return page(
        request,
        "staff_orders.html" if partial else "staff_board.html",
        staff=staff,
        groups=groups,
        kitchen=statuses == KITCHEN,
        labels=status_labels(request),
        csrf=session.csrf_token(settings, request.cookies[session.COOKIE]),
        query=request.query_params,
    )


@router.post("/staff/orders/{order_id}/cash")
async def take_cash(
    order_id: OrderId,
    staff: ConsoleStaff,
    form: session.CheckedForm,
    transactions: TransactionsDep,
    gateway: GatewayDep,
) -> Response:
    try:
        tendered = forms.rupiah(form.get("amount_tendered", ""))
        data = CashPaymentCreate(order_id=order_id, amount_tendered=tendered)
        paid = await cash.take_cash(transactions, data=data, cashier=staff, gateway=gateway)
    except (ValueError, ValidationError):
        return _back(error="cash_invalid", order=order_id)
    except SantapError as exc:
        return _back(error=exc.message, order=order_id)
    return _back(notice="cash", order=order_id, change=paid.change)


@router.post("/staff/orders/{order_id}/status")
async def move(
    order_id: OrderId, staff: ConsoleStaff, form: session.CheckedForm, db: SessionDep
) -> Response:
    try:
        target = OrderStatus(str(form.get("status")))
        await board_service.change_status(db, order_id=order_id, status=target, staff=staff)
    except ValueError:
        return _back(error="status_invalid", order=order_id)
    except SantapError as exc:
        await db.rollback()
        return _back(error=exc.message, order=order_id, to=form.get("from"))
    return _back(notice="moved", order=order_id, to=form.get("from"))


@router.post("/staff/orders/{order_id}/cancel")
async def cancel(
    order_id: OrderId,
    staff: ConsoleStaff,
    form: session.CheckedForm,
    transactions: TransactionsDep,
    gateway: GatewayDep,
) -> Response:
    try:
        reason = OrderCancel(reason=str(form.get("reason", ""))).reason
        await board_service.cancel_order(
            transactions, order_id=order_id, reason=reason, staff=staff, gateway=gateway
        )
    except ValidationError:
        return _back(error="reason_missing", order=order_id)
    except SantapError as exc:
        return _back(error=exc.message, order=order_id)
    return _back(notice="cancelled", order=order_id)


@router.post("/staff/orders/{order_id}/qris")
async def counter_qris(
    request: Request,
    order_id: OrderId,
    staff: ConsoleStaff,
    form: session.CheckedForm,
    transactions: TransactionsDep,
    settings: SettingsDep,
    gateway: GatewayDep,
) -> Response:
    """Start (or reuse) the order's QRIS and show it on the customer-facing display: the
    board's form targets the display's window, so this answer lands there."""
    try:
        await web_service.start_qris(
            transactions,
            order_id=order_id,
            proof=Proof(staff_token=request.cookies[session.COOKIE]),
            settings=settings,
            gateway=gateway,
        )
    except SantapError as exc:
        return RedirectResponse(
            f"/staff/display?{urlencode({'order': order_id, 'error': exc.message})}", 303
        )
    return RedirectResponse(f"/staff/display?order={order_id}", 303)


@router.get("/staff/display")
async def display(
    request: Request,
    db: SessionDep,
    staff: ConsoleStaff,
    order: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    error: Annotated[str | None, Query(max_length=500)] = None,
    partial: Annotated[bool, Query()] = False,
) -> Response:
    """The screen turned to the customer at the counter: the order's QRIS, followed live."""
    view = None
    if order is not None:
        try:
            view = await web_service.display_view(db, order_id=order)
        except OrderNotFound:
            view = None
    return page(
        request,
        "display_body.html" if partial else "staff_display.html",
        view=view,
        order_id=order,
        error=error,
        labels=status_labels(request),
    )


def install(app: FastAPI) -> None:
    """A console page asked for without a staff session goes to the login page."""

    async def to_login(request: Request, _exc: Exception) -> Response:
        return session.to_login(request)

    async def refuse(request: Request, _exc: Exception) -> Response:
        return page(request, "staff_forbidden.html", status_code=403)

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(session.CsrfRefused, refuse)


def _back(*, to: object = None, **query: object) -> Response:
    """To the board (or the kitchen view the form came from), saying what happened."""
    path = "/staff/kitchen" if to == "kitchen" else "/staff"
    return RedirectResponse(f"{path}?" + urlencode({k: str(v) for k, v in query.items()}), 303)
