"""The `santap` command. A failure the operator can fix is one line on stderr (startup.py)."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Annotated

import typer
from fastapi import FastAPI

from santap import migrate
from santap.config import SIMULATOR_KEY, Environment, Settings
from santap.db import create_engine, create_sessionmaker
from santap.menu import service as menu_service
from santap.observability.logging import configure_from_settings
from santap.payments import key_check
from santap.staff import cli as staff_cli
from santap.startup import CommandGroup, load_settings

app = typer.Typer(
    cls=CommandGroup,
    help="Santap: restaurant ordering with QRIS and cash payments.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(staff_cli.app, name="staff")
# The commands from before `santap staff`, kept for scripts and the README's story.
app.command("create-staff", help="Create a staff account (as `santap staff create`).")(
    staff_cli.create
)
app.command("deactivate-staff", help="Deactivate a staff account (as `santap staff deactivate`).")(
    staff_cli.deactivate
)
# `santap serve --host` values that bind every interface: the links still need an address.
_EVERY_INTERFACE = ("0.0.0.0", "::", "")


@app.callback()
def options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a failure's full traceback, not one line")
    ] = False,
) -> None:
    # Read by startup.CommandGroup when a command fails.
    del debug


async def _seed(settings: Settings) -> int:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            added = await menu_service.seed_demo_menu(session)
            await session.commit()
            return added
    finally:
        await engine.dispose()


async def _menu_is_empty(settings: Settings) -> bool:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            return await menu_service.menu_is_empty(session)
    finally:
        await engine.dispose()


async def _schema_is_current(settings: Settings) -> bool:
    engine = create_engine(settings)
    try:
        return await migrate.current_revision(engine) == migrate.head_revision(settings)
    finally:
        await engine.dispose()


def _prepare_database(settings: Settings) -> None:
    """SQLite is migrated here, PostgreSQL must be already. Connecting before uvicorn also means
    a database that is missing or down is one line (startup.py), not a lifespan traceback."""
    if settings.is_sqlite:
        migrate.upgrade(settings)
    elif not asyncio.run(_schema_is_current(settings)):
        typer.echo(
            "The database schema is not up to date. Run `santap db upgrade` first.", err=True
        )
        raise typer.Exit(code=1)
    if not asyncio.run(_menu_is_empty(settings)):
        return
    # The demo menu is for trying Santap out; a shop in production sets up its own.
    if settings.is_sqlite and settings.env is not Environment.PRODUCTION:
        asyncio.run(_seed(settings))
        typer.echo("Seeded the demo menu.")
        return
    typer.echo(
        "The menu is empty: add dishes at /admin/menu, or load the demo menu with "
        "`santap seed-demo`."
    )


def _warn_about_loopback_links(settings: Settings, host: str, port: int) -> None:
    """Bound to every interface with links derived as 127.0.0.1: a phone would open itself."""
    links = "table QR cards"
    if settings.simulator_mode:
        links += ", the simulator's payment page"
    typer.echo(
        f"Warning: --host {host} without SANTAP_PUBLIC_BASE_URL: links ({links}) point at "
        "127.0.0.1, which phones on the shop's Wi-Fi cannot open; set "
        f"SANTAP_PUBLIC_BASE_URL=http://<this machine's LAN address>:{port}",
        err=True,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply database migrations."""
    migrate.upgrade(load_settings(), revision)
    typer.echo("Database is up to date.")


@app.command("seed-demo")
def seed_demo() -> None:
    """Add the Indonesian demo menu (idempotent)."""
    added = asyncio.run(_seed(load_settings()))
    typer.echo(f"Demo menu ready ({added} items added).")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Worker processes; more than one needs MIDTRANS_SERVER_KEY (a real gateway)"
        ),
    ] = 1,
) -> None:
    """Run the API server. On SQLite the schema and demo menu are prepared automatically."""
    import uvicorn

    from santap.main import create_app

    settings = load_settings()
    if workers > 1 and settings.simulator_mode:
        # Each worker would get its own in-memory simulator, unaware of the others' payments.
        typer.echo(
            "--workers above 1 needs MIDTRANS_SERVER_KEY: the built-in simulator lives in one "
            "process. Run `santap simulator` and point MIDTRANS_*_BASE_URL at it instead.",
            err=True,
        )
        raise typer.Exit(code=2)
    _prepare_database(settings)
    if settings.public_base_url is None:
        visible = host
        if host in _EVERY_INTERFACE:
            _warn_about_loopback_links(settings, host, port)
            visible = "127.0.0.1"
        settings = settings.model_copy(update={"public_base_url": f"http://{visible}:{port}"})
    configure_from_settings(settings)
    # log_config=None: uvicorn's loggers propagate to our JSON handler; our middleware writes
    # the access line (with route template and request id), so uvicorn's own is off.
    log_level = settings.log_level.lower()
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_level=log_level,
            log_config=None,
            access_log=False,
            proxy_headers=False,  # who the client is, is TRUSTED_PROXIES' call (santap.net)
        )
        return
    # Workers are fresh (spawned) processes that build their settings from the environment,
    # so the one value derived here must travel through it.
    os.environ.setdefault("SANTAP_PUBLIC_BASE_URL", str(settings.public_base_url))
    uvicorn.run(
        "santap.cli:worker_app",
        factory=True,
        workers=workers,
        # uvicorn kills a worker that misses its 5 s ping; on a loaded machine a worker still
        # importing or busy with a burst misses it and is respawned over and over.
        timeout_worker_healthcheck=30,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


def worker_app() -> FastAPI:
    """The app of one ``--workers`` process: spawned fresh, it sets up its own logging."""
    from santap.main import create_app

    settings = Settings()
    configure_from_settings(settings)
    return create_app(settings)


async def _reconcile(settings: Settings) -> dict[str, int]:
    from santap.main import create_midtrans_client, payment_gateway
    from santap.payments.reconcile import reconcile_once

    engine = create_engine(settings)
    client = create_midtrans_client(settings, None)
    try:
        result = await reconcile_once(
            create_sessionmaker(engine),
            payment_gateway(settings, client),
            pending_min_age=timedelta(seconds=settings.reconcile_min_age_s),
        )
        return result.outcomes
    finally:
        await client.aclose()
        await engine.dispose()


@app.command()
def reconcile() -> None:
    """Ask Midtrans about stale pending attempts and apply stored notifications, once."""
    settings = load_settings()
    if settings.simulator_mode:
        typer.echo(
            "MIDTRANS_SERVER_KEY is not set: the simulator lives inside `santap serve`, "
            "so there is nothing to reconcile against from here.",
            err=True,
        )
        raise typer.Exit(code=1)
    outcomes = asyncio.run(_reconcile(settings))
    typer.echo(f"Reconciled: {outcomes or 'nothing to do'}")


@app.command("check-midtrans")
def check_midtrans() -> None:
    """Ask Midtrans whether it takes MIDTRANS_SERVER_KEY (a status request; moves no money)."""
    settings = load_settings()
    try:
        checked = asyncio.run(key_check.check_key(settings))
    except key_check.NoKey:
        typer.echo(
            "MIDTRANS_SERVER_KEY is not set: Santap runs its built-in simulator; set the key "
            "from Midtrans' dashboard (Settings → Access Keys) to check it.",
            err=True,
        )
        raise typer.Exit(code=2) from None
    typer.echo(checked.line())
    if checked.verdict is not key_check.Verdict.ACCEPTED:
        raise typer.Exit(code=1)


@app.command()
def simulator(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 9000,
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    notify_url: Annotated[
        str | None,
        typer.Option(
            help="Where to POST notifications (Santap's webhook URL); up to 3 comma-separated "
            "URLs each get every notification, like Midtrans' X-Override-Notification"
        ),
    ] = None,
    server_key: Annotated[
        str, typer.Option(help="Server key clients must use; notifications are signed with it")
    ] = SIMULATOR_KEY,
    time_factor: Annotated[float, typer.Option(help="Scale Midtrans' retry delays")] = 1.0,
) -> None:
    """Run the offline Midtrans simulator on its own."""
    from santap.simulator import run_standalone

    run_standalone(host, port, notify_url, server_key, time_factor=time_factor)
