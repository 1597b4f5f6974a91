"""A failure the operator can fix is one line on stderr, whatever the command; `--debug` shows
the traceback; DATABASE_URL's password never shows."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from santap import cli, startup
from santap.menu import service as menu_service
from tests.fixtures.database import _worker_database
from tests.fixtures.server import BIN

runner = CliRunner()
PASSWORD = "hunter2-h1"
# Every command that reads the database, as an operator would type it.
COMMANDS = [
    ["serve"],
    ["db", "upgrade"],
    ["seed-demo"],
    ["reconcile"],
    ["staff", "list"],
    ["staff", "create", "--username", "budi", "--role", "admin"],
    ["staff", "deactivate", "--username", "budi"],
    ["staff", "reactivate", "--username", "budi"],
    ["staff", "reset-password", "--username", "budi"],
    ["create-staff", "--username", "budi", "--role", "admin"],
    ["deactivate-staff", "--username", "budi"],
]
IDS = [" ".join(command[:2]) for command in COMMANDS]


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("SANTAP_", "MIDTRANS_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not serve"))
    return tmp_path


def _env(database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SANTAP_ENV": "test",
        # A (never called) Midtrans, so that `reconcile` goes as far as the database.
        "MIDTRANS_SERVER_KEY": "SB-Mid-server-startup-test",
        "MIDTRANS_CORE_BASE_URL": "http://127.0.0.1:9",
        "SANTAP_STAFF_PASSWORD": "sambal-matah-99",
    }


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_postgresql_refusing_connections_is_one_line(command: list[str]) -> None:
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/santap"
    result = runner.invoke(cli.app, command, env=_env(url))
    assert result.stderr == (
        "cannot connect to PostgreSQL at 127.0.0.1:1 (connection refused): is it running?\n"
    )
    assert result.exit_code == 1
    assert PASSWORD not in result.output


@pytest.mark.postgresql_only
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_a_missing_postgresql_database_is_one_line_saying_how_to_create_it(
    command: list[str], database_url: str
) -> None:
    server = make_url(database_url)
    missing = server.set(database="santap_h1_missing", password=PASSWORD)
    result = runner.invoke(
        cli.app, command, env=_env(missing.render_as_string(hide_password=False))
    )
    at = f"{server.host}:{server.port or 5432}"
    port = f" -p {server.port}" if server.port not in (None, 5432) else ""
    assert result.stderr == (
        f'database "santap_h1_missing" does not exist on {at}: create it with '
        f"createdb -h {server.host}{port} -U {server.username} santap_h1_missing\n"
    )
    assert result.exit_code == 1
    assert PASSWORD not in result.output


@pytest.mark.postgresql_only
def test_an_unmigrated_postgresql_database_says_to_run_db_upgrade(database_url: str) -> None:
    """`serve` checks the schema version itself (tests/test_cli.py); the others meet no table."""
    empty = asyncio.run(_worker_database(database_url, "unmigrated"))
    result = runner.invoke(cli.app, ["staff", "list"], env=_env(empty))
    url = make_url(empty)
    assert result.stderr == (
        f"database {url.database} on {url.host}:{url.port or 5432} has no Santap tables: "
        "run `santap db upgrade`\n"
    )
    assert result.exit_code == 1


@pytest.mark.postgresql_only
def test_a_login_postgresql_refuses_is_one_line(database_url: str) -> None:
    server = make_url(database_url)
    nobody = server.set(username="santap_h1_nobody", password=PASSWORD)
    result = runner.invoke(
        cli.app, ["seed-demo"], env=_env(nobody.render_as_string(hide_password=False))
    )
    assert result.stderr == (
        f"PostgreSQL at {server.host}:{server.port or 5432} refused the login (role "
        '"santap_h1_nobody" does not exist): check DATABASE_URL\'s user\n'
    )
    assert result.exit_code == 1
    assert PASSWORD not in result.output


def test_an_unknown_postgresql_host_is_one_line() -> None:
    url = f"postgresql://postgres:{PASSWORD}@santap-h1.invalid:5432/santap"
    result = runner.invoke(cli.app, ["db", "upgrade"], env=_env(url))
    assert result.stderr == (
        "cannot connect to PostgreSQL at santap-h1.invalid:5432 (host not found): "
        "check DATABASE_URL's host\n"
    )
    assert result.exit_code == 1


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (
            TimeoutError(),
            "cannot connect to PostgreSQL at db:6432 (timed out): check DATABASE_URL's host",
        ),
        (
            ConnectionError('PostgreSQL server at "db:6432" rejected SSL upgrade'),
            'cannot connect to PostgreSQL at db:6432 (PostgreSQL server at "db:6432" rejected '
            "SSL upgrade)",
        ),
        (
            DBAPIError(None, None, _DriverError("sorry, too many clients already", "53300")),
            "PostgreSQL at db:6432 refused the connection (sorry, too many clients already)",
        ),
        (
            DBAPIError(None, None, _DriverError("the database system is starting up", "57P03")),
            "PostgreSQL at db:6432 refused the connection (the database system is starting up)",
        ),
    ],
)
def test_postgresql_connection_failures_that_are_hard_to_cause_here(
    failure: BaseException, message: str
) -> None:
    explained = startup.explain(failure, f"postgresql://shop:{PASSWORD}@db:6432/santap")
    assert explained == startup.Failure(message, 1)


def test_other_failures_are_not_explained_away() -> None:
    url = "postgresql://shop@db/santap"
    assert startup.explain(RuntimeError("a bug"), url) is None
    assert startup.explain(DBAPIError(None, None, _DriverError("x", "23505")), url) is None
    assert startup.explain(ConnectionRefusedError(), None) is None


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_an_unsupported_database_url_is_one_line(command: list[str]) -> None:
    result = runner.invoke(cli.app, command, env=_env(f"mysql://shop:{PASSWORD}@db/santap"))
    assert result.stderr == (
        "Configuration error: DATABASE_URL: unsupported scheme mysql; use sqlite:///file.db or "
        "postgresql://user@host/db\n"
    )
    assert result.exit_code == 2
    assert PASSWORD not in result.output


def test_sqlite_that_cannot_be_opened_or_is_not_migrated_is_one_line(workdir: Path) -> None:
    missing_folder = runner.invoke(cli.app, ["seed-demo"], env=_env("sqlite:///no/such/x.db"))
    assert missing_folder.stderr == (
        f"cannot open the SQLite database {workdir / 'no/such/x.db'}: is its folder there, "
        "and writable?\n"
    )
    assert missing_folder.exit_code == 1
    fresh = runner.invoke(cli.app, ["seed-demo"], env=_env("sqlite:///fresh.db"))
    assert fresh.stderr == (
        f"the SQLite database {workdir / 'fresh.db'} has no Santap tables: "
        "run `santap db upgrade`\n"
    )
    assert fresh.exit_code == 1


def test_invalid_settings_are_one_line_naming_each_setting() -> None:
    env = {**_env("sqlite:///santap.db"), "SANTAP_TABLES": "zero", "SANTAP_LOG_FORMAT": "xml"}
    result = runner.invoke(cli.app, ["seed-demo"], env=env)
    assert result.stderr == (
        "Configuration error: SANTAP_TABLES: Input should be a valid integer, unable to parse "
        "string as an integer; SANTAP_LOG_FORMAT: Input should be 'json' or 'text'\n"
    )
    assert result.exit_code == 2


def test_debug_shows_the_failure_itself() -> None:
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/santap"
    result = runner.invoke(cli.app, ["--debug", "seed-demo"], env=_env(url))
    assert isinstance(result.exception, ConnectionRefusedError)


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only failures the operator can fix are cut to one line."""

    async def broken(*_args: object) -> int:
        raise RuntimeError("a bug")

    assert runner.invoke(cli.app, ["db", "upgrade"], env=_env("sqlite:///s.db")).exit_code == 0
    monkeypatch.setattr(menu_service, "seed_demo_menu", broken)
    result = runner.invoke(cli.app, ["seed-demo"], env=_env("sqlite:///s.db"))
    assert isinstance(result.exception, RuntimeError)


def test_the_installed_command_prints_one_line_or_with_debug_the_traceback(
    workdir: Path,
) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SANTAP_", "MIDTRANS_")) and name != "DATABASE_URL"
    }
    env["DATABASE_URL"] = f"mysql://shop:{PASSWORD}@db/santap"
    plain = subprocess.run(
        [str(BIN / "santap"), "seed-demo"], env=env, capture_output=True, text=True, check=False
    )
    assert plain.returncode == 2
    assert plain.stderr.count("\n") == 1
    assert plain.stderr.startswith("Configuration error: DATABASE_URL: unsupported scheme mysql")
    debug = subprocess.run(
        [str(BIN / "santap"), "--debug", "seed-demo"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr
    assert "ConfigError" in debug.stderr
    assert PASSWORD not in plain.stderr + debug.stderr
