"""Exceptions raised by the Midtrans gateway.

Messages are built only from what Midtrans answered and what we asked for, never from
request headers, so the server key cannot leak through ``str()`` of an error.
"""

from __future__ import annotations


class MidtransError(Exception):
    """Midtrans answered, but not with success (HTTP >= 400 or body ``status_code`` >= 400)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        status_code: str | None = None,
        messages: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.status_code = status_code
        self.messages = list(messages or [])

    @property
    def is_not_found(self) -> bool:
        return self.http_status == 404 or self.status_code == "404"

    @property
    def is_retryable(self) -> bool:
        """Server-side or rate-limit failures: repeating a *safe* call may succeed."""
        codes = [self.http_status]
        if self.status_code is not None and self.status_code.isdigit():
            codes.append(int(self.status_code))
        return any(code >= 500 or code == 429 for code in codes)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self)!r}, http_status={self.http_status}, "
            f"status_code={self.status_code!r})"
        )


class MidtransUnavailable(MidtransError):
    """No usable answer reached us (connection reset, protocol error, still in progress).

    ``host`` is the Midtrans host that was asked (never a proxy, whose URL may carry
    credentials); ``reason`` what went wrong underneath, as the HTTP library put it."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        host: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.host = host
        self.reason = reason

    @property
    def is_retryable(self) -> bool:
        return True


class MidtransUnreachable(MidtransUnavailable):
    """No connection to Midtrans at all: its name did not resolve, or it was refused."""


class MidtransTimeout(MidtransUnavailable):
    """Connecting or reading took longer than the configured timeout."""
