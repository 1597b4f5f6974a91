"""``/docs``: Swagger UI served by the app itself, so it works on a shop network without
internet. Its files come from the pinned ``fastapi-swagger`` package (swagger-ui's own
``dist`` build); FastAPI's default page would load them from a CDN. ReDoc is off: one
interactive page is enough, and it would need its own copy."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
# The package that ships swagger-ui's bundle, stylesheet and favicon, and their folder in it.
ASSETS_PACKAGE = ("fastapi_swagger", "resources")


def install_api_docs(app: FastAPI) -> None:
    """Needs ``FastAPI(docs_url=None, redoc_url=None)``: this replaces FastAPI's own page."""
    app.mount(ASSETS_PATH, StaticFiles(packages=[ASSETS_PACKAGE]), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        # Relative to the path the app is served under, as FastAPI's own page does.
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
        )
