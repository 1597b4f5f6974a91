"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from santap import __version__
from santap.apidocs import install_api_docs
from santap.audit.endpoints import router as audit_router
from santap.board.endpoints import router as board_router
from santap.bodylimit import install_body_limit
from santap.config import Settings
from santap.cors import install_cors
from santap.db import READ_ONLY, autocommit, create_engine, create_sessionmaker
from santap.errors import document_undecodable_body, error_response, install_error_handlers
from santap.events.endpoints import router as events_router
from santap.events.hub import Hub
from santap.events.repository import CHANNEL as EVENTS_CHANNEL
from santap.events.shutdown import close_streams_on_server_exit
from santap.gateways.midtrans import MidtransClient
from santap.inprocess import InProcessTransport
from santap.listen import listen
from santap.menu.endpoints import admin_router as menu_admin_router
from santap.menu.endpoints import router as menu_router
from santap.observability.install import install_observability
from santap.observability.service import inbox_backlog
from santap.openapi import install_error_documentation
from santap.orders.endpoints import router as orders_router
from santap.payments.applier import Applier
from santap.payments.endpoints import router as payments_router
from santap.payments.endpoints import webhook_router
from santap.payments.gateway import PaymentGateway
from santap.payments.reconcile import start_reconciler, stop_reconciler
from santap.payments.repository import INBOX_CHANNEL
from santap.reports.endpoints import router as reports_router
from santap.runtime import freeze_startup_heap
from santap.simulator import Simulator, create_simulator
from santap.staff.endpoints import router as auth_router
from santap.supervise import Supervised
from santap.web import admin as owner
from santap.web import money
from santap.web import staff as console
from santap.web.customer import router as customer_router

logger = logging.getLogger(__name__)

SIMULATOR_PATH = "/_simulator"
# The event hub's own connections (sequencing, reading, a stream's replay), apart from the
# requests' pool so that streams never wait for, nor hold, a request's connection.
EVENTS_POOL_SIZE = 3
# Not a secret: the built-in simulator signs with it, and no real money can move through it.
SIMULATOR_SERVER_KEY = "SB-Mid-server-SANTAP-SIMULATOR"


def create_app(settings: Settings | None = None, *, in_process_simulator: bool = False) -> FastAPI:
    """Build the app. ``in_process_simulator`` routes gateway and simulator traffic through the
    app itself instead of the network (tests; the URLs handed out stay the same)."""
    settings = settings or Settings()
    simulator = _create_simulator(settings) if settings.simulator_mode else None
    if not settings.midtrans_verify_status:
        logger.warning(
            "MIDTRANS_VERIFY_STATUS is off: notifications are acted on as received, and their "
            "signature covers only order_id, status_code and gross_amount"
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.read_sessionmaker = create_sessionmaker(engine, read_only=True)
        transport = InProcessTransport(app=app) if in_process_simulator else None
        if simulator is not None and transport is not None:
            simulator.use_http_client(httpx.AsyncClient(transport=transport))
        client = create_midtrans_client(settings, transport)
        app.state.payment_gateway = payment_gateway(settings, client)
        reconciler = start_reconciler(
            app.state.sessionmaker,
            app.state.payment_gateway,
            settings.reconcile_interval_s,
            pending_min_age=timedelta(seconds=settings.reconcile_min_age_s),
        )
        app.state.autocommit_engine = autocommit(engine)
        events_engine = create_engine(settings, pool_size=EVENTS_POOL_SIZE)
        app.state.hub = Hub(
            events_engine,
            writes_on=engine,
            max_streams=settings.max_streams,
            poll_s=_events_poll_s(engine),
        )
        app.state.event_reader = app.state.hub.reader
        close_streams_on_server_exit(app.state.hub)
        background = _start_background(app, settings)
        if settings.gc_freeze:
            freeze_startup_heap()
        try:
            yield
        finally:
            app.state.hub.close_streams()
            for task in reversed(background):
                await task.stop()
            await stop_reconciler(reconciler)
            await client.aclose()
            if simulator is not None:
                await simulator.aclose()
            await engine.dispose()
            await events_engine.dispose()

    app = FastAPI(
        title="Santap",
        version=__version__,
        summary="Restaurant ordering with QRIS (Midtrans) and cash payments",
        lifespan=lifespan,
        # /docs is served from local files (santap.apidocs), never a CDN; no ReDoc.
        docs_url=None,
        redoc_url=None,
        # Santap exports its own Prometheus metrics and JSON logs. FastAPI's built-in
        # OpenTelemetry asked for the global providers on every request (2% of a webhook's
        # CPU) to find none configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.simulator = simulator
    if simulator is not None:
        app.mount(SIMULATOR_PATH, simulator.app)
    install_error_handlers(app)
    install_body_limit(app, settings)  # inside observability: 413s are logged and counted
    install_cors(app, settings)  # inside observability too: preflights are logged
    install_observability(app, settings)
    for router in (
        webhook_router,
        events_router,
        menu_router,
        orders_router,
        auth_router,
        board_router,
        menu_admin_router,
        audit_router,
        payments_router,
        reports_router,
        customer_router,
        console.router,
        owner.router,
        money.router,
    ):
        _summaries_from_docstrings(router.routes)
        document_undecodable_body(router.routes)
        app.include_router(router)
    console.install(app)
    owner.install(app)
    app.mount("/static", StaticFiles(packages=[("santap.web", "static")]), name="static")
    install_api_docs(app)
    _add_probes(app)
    _summaries_from_docstrings(app.routes)
    install_error_documentation(app)
    return app


def _start_background(app: FastAPI, settings: Settings) -> list[Supervised]:
    """The applier, and on PostgreSQL the listener that wakes it for other processes."""
    applier = Applier(
        app.state.sessionmaker, app.state.payment_gateway, sweep_s=settings.applier_sweep_s
    )
    app.state.applier = applier
    tasks: list[Supervised] = []
    app.state.background = tasks
    hub: Hub = app.state.hub
    tasks.append(Supervised("events", hub.run, request_stop=hub.close_streams).start())
    if settings.applier:
        tasks.append(Supervised("applier", applier.run, request_stop=applier.request_stop).start())
    engine: AsyncEngine = app.state.engine
    if engine.dialect.name == "postgresql":
        channels = {EVENTS_CHANNEL: hub.wake}
        if settings.applier:
            channels[INBOX_CHANNEL] = applier.wake

        def connected() -> None:
            # After a (re)connection: catch up on whatever was committed meanwhile.
            for wake in channels.values():
                wake()

        async def listener() -> None:
            await listen(engine, channels, on_connect=connected)

        tasks.append(Supervised("listener", listener).start())
    return tasks


def _events_poll_s(engine: AsyncEngine) -> float:
    """The hub's safety-net look: PostgreSQL's NOTIFY wakes it, and so do this process's
    commits on SQLite; a periodic look covers a notification lost with its connection."""
    return 5.0 if engine.dialect.name == "postgresql" else 1.0


def _summaries_from_docstrings(routes: Sequence[BaseRoute]) -> None:
    """An endpoint's one-line docstring is its OpenAPI summary."""
    for route in routes:
        if isinstance(route, APIRoute) and route.summary is None and route.description:
            route.summary = route.description.strip().splitlines()[0].rstrip(".")


def _public_base_url(settings: Settings) -> str:
    return (settings.public_base_url or "http://127.0.0.1:8000").rstrip("/")


def _create_simulator(settings: Settings) -> Simulator:
    base = _public_base_url(settings)
    logger.warning(
        "SIMULATOR mode: MIDTRANS_SERVER_KEY is not set, so Midtrans is simulated at %s%s "
        "and no real payment can happen",
        base,
        SIMULATOR_PATH,
    )
    return create_simulator(
        server_key=SIMULATOR_SERVER_KEY,
        notify_url=f"{base}/api/v1/webhooks/midtrans",
        public_base_url=f"{base}{SIMULATOR_PATH}",
    )


def _server_key(settings: Settings) -> str:
    if settings.midtrans_server_key is None:
        return SIMULATOR_SERVER_KEY
    return settings.midtrans_server_key.get_secret_value()


def create_midtrans_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> MidtransClient:
    if settings.simulator_mode:
        base = f"{_public_base_url(settings)}{SIMULATOR_PATH}"
        snap_base, core_base = base, base
    else:
        snap_base, core_base = settings.snap_base_url, settings.core_base_url
    return MidtransClient.from_settings(
        settings,
        server_key=_server_key(settings),
        snap_base_url=snap_base,
        core_base_url=core_base,
        transport=transport,
    )


def payment_gateway(settings: Settings, client: MidtransClient) -> PaymentGateway:
    return PaymentGateway(
        client=client,
        qris_mode=settings.midtrans_qris_mode,
        expiry_minutes=settings.midtrans_qris_expiry_minutes,
        verify_status=settings.midtrans_verify_status,
        server_key=_server_key(settings),
        create_timeout_s=settings.midtrans_connect_timeout_s + settings.midtrans_read_timeout_s + 5,
        # Only the background applier waits for a status check now: as long as Midtrans takes.
        verify_timeout_s=settings.midtrans_connect_timeout_s + settings.midtrans_read_timeout_s,
    )


def _add_probes(app: FastAPI) -> None:
    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["ops"],
        responses={503: {"description": "Database unreachable, or notifications piling up"}},
    )
    async def ready() -> JSONResponse:
        """The database answers, the background tasks run, and notifications are applied."""
        try:
            probe = app.state.engine.execution_options(**{READ_ONLY: True})
            async with probe.connect() as conn:
                await conn.execute(text("SELECT 1"))
            backlog = await inbox_backlog(app.state.read_sessionmaker)
        except Exception:
            logger.warning("readiness check failed: database unreachable", exc_info=True)
            return error_response(503, "not_ready", "Database is not reachable")
        tasks = {task.name: task.running for task in getattr(app.state, "background", [])}
        details = {"inbox": backlog.as_dict(), "background_tasks": tasks}
        limit = app.state.settings.ready_max_stale_inbox
        if backlog.stale > limit:
            logger.warning(
                "readiness check failed: %d stale unapplied notifications", backlog.stale
            )
            return error_response(
                503,
                "not_ready",
                "Notifications are piling up unapplied for over 5 minutes",
                details={"stale_unapplied_notifications": backlog.stale, "max": limit, **details},
            )
        if not all(tasks.values()):
            return error_response(
                503, "not_ready", "A background task is not running", details=details
            )
        return JSONResponse({"status": "ready", **details})


def __getattr__(name: str) -> FastAPI:
    # `santap.main:app` for uvicorn, built on first access so importing the module is cheap.
    if name == "app":
        return create_app()
    raise AttributeError(name)
