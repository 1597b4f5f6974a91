"""Why a `santap` command cannot go on, said in one line: what is wrong and what to do.

A failure the operator can fix ends the command with one line on stderr and exit code 2 when
Santap's own configuration is wrong (a setting, DATABASE_URL's form), or 1 when something
outside it says no (the database is missing, down or not migrated; a taken username).
``santap --debug <command>`` shows the traceback instead. Anything else is a bug and keeps its
traceback. No line repeats DATABASE_URL: it may hold the database password.
"""

from __future__ import annotations

import shlex
import socket
import sqlite3
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from typer.core import TyperGroup

from santap.config import ConfigError, Settings, sqlite_path
from santap.errors import SantapError

CONFIGURATION = 2
REFUSED = 1
# The running command's DATABASE_URL, once its settings are loaded.
_database_url: ContextVar[str | None] = ContextVar("database_url", default=None)


@dataclass(frozen=True)
class Failure:
    message: str
    exit_code: int


class CommandGroup(TyperGroup):
    """The `santap` group: a failure that `explain` knows ends the command in one line."""

    # Typed Any: typer vendors click privately, and its Context base class is not public.
    def invoke(self, ctx: Any) -> Any:
        token = _database_url.set(None)
        try:
            return super().invoke(ctx)
        except Exception as exc:
            failure = None if ctx.params.get("debug") else explain(exc, _database_url.get())
            if failure is None:
                raise
            typer.echo(failure.message, err=True)
            raise typer.Exit(failure.exit_code) from None
        finally:
            _database_url.reset(token)


def load_settings() -> Settings:
    """Settings from the environment, remembered so that a failure later in the command can
    say which database it concerns."""
    settings = Settings()
    _database_url.set(settings.database_url)
    return settings


def explain(exc: BaseException, database_url: str | None) -> Failure | None:
    """The one line for a failure the operator can fix; None for anything else."""
    if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
        return Failure(f"Configuration error: {_settings_problems(exc)}", CONFIGURATION)
    if isinstance(exc, ConfigError):
        return Failure(f"Configuration error: {exc}", CONFIGURATION)
    if isinstance(exc, SantapError):
        return Failure(exc.message, REFUSED)
    url = _parsed(database_url)
    if url is None:
        return None
    if url.get_backend_name() == "sqlite":
        message = _sqlite_problem(exc, str(database_url))
    else:
        message = _postgres_problem(exc, url)
    return None if message is None else Failure(message, REFUSED)


def _settings_problems(exc: ValidationError) -> str:
    # Never the input values (hide_input_in_errors): they may hold the Midtrans server key.
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{field}: {message}" if field else message)
    return "; ".join(problems)


def _parsed(database_url: str | None) -> URL | None:
    if database_url is None:
        return None
    try:
        return make_url(database_url)
    except ArgumentError:
        return None


def _postgres_problem(exc: BaseException, url: URL) -> str | None:
    at = f"{url.host or 'localhost'}:{url.port or 5432}"
    # asyncpg raises these itself while connecting, past SQLAlchemy's wrapper.
    if isinstance(exc, socket.gaierror):
        return f"cannot connect to PostgreSQL at {at} (host not found): check DATABASE_URL's host"
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot connect to PostgreSQL at {at} (connection refused): is it running?"
    if isinstance(exc, TimeoutError):
        return f"cannot connect to PostgreSQL at {at} (timed out): check DATABASE_URL's host"
    if isinstance(exc, ConnectionError):
        return f"cannot connect to PostgreSQL at {at} ({exc.strerror or exc})"
    if not isinstance(exc, DBAPIError):
        return None
    state = str(getattr(exc.orig, "sqlstate", ""))
    said = str(exc.orig)  # the server's words, e.g. role "x" does not exist
    if state == "3D000":
        return f'database "{url.database}" does not exist on {at}: create it with {_createdb(url)}'
    if state in ("28000", "28P01"):
        return f"PostgreSQL at {at} refused the login ({said}): check DATABASE_URL's user"
    if state == "42P01":
        return f"database {url.database} on {at} has no Santap tables: run `santap db upgrade`"
    if state.startswith("08") or state in ("53300", "57P03"):
        return f"PostgreSQL at {at} refused the connection ({said})"
    return None


def _createdb(url: URL) -> str:
    command = ["createdb"]
    if url.host:
        command += ["-h", url.host]
    if url.port and url.port != 5432:
        command += ["-p", str(url.port)]
    if url.username:
        command += ["-U", url.username]
    return shlex.join([*command, url.database or ""])


def _sqlite_problem(exc: BaseException, database_url: str) -> str | None:
    driver = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(driver, sqlite3.Error):
        return None
    path = sqlite_path(database_url) or "in memory"
    said = str(driver)
    if said == "unable to open database file":
        return f"cannot open the SQLite database {path}: is its folder there, and writable?"
    if said.startswith("no such table"):
        return f"the SQLite database {path} has no Santap tables: run `santap db upgrade`"
    return None
