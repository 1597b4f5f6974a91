"""SANTAP_METRICS_TOKEN: with it set, /metrics answers only a scraper that sends it."""

from __future__ import annotations

import hmac
import logging

import httpx
import pytest

from santap.main import create_app
from tests.fixtures.database import make_settings
from tests.observability.conftest import CapturedLogs

TOKEN = "metrics-Zr4qT8wLp2Vn6Yc0Hs5Kd9Fb3Jx7Mg1A"
WITH_TOKEN = pytest.mark.parametrize("settings_overrides", [{"SANTAP_METRICS_TOKEN": TOKEN}])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@WITH_TOKEN
async def test_metrics_need_the_token_as_a_bearer_token(
    client: httpx.AsyncClient, json_logs: CapturedLogs
) -> None:
    refused = [
        await client.get("/metrics"),
        await client.get("/metrics", headers=_bearer("wrong-token")),
        await client.get("/metrics", headers=_bearer(TOKEN[:-1])),
        await client.get("/metrics", headers=_bearer(TOKEN + "x")),
        await client.get("/metrics", headers={b"Authorization": "Bearer ümlaut".encode()}),
        await client.get("/metrics", headers={"Authorization": TOKEN}),
        await client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}),
    ]
    for response in refused:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {
            "error": {
                "code": "metrics_token_required",
                "message": "A valid metrics token is required",
                "details": None,
            }
        }

    scraped = await client.get("/metrics", headers=_bearer(TOKEN))
    assert scraped.status_code == 200
    assert "santap_http_requests_total" in scraped.text

    for response in [*refused, scraped]:
        assert TOKEN not in response.text
        assert TOKEN not in str(response.headers)
    assert any(r.get("route") == "/metrics" for r in json_logs.records())
    assert TOKEN not in json_logs.text


@WITH_TOKEN
async def test_the_token_is_compared_in_constant_time(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert (await client.get("/metrics", headers=_bearer("wrong"))).status_code == 401
    assert (await client.get("/metrics", headers=_bearer(TOKEN))).status_code == 200
    assert sorted(compared) == sorted([(b"wrong", TOKEN.encode()), (TOKEN.encode(),) * 2])


def test_production_without_a_token_warns_at_start_that_metrics_are_public(
    caplog: pytest.LogCaptureFixture,
) -> None:
    production = {
        "SANTAP_ENV": "production",
        "MIDTRANS_SERVER_KEY": "SB-Mid-server-TESTKEY-3f9a1c7e5b2d4086",
    }
    with caplog.at_level(logging.WARNING):
        create_app(make_settings("sqlite:///unused.db", **production))
    assert "SANTAP_METRICS_TOKEN is not set: GET /metrics is public" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app(make_settings("sqlite:///unused.db", **production, SANTAP_METRICS_TOKEN=TOKEN))
        create_app(make_settings("sqlite:///unused.db"))  # development: open on purpose
    assert "/metrics" not in caplog.text
    assert TOKEN not in caplog.text
