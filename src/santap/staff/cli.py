"""`santap staff ...`: staff accounts from the command line. Each change is audited with the
actor "cli"; `create` and `deactivate` are also the older `santap create-staff` and
`santap deactivate-staff`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from santap.config import Settings
from santap.db import create_engine, create_sessionmaker
from santap.localtime import LOCAL_TZ
from santap.models import Staff, StaffRole
from santap.staff import service
from santap.staff.schemas import StaffCreate, StaffPasswordReset
from santap.startup import CONFIGURATION, load_settings

CLI_ACTOR = "cli"

app = typer.Typer(help="Staff accounts.", no_args_is_help=True)

Username = Annotated[str, typer.Option(help="Login name")]
Password = Annotated[
    str | None,
    typer.Option(
        envvar="SANTAP_STAFF_PASSWORD",
        show_envvar=True,
        help="At least 8 characters. Prefer the environment variable or the prompt: "
        "a password on the command line is visible to other users of the machine.",
    ),
]


@app.command("list")
def list_accounts() -> None:
    """Every staff account: username, role, whether active, when created (no password)."""
    accounts = asyncio.run(_list(load_settings()))
    if not accounts:
        typer.echo("No staff accounts yet: add one with `santap staff create`.")
        return
    rows = [("username", "role", "active", "created")]
    rows += [
        (
            staff.username,
            staff.role,
            "yes" if staff.is_active else "no",
            staff.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M WIB"),
        )
        for staff in accounts
    ]
    name, role, active = (max(len(row[column]) for row in rows) for column in range(3))
    for row in rows:
        typer.echo(f"{row[0]:{name}}  {row[1]:{role}}  {row[2]:{active}}  {row[3]}")


@app.command("create")
def create(
    username: Annotated[str, typer.Option(help="Login name (3-50 of a-z 0-9 . _ -)")],
    role: Annotated[StaffRole, typer.Option(help="admin or cashier")],
    password: Password = None,
) -> None:
    """Create a staff account (asks for the password when it is not given)."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _valid_input():
        data = StaffCreate(username=username, password=password, role=role)
    staff_id = asyncio.run(_create(load_settings(), data))
    typer.echo(f"Created {role} {data.username!r} (id {staff_id}).")


@app.command("deactivate")
def deactivate(username: Username) -> None:
    """Deactivate a staff account; its live tokens stop working at once."""
    asyncio.run(_set_active(load_settings(), username=username, active=False))
    typer.echo(f"Deactivated {_shown(username)}.")


@app.command("reactivate")
def reactivate(username: Username) -> None:
    """Let a deactivated staff account log in again."""
    asyncio.run(_set_active(load_settings(), username=username, active=True))
    typer.echo(f"Reactivated {_shown(username)}.")


@app.command("reset-password")
def reset_password(username: Username, password: Password = None) -> None:
    """Give a staff account a new password (asks for it when it is not given)."""
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _valid_input():
        data = StaffPasswordReset(password=password)
    asyncio.run(_reset_password(load_settings(), username=username, data=data))
    typer.echo(f"New password set for {_shown(username)}.")


@contextmanager
def _valid_input() -> Iterator[None]:
    try:
        yield
    except ValidationError as exc:
        problems = [
            f"Invalid {'.'.join(map(str, error['loc']))}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        ]
        typer.echo("; ".join(problems), err=True)
        raise typer.Exit(code=CONFIGURATION) from None


def _shown(username: str) -> str:
    return repr(username.strip().lower())


async def _list(settings: Settings) -> Sequence[Staff]:
    async with _session(settings) as session:
        return await service.list_staff(session)


async def _create(settings: Settings, data: StaffCreate) -> int:
    async with _session(settings) as session:
        staff = await service.create_staff(session, data=data, actor=CLI_ACTOR)
        await session.commit()
        return staff.id


async def _set_active(settings: Settings, *, username: str, active: bool) -> None:
    async with _session(settings) as session:
        if active:
            await service.reactivate_staff(session, username=username, actor=CLI_ACTOR)
        else:
            await service.deactivate_staff(session, username=username, actor=CLI_ACTOR)
        await session.commit()


async def _reset_password(settings: Settings, *, username: str, data: StaffPasswordReset) -> None:
    async with _session(settings) as session:
        await service.reset_password(session, username=username, data=data, actor=CLI_ACTOR)
        await session.commit()


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()
