"""Who the client is, over real sockets: ``X-Forwarded-For`` counts only from TRUSTED_PROXIES,
whatever server runs the app (the ASGI servers' own proxy-header handling trusts loopback)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.fixtures.server import served

ALLOWED = "203.0.113.5"
WEBHOOK = "/api/v1/webhooks/midtrans"
# Not signed: an allowed source gets past the allowlist (403) to the signature check (401).
BODY = (
    b'{"order_id": "SNTP-1-x", "status_code": "200", "gross_amount": "1.00",'
    b' "transaction_status": "settlement", "signature_key": "0"}'
)
JSON = {"content-type": "application/json"}


def _webhook_status(http: httpx.Client, forwarded_for: str) -> int:
    headers = {**JSON, "x-forwarded-for": forwarded_for}
    return http.post(WEBHOOK, content=BODY, headers=headers).status_code


def _wrong_logins(http: httpx.Client, forwarded_for: list[str], users: list[str]) -> list[int]:
    """Wrong logins until the first 429 (each 401 costs a password hash)."""
    statuses: list[int] = []
    for address, user in zip(forwarded_for, users, strict=True):
        statuses.append(
            http.post(
                "/api/v1/auth/login",
                json={"username": user, "password": "wrong-password"},
                headers={"x-forwarded-for": address},
            ).status_code
        )
        if statuses[-1] == 429:
            break
    return statuses


def _forged(n: int) -> list[str]:
    return [f"198.51.100.{i}" for i in range(1, n + 1)]


@pytest.mark.parametrize("uvicorn_app", [False, True], ids=["santap-serve", "uvicorn-defaults"])
def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    tmp_path: Path, uvicorn_app: bool
) -> None:
    env = {"MIDTRANS_WEBHOOK_ALLOWED_IPS": "203.0.113.0/24"}
    with served(tmp_path, env, uvicorn_app=uvicorn_app) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert _webhook_status(http, ALLOWED) == 403
            assert _webhook_status(http, f"{ALLOWED}, {ALLOWED}") == 403
            statuses = _wrong_logins(http, _forged(40), [f"user{i}" for i in range(40)])
    # One budget for the one real client, however many addresses it claims to be.
    assert 429 in statuses
    assert statuses.index(429) <= 25


def test_forwarded_for_from_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    env = {"MIDTRANS_WEBHOOK_ALLOWED_IPS": "203.0.113.0/24", "TRUSTED_PROXIES": "127.0.0.1/32"}
    with served(tmp_path, env) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert _webhook_status(http, ALLOWED) == 401  # allowed, then the signature
            assert _webhook_status(http, "192.0.2.9") == 403
            assert _webhook_status(http, f"{ALLOWED}, 192.0.2.9") == 403  # the nearest hop
            first = _wrong_logins(http, ["192.0.2.1"] * 30, [f"user{i}" for i in range(30)])
            other = _wrong_logins(http, ["192.0.2.2"], ["someone"])
    assert 429 in first  # each forwarded client has its own budget...
    assert other == [401]  # ...and one client's exhausted budget is not the proxy's


def test_a_server_rewritten_address_counts_as_unverified(tmp_path: Path) -> None:
    """uvicorn at its defaults rewrites the peer from X-Forwarded-For for loopback; Santap
    cannot know the real peer then, so it admits no allowlist and says how to fix it."""
    env = {"MIDTRANS_WEBHOOK_ALLOWED_IPS": "203.0.113.0/24", "TRUSTED_PROXIES": "127.0.0.1/32"}
    with served(tmp_path, env, uvicorn_app=True) as server:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert _webhook_status(http, ALLOWED) == 403
            assert http.get("/health").status_code == 200
    assert "--no-proxy-headers" in server.log.read_text()
