"""What the customer's pages show and do, through the same services as the API."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import segno
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from starlette.datastructures import FormData

from santap.config import Settings
from santap.db import Transactions
from santap.errors import SantapError
from santap.menu import service as menu_service
from santap.menu.schemas import MenuRead
from santap.models import Order, PaymentMethod, PaymentStatus
from santap.orders import service as orders_service
from santap.orders.schemas import OrderCreate, OrderCreated, OrderRead
from santap.payments import qris
from santap.payments import service as payments_service
from santap.payments.gateway import PaymentGateway
from santap.payments.schemas import QrisPaymentCreate, QrisPaymentRead


class NothingOrdered(Exception):
    pass


class BadLine(Exception):
    """A quantity or item that is not a plain small number (hand-made posts)."""


_QUANTITY = re.compile(r"^[0-9]{1,3}$")
_ITEM_ID = re.compile(r"^[0-9]{1,18}$")


class Refused(Exception):
    """The service said no (an item just became unavailable, ...): its message is shown."""

    def __init__(self, error: SantapError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class OrderView:
    order: OrderRead
    qris: QrisPaymentRead | None  # the attempt to pay, while one is open

    @property
    def expires_at(self) -> datetime | None:
        return self.qris.expires_at if self.qris else None

    @property
    def qr_inline(self) -> str | None:
        """The QR drawn in the page itself: no second request on a poor connection."""
        if self.qris is None or not self.qris.qr_string:
            return None
        return qr_inline(self.qris.qr_string)

    @property
    def scan_inline(self) -> str | None:
        """For a screen facing the customer: the QRIS itself, or in Snap mode the link to
        Midtrans' payment page, which the customer's phone camera opens."""
        if self.qris is None:
            return None
        content = self.qris.qr_string or self.qris.qris_url
        return qr_inline(content) if content else None


def qr_inline(content: str) -> str:
    """A QR code as an SVG element to put in a page."""
    return str(_qr(content).svg_inline(scale=6, border=2, omitsize=True))


def _qr(content: str) -> segno.QRCode:
    return segno.make(content, error="m")


async def menu(session: AsyncSession) -> MenuRead:
    return await menu_service.get_menu(session)


def _lines(form: FormData) -> list[dict[str, Any]]:
    lines = []
    for key, value in form.multi_items():
        if not key.startswith("qty-") or not isinstance(value, str) or not value.strip():
            continue
        item_id, quantity = key.removeprefix("qty-"), value.strip()
        # ASCII digits only: str.isdigit() admits "²", and int() refuses 4,300 digits and more.
        if not _ITEM_ID.match(item_id) or not _QUANTITY.match(quantity):
            raise BadLine()
        if int(quantity) == 0:
            continue
        note = form.get(f"note-{item_id}")
        lines.append(
            {
                "menu_item_id": int(item_id),
                "quantity": int(quantity),
                "note": note.strip() or None if isinstance(note, str) else None,
            }
        )
    if not lines:
        raise NothingOrdered()
    return lines


async def place_order(
    transactions: Transactions, engine: AsyncEngine, *, table: str, form: FormData
) -> OrderCreated:
    name = form.get("customer_name")
    data = OrderCreate.model_validate(
        {
            "items": _lines(form),
            "table_number": table,
            "customer_name": name.strip() or None if isinstance(name, str) else None,
        }
    )
    try:
        return await orders_service.create_order(transactions, engine, data=data)
    except SantapError as exc:
        raise Refused(exc) from exc


def messages(exc: Exception) -> list[str]:
    """Plain words for the page (translated there when they are ours)."""
    if isinstance(exc, NothingOrdered):
        return ["Choose at least one item."]
    if isinstance(exc, Refused):
        return [exc.error.message]
    if isinstance(exc, (ValidationError, BadLine)):
        return ["Check the quantities (1 to 99) and keep notes under 200 characters."]
    return [str(exc)]


async def order_view(session: AsyncSession, *, order_id: int, token: str | None) -> OrderView:
    order = await orders_service.get_order_for_customer(session, order_id=order_id, token=token)
    return _view(order)


async def display_view(session: AsyncSession, *, order_id: int) -> OrderView:
    """What the counter's customer-facing screen shows (staff only: no order token)."""
    return _view(await orders_service.get_order(session, order_id=order_id))


def _view(order: Order) -> OrderView:
    attempt = None
    for payment in sorted(order.payments, key=lambda p: p.id, reverse=True):
        if payment.method == PaymentMethod.QRIS and payment.status == PaymentStatus.PENDING:
            attempt = payments_service.qris_read(payment)
            break
    return OrderView(order=OrderRead.model_validate(order), qris=attempt)


async def start_qris(
    transactions: Transactions,
    *,
    order_id: int,
    proof: qris.Proof,
    settings: Settings,
    gateway: PaymentGateway,
) -> QrisPaymentRead:
    """QRIS for the order at its total. The payment service checks the proof (the customer's
    order token, or a cashier's token at the counter): without it the order is a 404."""
    async with transactions.begin() as session:
        amount = (await orders_service.get_order(session, order_id=order_id)).total_amount
    payment, _ = await qris.create_qris_payment(
        transactions,
        data=QrisPaymentCreate(order_id=order_id, amount=amount),
        proof=proof,
        settings=settings,
        gateway=gateway,
    )
    return payment


async def qr_svg(session: AsyncSession, *, order_id: int, token: str | None) -> str:
    view = await order_view(session, order_id=order_id, token=token)
    if view.qris is None or not view.qris.qr_string:
        raise orders_service.OrderNotFound(order_id)
    out = io.BytesIO()
    _qr(view.qris.qr_string).save(out, kind="svg", scale=8, border=4)
    return out.getvalue().decode()
