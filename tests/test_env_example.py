"""`.env.example` documents every setting, with placeholders only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import get_args
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr, ValidationError

from santap.config import Settings, is_placeholder_secret

EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def _documented() -> set[str]:
    names = set()
    for line in EXAMPLE.read_text().splitlines():
        line = line.strip().lstrip("# ")
        if "=" in line and line.split("=", 1)[0].isupper():
            names.add(line.split("=", 1)[0])
    return names


def test_every_setting_is_documented() -> None:
    settings = {str(field.validation_alias) for field in Settings.model_fields.values()}
    assert settings - _documented() == set()


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the example speaks: nothing from the environment the tests run in."""
    for name in list(os.environ):
        if name.startswith(("SANTAP_", "MIDTRANS_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)


@pytest.mark.usefixtures("clean_environment")
def test_the_example_as_shipped_runs_the_simulator() -> None:
    """Copied as it is, it must not pass a placeholder off as a real Midtrans key: that turned
    the simulator off and every QRIS failed at Midtrans with 502."""
    settings = Settings(_env_file=str(EXAMPLE))  # type: ignore[call-arg]
    assert settings.midtrans_server_key is None
    assert settings.simulator_mode
    assert settings.secret_key is None
    assert settings.metrics_token is None
    assert settings.midtrans_client_key is None
    assert settings.midtrans_proxy_url is None


def _secret_names() -> set[str]:
    names = {
        str(field.validation_alias)
        for field in Settings.model_fields.values()
        if SecretStr in get_args(field.annotation)
    }
    # Not secret (Snap JS shows it to browsers), but the example's is a placeholder as well.
    return names | {"MIDTRANS_CLIENT_KEY"}


def test_every_secret_is_commented_out() -> None:
    set_lines = [line for line in EXAMPLE.read_text().splitlines() if "=" in line]
    assigned = {line.split("=", 1)[0] for line in set_lines if not line.startswith("#")}
    assert _secret_names() & assigned == set()


def _example_values() -> dict[str, str]:
    """Every NAME=value the example shows, commented out or not."""
    values = {}
    for line in EXAMPLE.read_text().splitlines():
        line = line.strip().lstrip("# ")
        name, sep, value = line.partition("=")
        if sep and name.isupper():
            values[name] = value
    return values


def test_every_secret_placeholder_in_the_example_is_a_known_placeholder() -> None:
    """So that Santap refuses whichever of them an operator uncomments and forgets to replace."""
    secret_names = _secret_names()
    shown = {name: value for name, value in _example_values().items() if name in secret_names}
    assert shown.keys() == secret_names
    # The proxy URL is secret only for a password in it, and the example carries none.
    assert urlsplit(shown.pop("MIDTRANS_PROXY_URL")).password is None
    assert {name for name, value in shown.items() if not is_placeholder_secret(value)} == set()


@pytest.mark.usefixtures("clean_environment")
def test_production_refuses_the_example_as_shipped() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=str(EXAMPLE), SANTAP_ENV="production")  # type: ignore[call-arg]
    message = raised.value.errors()[0]["msg"]
    assert message == (
        "Value error, SANTAP_ENV=production needs SANTAP_SECRET_KEY and MIDTRANS_SERVER_KEY"
    )


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize("env", ["development", "production"])
def test_the_example_with_its_placeholders_uncommented_is_refused(tmp_path: Path, env: str) -> None:
    uncommented = tmp_path / ".env"
    lines = EXAMPLE.read_text().splitlines()
    names = _secret_names() - {"MIDTRANS_PROXY_URL"}  # its example is a real-looking proxy
    uncommented.write_text(
        "\n".join(
            line.removeprefix("# ") if line.removeprefix("# ").split("=")[0] in names else line
            for line in lines
        )
    )
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=str(uncommented), SANTAP_ENV=env)  # type: ignore[call-arg]
    message = raised.value.errors()[0]["msg"]
    for name in names:
        assert f"{name} is a known placeholder" in message
    assert "XXXX" not in str(raised.value)
    assert "change-me" not in str(raised.value)
