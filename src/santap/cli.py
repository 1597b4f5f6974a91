"""The `santap` command."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Annotated

import typer
from fastapi import FastAPI
from pydantic import ValidationError

from santap import migrate
from santap.config import Settings
from santap.db import create_engine, create_sessionmaker
from santap.errors import SantapError
from santap.menu import service as menu_service
from santap.models import StaffRole
from santap.observability.logging import configure_from_settings
from santap.staff import cli as staff_cli

app = typer.Typer(
    help="Santap: restaurant ordering with QRIS and cash payments.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def load_settings() -> Settings:
    """Settings from the environment; a bad value ends the command with a readable message."""
    try:
        return Settings()
    except ValidationError as exc:
        # Never echo input values: they may hold the Midtrans server key.
        for error in exc.errors(include_input=False, include_url=False):
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            typer.echo(f"Configuration error: {field}: {error['msg']}", err=True)
        raise typer.Exit(code=2) from None


async def _seed(settings: Settings) -> int:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            added = await menu_service.seed_demo_menu(session)
            await session.commit()
            return added
    finally:
        await engine.dispose()


async def _prepare_sqlite(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            empty = await menu_service.menu_is_empty(session)
    finally:
        await engine.dispose()
    if empty:
        await _seed(settings)
        typer.echo("Seeded the demo menu.")


async def _schema_is_current(settings: Settings) -> bool:
    engine = create_engine(settings)
    try:
        return await migrate.current_revision(engine) == migrate.head_revision(settings)
    finally:
        await engine.dispose()


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
    if settings.public_base_url is None:
        visible = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        settings = settings.model_copy(update={"public_base_url": f"http://{visible}:{port}"})
    if settings.is_sqlite:
        migrate.upgrade(settings)
        asyncio.run(_prepare_sqlite(settings))
    elif not asyncio.run(_schema_is_current(settings)):
        typer.echo(
            "The database schema is not up to date. Run `santap db upgrade` first.", err=True
        )
        raise typer.Exit(code=1)
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


@app.command("create-staff")
def create_staff(
    username: Annotated[str, typer.Option(help="Login name (3-50 of a-z 0-9 . _ -)")],
    role: Annotated[StaffRole, typer.Option(help="admin or cashier")],
    password: Annotated[
        str | None,
        typer.Option(
            envvar="SANTAP_STAFF_PASSWORD",
            show_envvar=True,
            help="At least 8 characters. Prefer the environment variable or the prompt: "
            "a password on the command line is visible to other users of the machine.",
        ),
    ] = None,
) -> None:
    """Create a staff account (asks for the password when it is not given)."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        staff_id = asyncio.run(
            staff_cli.create_staff(load_settings(), username=username, password=password, role=role)
        )
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            typer.echo(f"Invalid {'.'.join(map(str, error['loc']))}: {error['msg']}", err=True)
        raise typer.Exit(code=2) from None
    except SantapError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Created {role} {username.strip().lower()!r} (id {staff_id}).")


@app.command("deactivate-staff")
def deactivate_staff(username: Annotated[str, typer.Option(help="Login name")]) -> None:
    """Deactivate a staff account; its live tokens stop working at once."""
    try:
        asyncio.run(staff_cli.deactivate_staff(load_settings(), username=username))
    except SantapError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Deactivated {username.strip().lower()!r}.")


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
    ] = "SB-Mid-server-SANTAP-SIMULATOR",
    time_factor: Annotated[float, typer.Option(help="Scale Midtrans' retry delays")] = 1.0,
) -> None:
    """Run the offline Midtrans simulator on its own."""
    from santap.simulator import run_standalone

    run_standalone(host, port, notify_url, server_key, time_factor=time_factor)
