from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from santap import cli, migrate
from santap.db import create_engine
from tests.fixtures.database import _worker_database, make_settings
from tests.fixtures.server import served

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("SANTAP_", "MIDTRANS_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("SANTAP_ENV", "test")
    return tmp_path


def test_db_upgrade_and_seed_demo_are_idempotent(workdir: Path) -> None:
    url = f"sqlite:///{workdir / 'cli.db'}"
    env = {"DATABASE_URL": url}
    assert runner.invoke(cli.app, ["db", "upgrade"], env=env).exit_code == 0
    first = runner.invoke(cli.app, ["seed-demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "7 items added" in first.output
    again = runner.invoke(cli.app, ["seed-demo"], env=env)
    assert "0 items added" in again.output


def test_serve_prepares_a_fresh_sqlite_database(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, object] = {}

    def fake_run(app: object, **kwargs: object) -> None:
        served.update(kwargs, app=app)

    monkeypatch.setattr("uvicorn.run", fake_run)
    result = runner.invoke(cli.app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert (workdir / "santap.db").exists()
    assert "Seeded the demo menu" in result.output
    assert served["port"] == 8123
    assert served["host"] == "127.0.0.1"
    settings = make_settings(f"sqlite:///{workdir / 'santap.db'}")
    assert asyncio.run(_revision(settings)) == migrate.head_revision(settings)


async def _revision(settings: object) -> str | None:
    engine = create_engine(settings)  # type: ignore[arg-type]
    try:
        return await migrate.current_revision(engine)
    finally:
        await engine.dispose()


def test_serve_refuses_an_unmigrated_postgres_and_says_what_to_run(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not serve"))
    monkeypatch.setattr(cli, "_schema_is_current", _not_current)
    result = runner.invoke(
        cli.app, ["serve"], env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/none"}
    )
    assert result.exit_code == 1
    assert "santap db upgrade" in result.output


async def _not_current(_settings: object) -> bool:
    return False


def test_bad_configuration_is_a_clean_message_without_secrets(workdir: Path) -> None:
    result = runner.invoke(
        cli.app,
        ["seed-demo"],
        env={"MIDTRANS_SERVER_KEY": "Mid-server-topsecret", "MIDTRANS_IS_PRODUCTION": "false"},
    )
    assert result.exit_code == 2
    assert "Configuration error" in result.output
    assert "topsecret" not in result.output


def test_production_without_a_midtrans_key_refuses_to_start(workdir: Path) -> None:
    """Rather than fall back to the simulator, whose payer page would mark orders paid."""
    result = runner.invoke(
        cli.app, ["seed-demo"], env={"SANTAP_ENV": "production", "SANTAP_SECRET_KEY": "k" * 40}
    )
    assert result.exit_code == 2
    assert "SANTAP_ENV=production needs MIDTRANS_SERVER_KEY" in result.output


def test_production_refuses_a_weak_secret_key_and_the_example_midtrans_key(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guessable signing key lets anyone mint an admin token; the example key is public."""
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not serve"))
    result = runner.invoke(
        cli.app,
        ["serve"],
        env={
            "SANTAP_ENV": "production",
            "SANTAP_SECRET_KEY": "weak-Q7x",
            "MIDTRANS_SERVER_KEY": "SB-Mid-server-XXXXXXXXXXXXXXXXXXXXXXXX",
        },
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "Configuration error: SANTAP_ENV=production refuses weak secrets: SANTAP_SECRET_KEY is "
        "shorter than 32 bytes; MIDTRANS_SERVER_KEY is a known placeholder\n"
    )
    assert not (workdir / "santap.db").exists()


def test_schema_check_tells_migrated_from_empty(tmp_path: Path, database_url: str) -> None:
    empty = make_settings(f"sqlite:///{tmp_path / 'empty.db'}")
    assert asyncio.run(cli._schema_is_current(empty)) is False
    assert asyncio.run(cli._schema_is_current(make_settings(database_url))) is True


def test_serve_with_two_workers_on_either_database(tmp_path: Path, database_url: str) -> None:
    """Two worker processes, each with its own app and pool, share the port. SQLite too:
    writers queue on BEGIN IMMEDIATE across processes, as in the two-instance chaos run."""
    env = {
        "MIDTRANS_SERVER_KEY": "SB-Mid-server-workers-test",
        # Never called: serving the menu does not talk to Midtrans.
        "MIDTRANS_SNAP_BASE_URL": "http://127.0.0.1:9",
        "MIDTRANS_CORE_BASE_URL": "http://127.0.0.1:9",
    }
    if not database_url.startswith("sqlite"):
        env["DATABASE_URL"] = database_url  # else a fresh file that serve migrates and seeds
    with served(tmp_path, env, args=["--workers", "2"]) as server:
        workers = _started_workers(server.log)
        answers = [httpx.get(f"{server.url}/api/v1/menu", timeout=5) for _ in range(20)]

    assert len(set(workers)) == 2
    assert {answer.status_code for answer in answers} == {200}


def _started_workers(log: Path) -> list[str]:
    """The pids of workers whose app has started, once both have."""
    deadline = time.monotonic() + 30
    while True:
        text = log.read_text()
        pids = re.findall(r"Started server process \[(\d+)\]", text)
        if len(pids) >= 2 and text.count("Application startup complete") >= 2:
            return pids
        if time.monotonic() > deadline:
            raise AssertionError(f"two workers did not start:\n{text[-3000:]}")
        time.sleep(0.1)


def test_serve_refuses_workers_with_the_built_in_simulator(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker would have its own simulator, blind to payments made at another's."""
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not serve"))
    result = runner.invoke(cli.app, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers above 1 needs MIDTRANS_SERVER_KEY" in result.output
    assert not (workdir / "santap.db").exists()


PRODUCTION = {
    "SANTAP_ENV": "production",
    "SANTAP_SECRET_KEY": "k" * 40,
    "MIDTRANS_SERVER_KEY": "SB-Mid-server-cli-test-7f3a",
}
EMPTY_MENU_HINT = (
    "The menu is empty: add dishes at /admin/menu, or load the demo menu with `santap seed-demo`."
)


def test_production_serve_never_seeds_the_demo_menu_on_sqlite(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shop in production sets up its own menu; the demo one is for trying Santap out."""
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: None)
    result = runner.invoke(cli.app, ["serve"], env=PRODUCTION)
    assert result.exit_code == 0, result.output
    assert "Seeded" not in result.output
    assert EMPTY_MENU_HINT in result.stdout
    settings = make_settings(f"sqlite:///{workdir / 'santap.db'}")
    assert asyncio.run(cli._menu_is_empty(settings))


@pytest.mark.postgresql_only
def test_serve_on_an_empty_postgresql_menu_points_at_seed_demo(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: None)
    env = {"DATABASE_URL": asyncio.run(_worker_database(database_url, "empty_menu"))}
    assert runner.invoke(cli.app, ["db", "upgrade"], env=env).exit_code == 0
    empty = runner.invoke(cli.app, ["serve"], env=env)
    assert empty.exit_code == 0, empty.output
    assert EMPTY_MENU_HINT in empty.stdout
    assert "Seeded" not in empty.output
    assert runner.invoke(cli.app, ["seed-demo"], env=env).exit_code == 0
    seeded = runner.invoke(cli.app, ["serve"], env=env)
    assert seeded.exit_code == 0, seeded.output
    assert EMPTY_MENU_HINT not in seeded.output


LAN = "http://192.168.1.20:8123"
SIMULATOR_LINKS = "table QR cards, the simulator's payment page"


@pytest.mark.parametrize(
    ("host", "env", "links", "warned_about"),
    [
        ("0.0.0.0", {}, "http://127.0.0.1:8123", SIMULATOR_LINKS),
        (
            "0.0.0.0",
            {"MIDTRANS_SERVER_KEY": "SB-Mid-server-cli-test-7f3a"},
            "http://127.0.0.1:8123",
            "table QR cards",
        ),
        ("0.0.0.0", {"SANTAP_PUBLIC_BASE_URL": LAN}, LAN, None),
        ("127.0.0.1", {}, "http://127.0.0.1:8123", None),
        # The links carry that address, which phones on its network can open.
        ("192.168.1.20", {}, LAN, None),
    ],
)
def test_serve_on_every_interface_warns_that_phones_cannot_open_loopback_links(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    host: str,
    env: dict[str, str],
    links: str,
    warned_about: str | None,
) -> None:
    served: dict[str, object] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.update(app=app))
    result = runner.invoke(cli.app, ["serve", "--port", "8123", "--host", host], env=env)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: --host")]
    expected = (
        f"Warning: --host 0.0.0.0 without SANTAP_PUBLIC_BASE_URL: links ({warned_about}) point "
        "at 127.0.0.1, which phones on the shop's Wi-Fi cannot open; set "
        "SANTAP_PUBLIC_BASE_URL=http://<this machine's LAN address>:8123"
    )
    assert warnings == ([expected] if warned_about else [])
    app = served["app"]
    assert isinstance(app, FastAPI)
    assert app.state.settings.public_base_url == links
