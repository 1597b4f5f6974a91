"""A web app on another origin may call the API from a browser only when it is named in
SANTAP_CORS_ORIGINS, and by its exact origin."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from santap.config import Settings

APP = "https://pesan.warung.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type, x-order-token",
}
ALLOWED = {"SANTAP_CORS_ORIGINS": f"{APP}/, http://localhost:5173"}


async def test_without_the_setting_no_origin_is_allowed(client: httpx.AsyncClient) -> None:
    preflight = await client.options("/api/v1/orders", headers={"Origin": APP, **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers
    menu = await client.get("/api/v1/menu", headers={"Origin": APP})
    assert menu.status_code == 200
    assert "access-control-allow-origin" not in menu.headers


@pytest.mark.parametrize("settings_overrides", [ALLOWED])
async def test_a_named_origin_passes_the_preflight_and_reads_the_answer(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    preflight = await client.options("/api/v1/orders", headers={"Origin": APP, **PREFLIGHT})
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == APP
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "x-order-token" in allowed
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in preflight.headers  # tokens, not cookies

    order = await client.post(
        "/api/v1/orders",
        json={"items": [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 1}]},
        headers={"Origin": APP},
    )
    assert order.status_code == 201, order.text
    assert order.headers["access-control-allow-origin"] == APP
    assert "x-request-id" in order.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("settings_overrides", [ALLOWED])
async def test_any_other_origin_is_refused(client: httpx.AsyncClient) -> None:
    other = "https://pesan.warung.example.evil.test"
    preflight = await client.options("/api/v1/orders", headers={"Origin": other, **PREFLIGHT})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    menu = await client.get("/api/v1/menu", headers={"Origin": other})
    assert "access-control-allow-origin" not in menu.headers  # the browser hides the answer


@pytest.mark.parametrize("origins", ["*", "https://app.example/path", "app.example", "ftp://x"])
def test_only_exact_origins_are_accepted(origins: str) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, SANTAP_CORS_ORIGINS=origins)  # type: ignore[call-arg]
