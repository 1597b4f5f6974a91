from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response

from santap.config import Settings
from santap.db import SessionDep, TransactionalRoute, Transactions, TransactionsDep
from santap.errors import Forbidden, SantapError
from santap.models.base import MAX_ID
from santap.net import client_ip, ip_allowed
from santap.payments import cash, inbox, qris, refunds, service
from santap.payments.gateway import GatewayDep
from santap.payments.rejections import RejectionBudget
from santap.payments.schemas import (
    CashPaymentCreate,
    CashPaymentRead,
    PaymentAdminRead,
    PaymentRead,
    QrisPaymentCreate,
    QrisPaymentRead,
    RefundCreate,
    RefundResultRead,
    WebhookAck,
)
from santap.staff.dependencies import AdminDep, BearerDep, CashierDep, SettingsDep

router = APIRouter(tags=["payments"], route_class=TransactionalRoute)

MAX_NOTIFICATION_BYTES = 64 * 1024

_ADMIN_ONLY: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid staff token"},
    403: {"description": "Admin role required"},
}
_QRIS_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Order not found, or neither its token nor a staff token was sent"},
    409: {"description": "Order is not awaiting payment, or its QRIS is still being created"},
    422: {"description": "Amount differs from the order total, or a malformed body"},
    502: {"description": "Midtrans refused the request, or could not be reached"},
    504: {"description": "Midtrans did not answer in time"},
}


@router.post(
    "/api/v1/payments/qris",
    status_code=201,
    responses={
        200: {"description": "The order's live QRIS attempt", "model": QrisPaymentRead},
        **_QRIS_ERRORS,
    },
)
async def create_qris_payment(
    data: QrisPaymentCreate,
    gateway: GatewayDep,
    transactions: TransactionsDep,
    settings: SettingsDep,
    bearer: BearerDep,
    response: Response,
    x_order_token: Annotated[str | None, Header()] = None,
) -> QrisPaymentRead:
    """Start (or resume) paying an order by QRIS: with the order's X-Order-Token, or a staff
    bearer token for a counter order."""
    proof = qris.Proof(
        order_token=x_order_token, staff_token=bearer.credentials if bearer else None
    )
    payment, created = await qris.create_qris_payment(
        transactions, data=data, proof=proof, settings=settings, gateway=gateway
    )
    if not created:
        response.status_code = 200
    return payment


@router.get("/api/v1/payments/{order_uid}", responses={404: {"description": "Unknown payment"}})
async def get_payment(
    order_uid: Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9\-_.~]+$")],
    session: SessionDep,
) -> PaymentRead:
    """A payment's status, for the customer's screen to poll."""
    return await service.get_public_payment(session, order_uid=order_uid)


class UnsupportedMediaType(SantapError):
    status_code = 415
    code = "unsupported_media_type"


class PayloadTooLarge(SantapError):
    status_code = 413
    code = "payload_too_large"


# Its own router, routed first and with no dependencies to solve: the busiest route, whose
# whole answer is one statement, should not pay for matching every other route first.
webhook_router = APIRouter(tags=["payments"])
_ACK_BODIES = {
    outcome: WebhookAck(status=outcome).model_dump_json().encode()
    for outcome in ("accepted", "duplicate")
}


@webhook_router.post("/api/v1/webhooks/midtrans", include_in_schema=False)
async def midtrans_notification(request: Request) -> Response:
    """Midtrans' HTTP notification."""
    state = request.app.state
    settings: Settings = state.settings
    source_ip = client_ip(request, settings.trusted_proxies)
    if not ip_allowed(source_ip, settings.midtrans_webhook_allowed_ips):
        raise Forbidden("Source address is not allowed")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType("Notifications must be application/json")
    raw = await request.body()
    if len(raw) > MAX_NOTIFICATION_BYTES:
        raise PayloadTooLarge("Notification body is too large")
    outcome = await inbox.receive(
        Transactions(state.sessionmaker),
        state.autocommit_engine,
        raw=raw,
        source_ip=source_ip,
        gateway=state.payment_gateway,
        rejections=_rejection_budget(state),
    )
    state.applier.wake()
    return Response(_ACK_BODIES[outcome], media_type="application/json")


def _rejection_budget(state: Any) -> RejectionBudget:
    """The app's budget for bad-signature deliveries, made on first use (one per app)."""
    budget: RejectionBudget | None = getattr(state, "rejection_budget", None)
    if budget is None:
        settings: Settings = state.settings
        budget = state.rejection_budget = RejectionBudget(
            settings.rejected_notifications_per_minute
        )
    return budget


@router.post(
    "/api/v1/payments/cash",
    status_code=201,
    responses={
        401: {"description": "No valid staff token"},
        404: {"description": "Order not found"},
        409: {"description": "Order is not awaiting payment, or was just paid by QRIS"},
        422: {"description": "Less cash than the total, or a malformed body"},
    },
)
async def take_cash(
    data: CashPaymentCreate,
    gateway: GatewayDep,
    transactions: TransactionsDep,
    cashier: CashierDep,
) -> CashPaymentRead:
    """Take cash at the counter for an order (closes any open QRIS attempt first)."""
    return await cash.take_cash(transactions, data=data, cashier=cashier, gateway=gateway)


@router.post(
    "/api/v1/admin/payments/{payment_id}/refund",
    responses={
        **_ADMIN_ONLY,
        404: {"description": "Payment not found"},
        409: {"description": "Payment is not refundable"},
        422: {"description": "Bad amount"},
        502: {"description": "Midtrans refused the refund, or could not be reached"},
        504: {"description": "Midtrans did not answer in time"},
    },
)
async def refund_payment(
    payment_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    data: RefundCreate,
    gateway: GatewayDep,
    transactions: TransactionsDep,
    admin: AdminDep,
) -> RefundResultRead:
    """Refund a payment, fully or partly; a full refund cancels the order."""
    return await refunds.refund_payment(
        transactions, payment_id=payment_id, data=data, admin=admin, gateway=gateway
    )


@router.get("/api/v1/admin/payments", responses=_ADMIN_ONLY)
async def list_flagged_payments(
    session: SessionDep,
    _admin: AdminDep,
    flag: Annotated[
        Literal["needs_refund", "amount_mismatch", "fraud_challenge"] | None, Query()
    ] = None,
) -> list[PaymentAdminRead]:
    """Payments needing follow-up: double payments, amount mismatches, fraud challenges."""
    rows = await refunds.flagged_payments(session, flag=flag)
    return [PaymentAdminRead.model_validate(row) for row in rows]
