"""``santap check-midtrans``: does Midtrans accept the configured server key? A status request
for an order id that cannot exist answers 404 to a good key and 401 to a bad one, and moves no
money. Nothing printed carries the key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import httpx

from santap.config import Settings
from santap.gateways.midtrans import MidtransClient, MidtransError, MidtransUnavailable


class Verdict(StrEnum):
    ACCEPTED = "key accepted"
    REFUSED = "key refused"
    UNREACHABLE = "cannot reach Midtrans"
    UNEXPECTED = "unexpected answer"


@dataclass(frozen=True)
class KeyCheck:
    verdict: Verdict
    host: str
    detail: str

    def line(self) -> str:
        return f"{self.verdict}: {self.host} ({self.detail})"


class NoKey(Exception):
    """No MIDTRANS_SERVER_KEY: the built-in simulator stands in; nothing to check."""


async def check_key(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> KeyCheck:
    if settings.midtrans_server_key is None:
        raise NoKey()
    host = urlsplit(settings.core_base_url).netloc or settings.core_base_url
    probe = f"santap-key-check-{uuid.uuid4().hex[:16]}"
    async with MidtransClient.from_settings(
        settings, server_key=settings.midtrans_server_key.get_secret_value(), transport=transport
    ) as client:
        try:
            await client.get_status(probe)
        except MidtransUnavailable as exc:  # no connection, a timeout, or Midtrans' 5xx
            return KeyCheck(Verdict.UNREACHABLE, host, _reason(exc))
        except MidtransError as exc:
            if exc.is_not_found:
                return KeyCheck(Verdict.ACCEPTED, host, "an unknown order id answers 404")
            if exc.http_status == 401 or exc.status_code == "401":
                hint = (
                    "HTTP 401: is it a sandbox key (SB-Mid-server-...) with MIDTRANS_IS_PRODUCTION?"
                )
            return KeyCheck(Verdict.REFUSED, host, hint)
            return KeyCheck(Verdict.UNEXPECTED, host, f"HTTP {exc.http_status}")
    return KeyCheck(Verdict.UNEXPECTED, host, f"order {probe} exists")


def _reason(exc: MidtransUnavailable) -> str:
    text = getattr(exc, "reason", None) or str(exc)
    return text if len(text) < 200 else text[:200] + "…"
