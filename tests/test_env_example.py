"""`.env.example` documents every setting, with placeholders only."""

from __future__ import annotations

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


def test_the_example_loads_and_holds_no_real_key() -> None:
    settings = Settings(_env_file=str(EXAMPLE))  # type: ignore[call-arg]
    key = settings.midtrans_server_key
    assert key is not None
    assert set(key.get_secret_value().removeprefix("SB-Mid-server-")) == {"X"}


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
    """So that production refuses whichever of them an operator forgets to replace."""
    secret_names = {
        str(field.validation_alias)
        for field in Settings.model_fields.values()
        if SecretStr in get_args(field.annotation)
    }
    shown = {name: value for name, value in _example_values().items() if name in secret_names}
    assert shown.keys() == secret_names
    # The proxy URL is secret only for a password in it, and the example carries none.
    assert urlsplit(shown.pop("MIDTRANS_PROXY_URL")).password is None
    assert {name for name, value in shown.items() if not is_placeholder_secret(value)} == set()


def test_production_refuses_the_example_as_shipped() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=str(EXAMPLE), SANTAP_ENV="production")  # type: ignore[call-arg]
    message = raised.value.errors()[0]["msg"]
    assert "SANTAP_SECRET_KEY is a known placeholder" in message
    assert "MIDTRANS_SERVER_KEY is a known placeholder" in message
