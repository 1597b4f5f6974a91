"""Async Midtrans client: Snap create and the Core API calls Santap needs for QRIS."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from santap.config import Settings
from santap.gateways.midtrans._transport import default_transport
from santap.gateways.midtrans._wire import decode_body
from santap.gateways.midtrans.errors import (
    MidtransError,
    MidtransTimeout,
    MidtransUnavailable,
    MidtransUnreachable,
)
from santap.gateways.midtrans.schemas import (
    QrisCharge,
    QrisChargeRequest,
    RefundResult,
    SnapTransaction,
    SnapTransactionRequest,
    TransactionStatus,
)
from santap.observability import metrics

logger = logging.getLogger(__name__)

USER_AGENT = "santap/0.1"
M = TypeVar("M", bound=BaseModel)


class MidtransClient:
    """One pooled ``httpx.AsyncClient`` per instance; create once per app and ``aclose()`` it."""

    def __init__(
        self,
        *,
        server_key: str,
        snap_base_url: str,
        core_base_url: str,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        acquirer: str = "gopay",
        retry_backoff_s: float = 0.1,
        max_connections: int = 16,
        proxy_url: str | None = None,
    ) -> None:
        self._snap_base_url = snap_base_url.rstrip("/")
        self._core_base_url = core_base_url.rstrip("/")
        self._max_retries = max_retries
        self._retry_backoff_s = retry_backoff_s
        self._acquirer = acquirer
        # Callers wait here rather than inside httpcore's pool, whose per-request cost grows
        # with the number of waiters and connections (encode/httpx#3215).
        self._in_flight = asyncio.Semaphore(max_connections)
        self._http = httpx.AsyncClient(
            # httpx keeps the key inside the auth flow; its Headers repr masks Authorization.
            auth=httpx.BasicAuth(server_key, ""),
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport
            or default_transport(max_connections=max_connections, proxy_url=proxy_url),
            follow_redirects=False,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        server_key: str,
        snap_base_url: str | None = None,
        core_base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> MidtransClient:
        return cls(
            server_key=server_key,
            snap_base_url=snap_base_url or settings.snap_base_url,
            core_base_url=core_base_url or settings.core_base_url,
            connect_timeout=settings.midtrans_connect_timeout_s,
            read_timeout=settings.midtrans_read_timeout_s,
            acquirer=settings.midtrans_qris_acquirer,
            transport=transport,
            proxy_url=(
                settings.midtrans_proxy_url.get_secret_value()
                if settings.midtrans_proxy_url
                else None
            ),
        )

    def __repr__(self) -> str:
        return (
            f"MidtransClient(snap_base_url={self._snap_base_url!r}, "
            f"core_base_url={self._core_base_url!r}, acquirer={self._acquirer!r})"
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def create_snap_transaction(
        self, request: SnapTransactionRequest, *, notification_url: str | None = None
    ) -> SnapTransaction:
        """Never retried: Snap has no idempotency key, a repeat may create a second token."""
        request.check_amounts()
        body = await self._call(
            "POST",
            self._snap_base_url,
            "/snap/v1/transactions",
            operation="snap_create",
            json=request.to_wire(),
            headers=_notification_headers(notification_url),
        )
        return _parse(SnapTransaction, body)

    async def charge_qris(
        self,
        request: QrisChargeRequest,
        *,
        idempotency_key: str | None = None,
        notification_url: str | None = None,
    ) -> QrisCharge:
        """Retried only with an idempotency key, which makes a repeat return the first charge."""
        request.check_amounts()
        headers = _notification_headers(notification_url)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        body = await self._call(
            "POST",
            self._core_base_url,
            "/v2/charge",
            operation="charge",
            json=request.to_wire(acquirer=self._acquirer),
            headers=headers,
            retry=idempotency_key is not None,
        )
        return _parse(QrisCharge, body)

    async def get_status(self, order_id: str) -> TransactionStatus:
        body = await self._call_core("GET", order_id, "status", retry=True)
        return _parse(TransactionStatus, body)

    async def cancel(self, order_id: str) -> TransactionStatus:
        body = await self._call_core("POST", order_id, "cancel")
        return _parse(TransactionStatus, body)

    async def expire(self, order_id: str) -> TransactionStatus:
        # Midtrans reports a successful /expire with body status_code "407".
        body = await self._call_core("POST", order_id, "expire", allow_407=True)
        return _parse(TransactionStatus, body)

    async def refund(
        self, order_id: str, *, amount: int | None, reason: str, refund_key: str
    ) -> RefundResult:
        """Not retried here; repeating with the same ``refund_key`` is safe for the caller."""
        payload: dict[str, Any] = {"refund_key": refund_key, "reason": reason[:255]}
        if amount is not None:
            payload["amount"] = amount
        body = await self._call_core("POST", order_id, "refund", json=payload)
        return _parse(RefundResult, {"refund_key": refund_key, **body})

    async def _call_core(
        self,
        method: str,
        transaction: str,
        action: str,
        *,
        json: dict[str, Any] | None = None,
        retry: bool = False,
        allow_407: bool = False,
    ) -> dict[str, Any]:
        path = f"/v2/{quote(transaction, safe='')}/{action}"
        return await self._call(
            method,
            self._core_base_url,
            path,
            operation=action,
            json=json,
            retry=retry,
            allow_407=allow_407,
        )

    async def _call(
        self,
        method: str,
        base_url: str,
        path: str,
        *,
        operation: str,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry: bool = False,
        allow_407: bool = False,
    ) -> dict[str, Any]:
        attempts = 1 + (self._max_retries if retry else 0)
        for attempt in range(attempts):
            try:
                return await self._send(
                    method,
                    base_url,
                    path,
                    operation,
                    json,
                    headers or {},
                    allow_407=allow_407,
                )
            except MidtransError as exc:
                if attempt + 1 >= attempts or not exc.is_retryable:
                    raise
                delay = self._backoff(attempt)
                logger.warning(
                    "Midtrans %s %s failed (%s); retry %d/%d in %.2fs",
                    method,
                    path,
                    exc,
                    attempt + 1,
                    attempts - 1,
                    delay,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff(self, attempt: int) -> float:
        # Full jitter spreads retries of many waiting requests apart.
        return self._retry_backoff_s * (2.0**attempt) * random.uniform(0.5, 1.5)

    async def _send(
        self,
        method: str,
        base_url: str,
        path: str,
        operation: str,
        json: dict[str, Any] | None,
        headers: dict[str, str],
        *,
        allow_407: bool,
    ) -> dict[str, Any]:
        """One HTTP exchange, counted in the gateway metrics."""
        started = time.perf_counter()
        result = "error"
        try:
            body = await self._exchange(method, base_url, path, json, headers, allow_407=allow_407)
        except MidtransTimeout:
            result = "timeout"
            raise
        except MidtransUnavailable:
            result = "unavailable"
            raise
        except asyncio.CancelledError:
            # A caller's own deadline (asyncio.timeout around a status check) cut it short.
            result = "timeout"
            raise
        else:
            result = "ok"
            return body
        finally:
            metrics.observe_gateway_call(operation, result, time.perf_counter() - started)

    async def _exchange(
        self,
        method: str,
        base_url: str,
        path: str,
        json: dict[str, Any] | None,
        headers: dict[str, str],
        *,
        allow_407: bool,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            async with self._in_flight:
                response = await self._http.request(
                    method, base_url + path, json=json, headers=headers
                )
        except httpx.TransportError as exc:
            raise _no_answer(exc, method, base_url, path) from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.debug(
            "Midtrans %s %s -> %d in %.0f ms", method, path, response.status_code, elapsed_ms
        )
        if response.status_code == 202 and "Idempotency-Key" in headers:
            # The first call with this key is still running at Midtrans: ask again later.
            raise MidtransUnavailable(
                f"Midtrans {method} {path}: idempotent request still in progress",
                http_status=202,
                host=httpx.URL(base_url).host,
                reason="still in progress",
            )
        return decode_body(response, allow_407=allow_407)


def _no_answer(
    exc: httpx.TransportError, method: str, base_url: str, path: str
) -> MidtransUnavailable:
    """The error for a call that got no answer: timed out, no connection, or cut short."""
    host = httpx.URL(base_url).host
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return MidtransTimeout(
            f"Midtrans {method} {path} timed out ({type(exc).__name__})",
            http_status=504,
            host=host,
            reason=type(exc).__name__,
        )
    kind = MidtransUnreachable if isinstance(exc, httpx.ConnectError) else MidtransUnavailable
    return kind(
        f"Midtrans {method} {path} failed: {reason}", http_status=502, host=host, reason=reason
    )


def _parse(model: type[M], body: dict[str, Any]) -> M:
    """A successful answer whose fields are missing or malformed is Midtrans failing too: the
    caller's usual MidtransError handling (502, queued for reconciliation) applies."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, error["loc"])) for error in exc.errors()})
        raise MidtransError(
            f"Midtrans answered with unexpected fields: {', '.join(fields)}",
            http_status=200,
            status_code=body.get("status_code")
            if isinstance(body.get("status_code"), str)
            else None,
            messages=[f"unexpected answer from Midtrans (fields: {', '.join(fields)})"],
        ) from None


def _notification_headers(notification_url: str | None) -> dict[str, str]:
    return {"X-Override-Notification": notification_url} if notification_url else {}
