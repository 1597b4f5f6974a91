from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from santap.config import Settings
from santap.errors import install_error_handlers


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200


async def test_ready_is_503_when_the_database_is_gone(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    real = app.state.engine
    app.state.engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        response = await client.get("/ready")
    finally:
        await app.state.engine.dispose()
        app.state.engine = real
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_ready"
    assert (await client.get("/health")).status_code == 200


async def test_unknown_route_and_method_use_the_error_shape(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"code": "not_found", "message": "Not Found", "details": None}
    }
    wrong_method = await client.delete("/api/v1/menu")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"


async def test_unexpected_errors_are_a_500_without_a_traceback() -> None:
    # Its own app: the failing route must not join the shared app's route metrics.
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "Internal server error", "details": None}
    }
    assert "secret internals" not in response.text


async def test_without_a_midtrans_key_the_simulator_is_mounted_and_announced(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    from santap.main import create_app

    with caplog.at_level("WARNING"):
        app = create_app(settings)
    assert "SIMULATOR mode" in caplog.text
    assert "no real payment can happen" in caplog.text
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.post("/_simulator/v2/charge", json={})
    assert response.status_code == 401  # the simulator checks Midtrans' Basic auth


def test_turning_status_verification_off_is_announced(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from santap.main import create_app
    from tests.fixtures.database import make_settings

    with caplog.at_level("WARNING"):
        create_app(make_settings(database_url, MIDTRANS_VERIFY_STATUS=False))
    assert "MIDTRANS_VERIFY_STATUS is off" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        create_app(make_settings(database_url))
    assert "MIDTRANS_VERIFY_STATUS" not in caplog.text


async def test_with_a_midtrans_key_there_is_no_simulator(database_url: str) -> None:
    from santap.main import create_app
    from tests.fixtures.database import make_settings

    app = create_app(make_settings(database_url, MIDTRANS_SERVER_KEY="SB-Mid-server-real"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            assert (await http.post("/_simulator/v2/charge", json={})).status_code == 404


async def test_the_openapi_document_gives_every_error_the_one_error_shape(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    errors = [
        (path, method, status, response.get("content"))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status[0] in "45"
    ]
    assert ("/api/v1/orders", "post", "422") in {e[:3] for e in errors}
    shape = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    assert [e for e in errors if e[3] != shape] == []
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert document["components"]["schemas"]["ErrorResponse"]["required"] == ["error"]
