"""MidtransClient against response shapes recorded in midtrans.md (respx, no simulator)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from santap.gateways.midtrans import (
    ItemDetail,
    MidtransClient,
    MidtransError,
    MidtransTimeout,
    MidtransUnavailable,
    QrisChargeRequest,
    SnapTransactionRequest,
)

KEY = "SB-Mid-server-EXAMPLEKEY123"
SNAP = "https://app.sandbox.midtrans.com"
CORE = "https://api.sandbox.midtrans.com"
STATUS_URL = f"{CORE}/v2/ORDER-101/status"

CHARGE_OK = {
    "status_code": "201",
    "status_message": "QRIS transaction is created",
    "transaction_id": "1015a919-b03f-450a-bc85-b38202a79a96",
    "order_id": "ORDER-101",
    "merchant_id": "G490526303",
    "gross_amount": "10000.00",
    "currency": "IDR",
    "payment_type": "qris",
    "transaction_time": "2021-06-23 15:25:24",
    "transaction_status": "pending",
    "fraud_status": "accept",
    "acquirer": "gopay",
    "actions": [
        {"name": "generate-qr-code", "method": "GET", "url": f"{CORE}/v2/qris/1015/qr-code"},
        {"name": "generate-qr-code-v2", "method": "GET", "url": f"{CORE}/v4/qris/r/qr-code"},
    ],
    "qr_string": "00020101021226620014COM.GO-JEK.WWW6304A623",
    "expiry_time": "2021-06-23 15:40:24",
}
STATUS_OK = {
    "transaction_time": "2024-01-01 10:00:00",
    "transaction_status": "SETTLEMENT",
    "transaction_id": "ce0a3584-5a0c-4049-ad88-5590a96be4fe",
    "status_message": "Success, transaction is found",
    "status_code": "200",
    "signature_key": "db4beaca",
    "settlement_time": "2024-01-01 10:03:12",
    "payment_type": "qris",
    "order_id": "ORDER-101",
    "gross_amount": "10000.00",
    "fraud_status": "accept",
    "currency": "IDR",
    "brand_new_field": {"x": 1},
}
SNAP_500 = {
    "error_messages": ["Sorry, we encountered internal server error. We will fix this soon."]
}


def _snap_request(**changes: object) -> SnapTransactionRequest:
    data: dict[str, object] = {
        "order_id": "ORDER-101",
        "gross_amount": 10000,
        "item_details": [ItemDetail(id="SKU1", name="Nasi goreng " * 10, price=5000, quantity=2)],
        "expiry_minutes": 15,
    }
    return SnapTransactionRequest.model_validate({**data, **changes})


def _charge_request() -> QrisChargeRequest:
    return QrisChargeRequest.model_validate(_snap_request().model_dump())


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def midtrans(mock: respx.MockRouter) -> AsyncIterator[MidtransClient]:
    async with MidtransClient(
        server_key=KEY,
        snap_base_url=SNAP,
        core_base_url=CORE,
        retry_backoff_s=0,
        transport=httpx.MockTransport(mock.async_handler),
    ) as client:
        yield client


async def test_snap_create_sends_wire_body_and_headers(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    answer = {"token": "d379aa71", "redirect_url": f"{SNAP}/snap/v3/redirection/d379aa71"}
    route = mock.post(f"{SNAP}/snap/v1/transactions").respond(201, json=answer)
    started = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    snap = await midtrans.create_snap_transaction(
        _snap_request(start_time=started), notification_url="https://shop.example/notify"
    )
    assert (snap.token, snap.redirect_url) == (answer["token"], answer["redirect_url"])
    assert snap.raw == answer
    request = route.calls.last.request
    assert request.headers["authorization"] == "Basic U0ItTWlkLXNlcnZlci1FWEFNUExFS0VZMTIzOg=="
    assert request.headers["user-agent"] == "santap/0.1"
    assert request.headers["accept"] == "application/json"
    assert request.headers["x-override-notification"] == "https://shop.example/notify"
    body = json.loads(request.content)
    assert body["enabled_payments"] == ["other_qris"]
    assert body["transaction_details"] == {"order_id": "ORDER-101", "gross_amount": 10000}
    # The QR lives 15 minutes from our attempt's start (in WIB), on a page open no longer.
    expiry = {"unit": "minute", "duration": 15, "start_time": "2026-11-27 10:00:00 +0700"}
    assert body["expiry"] == expiry
    assert body["page_expiry"] == {"duration": 15, "unit": "minute"}
    assert len(body["item_details"][0]["name"]) == 50
    assert "customer_details" not in body


async def test_charge_parses_qr_and_expiry(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    route = mock.post(f"{CORE}/v2/charge").respond(200, json=CHARGE_OK)
    charge = await midtrans.charge_qris(_charge_request(), idempotency_key="k-1")
    assert charge.qr_code_url == f"{CORE}/v2/qris/1015/qr-code"
    assert charge.qr_string == CHARGE_OK["qr_string"]
    assert charge.expiry_time is not None
    assert charge.expiry_time.utcoffset() == timedelta(hours=7)
    assert charge.expiry_time.replace(tzinfo=None) == datetime(2021, 6, 23, 15, 40, 24)
    request = route.calls.last.request
    assert request.headers["idempotency-key"] == "k-1"
    body = json.loads(request.content)
    assert body["payment_type"] == "qris"
    assert body["qris"] == {"acquirer": "gopay"}
    assert body["custom_expiry"] == {"expiry_duration": 15, "unit": "minute"}


async def test_charge_without_optional_fields(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    minimal = {
        k: v for k, v in CHARGE_OK.items() if k not in ("actions", "qr_string", "expiry_time")
    }
    mock.post(f"{CORE}/v2/charge").respond(200, json=minimal)
    charge = await midtrans.charge_qris(_charge_request())
    assert (charge.qr_string, charge.qr_code_url, charge.expiry_time) == (None, None, None)


async def test_status_is_lenient_and_lower_cased(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    mock.get(STATUS_URL).respond(200, json=STATUS_OK)
    status = await midtrans.get_status("ORDER-101")
    assert status.transaction_status == "settlement"
    assert status.gross_amount == "10000.00"
    assert status.is_paid
    assert status.settlement_time is not None
    assert status.raw["brand_new_field"] == {"x": 1}


async def test_amount_mismatch_is_refused_before_sending(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    route = mock.post(f"{SNAP}/snap/v1/transactions").respond(201, json={})
    with pytest.raises(ValueError, match="sum of item_details"):
        await midtrans.create_snap_transaction(_snap_request(gross_amount=9999))
    assert route.call_count == 0


async def test_http_200_with_error_status_code(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    body = {"status_code": "406", "status_message": "order_id has been paid and utilized"}
    mock.post(f"{CORE}/v2/charge").respond(200, json=body)
    with pytest.raises(MidtransError) as caught:
        await midtrans.charge_qris(_charge_request())
    assert (caught.value.http_status, caught.value.status_code) == (200, "406")
    assert caught.value.messages == ["order_id has been paid and utilized"]
    assert not caught.value.is_retryable


async def test_snap_401_messages(midtrans: MidtransClient, mock: respx.MockRouter) -> None:
    body = {"error_messages": ["Access denied due to unauthorized transaction", "Visit docs"]}
    mock.post(f"{SNAP}/snap/v1/transactions").respond(401, json=body)
    with pytest.raises(MidtransError) as caught:
        await midtrans.create_snap_transaction(_snap_request())
    assert caught.value.http_status == 401
    assert caught.value.status_code is None
    assert caught.value.messages == body["error_messages"]


async def test_core_400_validation_messages(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    body = {
        "status_code": "400",
        "status_message": "One or more parameters in the payload is invalid.",
        "validation_messages": ["transaction_details.gross_amount is required"],
    }
    mock.post(f"{CORE}/v2/charge").respond(400, json=body)
    with pytest.raises(MidtransError) as caught:
        await midtrans.charge_qris(_charge_request())
    assert caught.value.messages == [body["status_message"], *body["validation_messages"]]
    assert "gross_amount is required" in str(caught.value)


async def test_status_404_is_not_found(midtrans: MidtransClient, mock: respx.MockRouter) -> None:
    route = mock.get(STATUS_URL).respond(
        404, json={"status_code": "404", "status_message": "Transaction doesn't exist."}
    )
    with pytest.raises(MidtransError) as caught:
        await midtrans.get_status("ORDER-101")
    assert caught.value.is_not_found
    assert route.call_count == 1  # a 404 is an answer, not a failure worth retrying


async def test_status_404_in_body_of_http_200(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    mock.get(STATUS_URL).respond(200, json={"status_code": "404", "status_message": "not found"})
    with pytest.raises(MidtransError) as caught:
        await midtrans.get_status("ORDER-101")
    assert caught.value.is_not_found


async def test_expire_407_is_success(midtrans: MidtransClient, mock: respx.MockRouter) -> None:
    body = {**STATUS_OK, "status_code": "407", "transaction_status": "expire"}
    mock.post(f"{CORE}/v2/ORDER-101/expire").respond(200, json=body)
    status = await midtrans.expire("ORDER-101")
    assert (status.transaction_status, status.status_code) == ("expire", "407")


async def test_407_is_an_error_outside_expire(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    body = {**STATUS_OK, "status_code": "407", "transaction_status": "expire"}
    mock.post(f"{CORE}/v2/ORDER-101/cancel").respond(200, json=body)
    with pytest.raises(MidtransError) as caught:
        await midtrans.cancel("ORDER-101")
    assert caught.value.status_code == "407"


async def test_refund_amount_is_int(midtrans: MidtransClient, mock: respx.MockRouter) -> None:
    body = {
        "status_code": "200",
        "status_message": "Success, refund request is approved",
        "transaction_status": "partial_refund",
        "refund_chargeback_id": 1,
        "refund_amount": "5000.00",
        "refund_key": "ref-1",
    }
    route = mock.post(f"{CORE}/v2/ORDER-101/refund").respond(200, json=body)
    result = await midtrans.refund("ORDER-101", amount=5000, reason="cold soup", refund_key="ref-1")
    assert (result.refund_amount, result.refund_key) == (5000, "ref-1")
    assert result.transaction_status == "partial_refund"
    sent = json.loads(route.calls.last.request.content)
    assert sent == {"refund_key": "ref-1", "reason": "cold soup", "amount": 5000}


@pytest.mark.parametrize(
    ("path", "call", "body"),
    [
        ("status", "get_status", {"status_code": 200, "transaction_status": "settlement"}),
        ("status", "get_status", {"status_code": "200"}),
        (
            "refund",
            "refund",
            {"status_code": "200", "transaction_status": "refund", "refund_amount": "Infinity"},
        ),
    ],
)
async def test_a_successful_answer_with_bad_fields_is_a_midtrans_error(
    midtrans: MidtransClient, mock: respx.MockRouter, path: str, call: str, body: dict[str, Any]
) -> None:
    """Not a ValidationError or OverflowError that callers do not expect (a 500)."""
    method = mock.get if path == "status" else mock.post
    method(f"{CORE}/v2/ORDER-101/{path}").respond(200, json=body)
    kwargs: dict[str, Any] = {"amount": None, "reason": "r", "refund_key": "k"}
    with pytest.raises(MidtransError, match="unexpected fields") as caught:
        await getattr(midtrans, call)("ORDER-101", **(kwargs if call == "refund" else {}))
    assert caught.value.http_status == 200


@pytest.mark.parametrize("status", [200, 502])
async def test_non_json_body(midtrans: MidtransClient, mock: respx.MockRouter, status: int) -> None:
    mock.get(STATUS_URL).respond(status, text="<html>Bad Gateway</html>")
    with pytest.raises(MidtransError, match="not JSON") as caught:
        await midtrans.get_status("ORDER-101")
    assert caught.value.http_status == status


async def test_json_that_is_not_an_object(midtrans: MidtransClient, mock: respx.MockRouter) -> None:
    mock.get(STATUS_URL).respond(200, json=["a"])
    with pytest.raises(MidtransError, match="not an object"):
        await midtrans.get_status("ORDER-101")


async def test_status_retries_5xx_then_succeeds(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    route = mock.get(STATUS_URL)
    route.side_effect = [
        httpx.Response(503, json={"status_code": "503", "status_message": "busy"}),
        httpx.Response(429, json={"status_code": "429", "status_message": "slow down"}),
        httpx.Response(200, json=STATUS_OK),
    ]
    status = await midtrans.get_status("ORDER-101")
    assert status.transaction_status == "settlement"
    assert route.call_count == 3


async def test_status_gives_up_after_max_retries(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    route = mock.get(STATUS_URL).respond(500, json={"status_code": "500", "status_message": "x"})
    with pytest.raises(MidtransError) as caught:
        await midtrans.get_status("ORDER-101")
    assert caught.value.http_status == 500
    assert route.call_count == 3  # one call + max_retries=2


async def test_timeout_maps_to_midtrans_timeout_and_is_retried_for_status(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    route = mock.get(STATUS_URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(MidtransTimeout) as caught:
        await midtrans.get_status("ORDER-101")
    assert caught.value.http_status == 504
    assert route.call_count == 3


async def test_connection_error_is_unavailable_not_timeout(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    route = mock.post(f"{SNAP}/snap/v1/transactions").mock(
        side_effect=httpx.ConnectError("refused")
    )
    with pytest.raises(MidtransUnavailable) as caught:
        await midtrans.create_snap_transaction(_snap_request())
    assert not isinstance(caught.value, MidtransTimeout)
    assert caught.value.http_status == 502
    assert route.call_count == 1  # Snap create is never retried


async def test_charge_is_retried_only_with_idempotency_key(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    route = mock.post(f"{CORE}/v2/charge").mock(side_effect=httpx.ConnectError("reset"))
    with pytest.raises(MidtransUnavailable):
        await midtrans.charge_qris(_charge_request())
    assert route.call_count == 1
    route.reset()
    route.side_effect = [httpx.ConnectError("reset"), httpx.Response(200, json=CHARGE_OK)]
    charge = await midtrans.charge_qris(_charge_request(), idempotency_key="key-1")
    assert charge.transaction_id == CHARGE_OK["transaction_id"]
    assert route.call_count == 2


async def test_charge_in_progress_202_is_retried(
    midtrans: MidtransClient, mock: respx.MockRouter
) -> None:
    route = mock.post(f"{CORE}/v2/charge")
    route.side_effect = [httpx.Response(202, json={}), httpx.Response(200, json=CHARGE_OK)]
    await midtrans.charge_qris(_charge_request(), idempotency_key="key-2")
    assert route.call_count == 2


@pytest.mark.parametrize("action", ["cancel", "expire", "refund"])
async def test_state_changes_are_never_retried(
    midtrans: MidtransClient, mock: respx.MockRouter, action: str
) -> None:
    route = mock.post(f"{CORE}/v2/ORDER-101/{action}").respond(503, json=SNAP_500)
    if action == "refund":
        call = midtrans.refund("ORDER-101", amount=None, reason="r", refund_key="k")
    else:
        call = getattr(midtrans, action)("ORDER-101")
    with pytest.raises(MidtransError):
        await call
    assert route.call_count == 1


async def test_snap_5xx_is_not_retried(midtrans: MidtransClient, mock: respx.MockRouter) -> None:
    route = mock.post(f"{SNAP}/snap/v1/transactions").respond(500, json=SNAP_500)
    with pytest.raises(MidtransError) as caught:
        await midtrans.create_snap_transaction(_snap_request())
    assert caught.value.is_retryable
    assert route.call_count == 1


async def test_order_id_is_quoted_in_path(midtrans: MidtransClient, mock: respx.MockRouter) -> None:
    route = mock.get(f"{CORE}/v2/A%2FB/status").respond(200, json=STATUS_OK)
    await midtrans.get_status("A/B")
    assert route.call_count == 1
