"""/docs is served from the app's own files: the page names no other host, and its assets
answer from the app."""

from __future__ import annotations

import re

import httpx


async def test_the_docs_page_loads_swagger_ui_from_the_app_itself(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert sorted(sources) == [
        "/docs/assets/favicon-32x32.png",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
    ]
    assert "'/openapi.json'" in page.text
    for source, kind in zip(sorted(sources), ("image/png", "javascript", "text/css"), strict=True):
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert kind in asset.headers["content-type"], source


async def test_redoc_is_off(client: httpx.AsyncClient) -> None:
    assert (await client.get("/redoc")).status_code == 404
