from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.fixtures.payments import notification, order_with_qris

WEBHOOK = "/api/v1/webhooks/midtrans"


def _client(app: FastAPI, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "MIDTRANS_VERIFY_STATUS": False,
            "MIDTRANS_WEBHOOK_ALLOWED_IPS": "149.129.216.115/32,8.215.0.0/16",
            "TRUSTED_PROXIES": "10.0.0.0/8",
        }
    ],
)
async def test_allowlist_with_forwarded_for_only_from_trusted_proxies(
    app: FastAPI, client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    _, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], "pending", "35000.00")
    cases = [
        ("149.129.216.115", {}, 200),
        ("8.215.17.96", {}, 200),
        ("203.0.113.9", {}, 403),
        # An untrusted peer cannot claim to be Midtrans.
        ("203.0.113.9", {"X-Forwarded-For": "149.129.216.115"}, 403),
        # Behind our proxy, the right-most untrusted hop is the sender.
        ("10.1.2.3", {"X-Forwarded-For": "149.129.216.115"}, 200),
        ("10.1.2.3", {"X-Forwarded-For": "149.129.216.115, 203.0.113.9"}, 403),
        ("10.1.2.3", {}, 403),
    ]
    for peer, headers, expected in cases:
        async with _client(app, peer) as http:
            response = await http.post(WEBHOOK, json=body, headers=headers)
        assert response.status_code == expected, (peer, headers, response.text)
        if expected == 403:
            assert response.json()["error"]["code"] == "forbidden"
