"""Turning an HTTP answer from Midtrans into a JSON body or a MidtransError."""

from __future__ import annotations

import json
from typing import Any

import httpx

from santap.gateways.midtrans.errors import MidtransError

_SNIPPET = 200


def decode_body(response: httpx.Response, *, allow_407: bool = False) -> dict[str, Any]:
    """The JSON object of a successful answer; raise MidtransError for every kind of failure.

    Official clients check both the HTTP status and the body ``status_code``, since Midtrans
    answers some errors with HTTP 200 (midtrans.md §3). ``"407"`` means success only on /expire.
    """
    body = _parse_json(response)
    body_code = body.get("status_code")
    status_code = str(body_code) if body_code is not None else None
    if response.status_code >= 400:
        raise _error(response, body, status_code)
    if status_code is not None and _is_error_code(status_code, allow_407=allow_407):
        raise _error(response, body, status_code)
    return body


def _is_error_code(status_code: str, *, allow_407: bool) -> bool:
    if allow_407 and status_code == "407":
        return False
    try:
        return int(status_code) >= 400
    except ValueError:
        return False


def _parse_json(response: httpx.Response) -> dict[str, Any]:
    where = f"{response.request.method} {response.request.url.path}"
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        snippet = response.text[:_SNIPPET]
        raise MidtransError(
            f"Midtrans answered {where} with HTTP {response.status_code} and a body that is "
            f"not JSON: {snippet!r}",
            http_status=response.status_code,
        ) from None
    if not isinstance(body, dict):
        raise MidtransError(
            f"Midtrans answered {where} with HTTP {response.status_code} and JSON that is "
            f"not an object",
            http_status=response.status_code,
        )
    return body


def _error(
    response: httpx.Response, body: dict[str, Any], status_code: str | None
) -> MidtransError:
    messages = _messages(body)
    where = f"{response.request.method} {response.request.url.path}"
    detail = "; ".join(messages) or "no message"
    code = f", status_code {status_code}" if status_code is not None else ""
    return MidtransError(
        f"Midtrans rejected {where}: HTTP {response.status_code}{code}: {detail}",
        http_status=response.status_code,
        status_code=status_code,
        messages=messages,
    )


def _messages(body: dict[str, Any]) -> list[str]:
    """Snap errors carry ``error_messages``; Core errors ``status_message`` (+ validation)."""
    found: list[str] = []
    for key in ("error_messages", "validation_messages"):
        value = body.get(key)
        if isinstance(value, list):
            found.extend(str(item) for item in value)
    status_message = body.get("status_message")
    if isinstance(status_message, str):
        found.insert(0, status_message)
    return found
