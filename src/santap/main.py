"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from santap import __version__
from santap.config import Settings
from santap.db import create_engine, create_sessionmaker
from santap.errors import error_response, install_error_handlers
from santap.menu.endpoints import router as menu_router
from santap.orders.endpoints import router as orders_router

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Santap",
        version=__version__,
        summary="Restaurant ordering with QRIS (Midtrans) and cash payments",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(menu_router)
    app.include_router(orders_router)
    _add_probes(app)
    return app


def _add_probes(app: FastAPI) -> None:
    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"], responses={503: {"description": "Database unreachable"}})
    async def ready() -> JSONResponse:
        """The database answers."""
        try:
            async with app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            logger.warning("readiness check failed: database unreachable", exc_info=True)
            return error_response(503, "not_ready", "Database is not reachable")
        return JSONResponse({"status": "ready"})


def __getattr__(name: str) -> FastAPI:
    # `santap.main:app` for uvicorn, built on first access so importing the module is cheap.
    if name == "app":
        return create_app()
    raise AttributeError(name)
