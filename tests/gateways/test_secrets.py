"""The server key must reach no repr, exception message or log line."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest
import respx

from santap.config import Settings
from santap.gateways.midtrans import (
    MidtransClient,
    MidtransError,
    QrisChargeRequest,
    SnapTransactionRequest,
)

KEY = "SB-Mid-server-SECRET-SHOULD-NOT-LEAK"
BASE = "https://api.sandbox.midtrans.com"
FORBIDDEN = (KEY, base64.b64encode(f"{KEY}:".encode()).decode())


def _assert_clean(text: str) -> None:
    for secret in FORBIDDEN:
        assert secret not in text


async def test_repr_hides_key() -> None:
    async with MidtransClient(server_key=KEY, snap_base_url=BASE, core_base_url=BASE) as client:
        _assert_clean(repr(client))
        _assert_clean(str(vars(client)))


async def test_errors_and_logs_hide_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    request = SnapTransactionRequest(order_id="O-1", gross_amount=1000)
    errors: list[MidtransError] = []
    with respx.mock() as mock:
        mock.get(f"{BASE}/v2/O-1/status").mock(side_effect=httpx.ConnectError("refused"))
        mock.post(f"{BASE}/snap/v1/transactions").respond(401, json={"error_messages": ["no"]})
        mock.post(f"{BASE}/v2/O-1/cancel").respond(200, text="not json")
        async with MidtransClient(
            server_key=KEY,
            snap_base_url=BASE,
            core_base_url=BASE,
            retry_backoff_s=0,
            transport=httpx.MockTransport(mock.async_handler),
        ) as client:
            for call in (
                client.get_status("O-1"),
                client.create_snap_transaction(request),
                client.cancel("O-1"),
            ):
                with pytest.raises(MidtransError) as caught:
                    await call
                errors.append(caught.value)
    assert len(errors) == 3
    for error in errors:
        _assert_clean(str(error))
        _assert_clean(repr(error))
    assert caplog.records, "the retries should have logged something"
    _assert_clean(caplog.text)
    _assert_clean(" ".join(str(record.args) for record in caplog.records))


async def test_from_settings_uses_urls_timeouts_and_acquirer() -> None:
    settings = Settings(
        midtrans_core_base_url="http://core.test/",
        midtrans_qris_acquirer="airpay shopee",
        midtrans_read_timeout_s=7.0,
    )
    with respx.mock() as mock:
        route = mock.post("http://core.test/v2/charge").respond(
            200, json={"status_code": "400", "status_message": "stop"}
        )
        client = MidtransClient.from_settings(
            settings, server_key=KEY, transport=httpx.MockTransport(mock.async_handler)
        )
        async with client:
            assert "core.test" in repr(client)
            assert "app.sandbox.midtrans.com" in repr(client)
            with pytest.raises(MidtransError):
                await client.charge_qris(QrisChargeRequest(order_id="O-2", gross_amount=10))
        sent = route.calls.last.request
        assert b'"acquirer":"airpay shopee"' in sent.content
        assert sent.extensions["timeout"]["read"] == 7.0
