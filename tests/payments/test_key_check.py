"""`santap check-midtrans`: accepted, refused or unreachable, with the host it tried and never
the key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from santap import cli
from santap.config import Settings
from santap.payments.key_check import NoKey, Verdict, check_key
from santap.simulator import create_simulator
from tests.fixtures.database import TEST_SECRET
from tests.fixtures.server import STANDALONE_KEY

KEY = "SB-Mid-server-KEYCHECK-do-not-print-7"
runner = CliRunner()


def _settings(**values: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DATABASE_URL="sqlite:///unused.db",
        SANTAP_ENV="test",
        SANTAP_SECRET_KEY=TEST_SECRET,
        MIDTRANS_SNAP_BASE_URL="http://midtrans.test",
        MIDTRANS_CORE_BASE_URL="http://midtrans.test",
        **values,
    )


@pytest.fixture
async def midtrans() -> AsyncIterator[httpx.ASGITransport]:
    """A stand-in Midtrans that knows only KEY."""
    sim = create_simulator(server_key=KEY, notify_url=None, public_base_url="http://midtrans.test")
    yield httpx.ASGITransport(app=sim.app)
    await sim.aclose()


async def test_the_configured_key_is_accepted(midtrans: httpx.ASGITransport) -> None:
    checked = await check_key(_settings(MIDTRANS_SERVER_KEY=KEY), transport=midtrans)
    assert (checked.verdict, checked.host) == (Verdict.ACCEPTED, "midtrans.test")


async def test_another_key_is_refused(midtrans: httpx.ASGITransport) -> None:
    other = "SB-Mid-server-SOMEONE-ELSES-KEY-9"
    checked = await check_key(_settings(MIDTRANS_SERVER_KEY=other), transport=midtrans)
    assert checked.verdict is Verdict.REFUSED
    assert other not in checked.line()


def _check_midtrans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str | None, midtrans: str = ""
) -> Result:
    """``santap check-midtrans`` with ``key`` (None: unset) and Midtrans at ``midtrans``."""
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = {
        "SANTAP_ENV": "test",
        "SANTAP_SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "MIDTRANS_SERVER_KEY": key,
        "MIDTRANS_CORE_BASE_URL": midtrans or None,
        "MIDTRANS_SNAP_BASE_URL": midtrans or None,
        "MIDTRANS_CONNECT_TIMEOUT_S": "1",
    }
    return runner.invoke(cli.app, ["check-midtrans"], env=env)


def test_the_command_says_when_midtrans_cannot_be_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on the discard port.
    result = _check_midtrans(tmp_path, monkeypatch, KEY, "http://127.0.0.1:9")
    assert result.exit_code == 1, result.output
    assert "cannot reach Midtrans: 127.0.0.1:9" in result.output
    assert KEY not in result.output


@pytest.mark.parametrize(
    ("key", "said", "code"), [(STANDALONE_KEY, "key accepted", 0), (KEY, "key refused", 1)]
)
def test_the_command_reports_the_key_as_midtrans_judges_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    standalone_simulator: str,
    key: str,
    said: str,
    code: int,
) -> None:
    result = _check_midtrans(tmp_path, monkeypatch, key, standalone_simulator)
    assert result.exit_code == code, result.output
    assert result.output.startswith(f"{said}: {standalone_simulator.removeprefix('http://')}")
    assert key not in result.output


async def test_without_a_key_there_is_nothing_to_check() -> None:
    with pytest.raises(NoKey):
        await check_key(_settings())


def test_the_command_without_a_key_says_there_is_nothing_to_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _check_midtrans(tmp_path, monkeypatch, None)
    assert result.exit_code == 2, result.output
    assert "MIDTRANS_SERVER_KEY is not set" in result.output
