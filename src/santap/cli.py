"""The `santap` command."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer
from pydantic import ValidationError

from santap import migrate
from santap.config import Settings
from santap.db import create_engine, create_sessionmaker
from santap.menu import service as menu_service

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
) -> None:
    """Run the API server. On SQLite the schema and demo menu are prepared automatically."""
    import uvicorn

    from santap.main import create_app

    settings = load_settings()
    if settings.is_sqlite:
        migrate.upgrade(settings)
        asyncio.run(_prepare_sqlite(settings))
    elif not asyncio.run(_schema_is_current(settings)):
        typer.echo(
            "The database schema is not up to date. Run `santap db upgrade` first.", err=True
        )
        raise typer.Exit(code=1)
    logging.basicConfig(level=settings.log_level)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower())
