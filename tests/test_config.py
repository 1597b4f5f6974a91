from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from santap.config import ConfigError, Settings, is_placeholder_secret, to_async_url
from santap.main import SIMULATOR_SERVER_KEY
from tests.fixtures.database import TEST_SECRET


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///santap.db", "sqlite+aiosqlite:///santap.db"),
        ("sqlite:////abs/path.db", "sqlite+aiosqlite:////abs/path.db"),
    ],
)
def test_plain_urls_get_the_async_driver(url: str, expected: str) -> None:
    assert to_async_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://u:hunter2@h/db",
            "DATABASE_URL: unsupported scheme mysql; use sqlite:///file.db or "
            "postgresql://user@host/db",
        ),
        (
            "u:hunter2@h/db",
            "DATABASE_URL is not a URL; use sqlite:///file.db or postgresql://user@host/db",
        ),
        (
            "u:hunter2@h://db",
            "DATABASE_URL: unsupported scheme; use sqlite:///file.db or postgresql://user@host/db",
        ),
    ],
)
def test_unsupported_urls_are_refused_without_repeating_them(url: str, message: str) -> None:
    """The URL may carry the database password."""
    with pytest.raises(ConfigError) as raised:
        to_async_url(url)
    assert str(raised.value) == message


def test_defaults_are_sqlite_in_development_with_the_sandbox() -> None:
    settings = _settings()
    assert settings.database_url == "sqlite:///santap.db"
    assert settings.env == "development"
    assert settings.simulator_mode
    assert settings.core_base_url == "https://api.sandbox.midtrans.com"
    assert settings.snap_base_url == "https://app.sandbox.midtrans.com"
    assert settings.midtrans_qris_mode == "snap"
    assert settings.midtrans_qris_expiry_minutes == 15
    assert settings.midtrans_verify_status is True


def test_production_hosts_and_overrides() -> None:
    prod = _settings(MIDTRANS_IS_PRODUCTION=True, MIDTRANS_SERVER_KEY="Mid-server-abc")
    assert prod.core_base_url == "https://api.midtrans.com"
    assert prod.snap_base_url == "https://app.midtrans.com"
    local = _settings(
        MIDTRANS_SNAP_BASE_URL="http://127.0.0.1:9000/", MIDTRANS_CORE_BASE_URL="http://x:1"
    )
    assert (local.snap_base_url, local.core_base_url) == ("http://127.0.0.1:9000", "http://x:1")


@pytest.mark.parametrize(
    ("key", "production"),
    [("SB-Mid-server-secret123", True), ("Mid-server-secret123", False)],
)
def test_key_and_mode_must_agree_and_the_error_hides_the_key(key: str, production: bool) -> None:
    with pytest.raises(ValidationError) as info:
        _settings(MIDTRANS_SERVER_KEY=key, MIDTRANS_IS_PRODUCTION=production)
    messages = " ".join(e["msg"] for e in info.value.errors(include_input=False))
    assert "MIDTRANS_IS_PRODUCTION" in messages
    assert "secret123" not in messages
    assert "secret123" not in repr(_settings(MIDTRANS_SERVER_KEY="SB-Mid-server-secret123"))


PRODUCTION_MIDTRANS = {"MIDTRANS_SERVER_KEY": "Mid-server-x", "MIDTRANS_IS_PRODUCTION": True}


def test_production_needs_a_signing_key_and_a_midtrans_key() -> None:
    """Without a Midtrans key production would run the simulator, whose payer page marks any
    order paid; without a signing key every staff request would fail."""
    cases = [
        ({}, "SANTAP_SECRET_KEY and MIDTRANS_SERVER_KEY"),
        (PRODUCTION_MIDTRANS, "SANTAP_SECRET_KEY"),
        ({"SANTAP_SECRET_KEY": "k" * 40}, "MIDTRANS_SERVER_KEY"),
    ]
    for values, missing in cases:
        with pytest.raises(ValidationError) as raised:
            _settings(SANTAP_ENV="production", **values)
        [error] = raised.value.errors()
        assert error["msg"] == f"Value error, SANTAP_ENV=production needs {missing}"
    settings = _settings(SANTAP_ENV="production", SANTAP_SECRET_KEY="k" * 40, **PRODUCTION_MIDTRANS)
    assert settings.signing_key() == "k" * 40
    assert not settings.simulator_mode


def test_development_secret_is_generated_once_beside_the_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}")
    first = settings.signing_key()
    assert "SANTAP_SECRET_KEY is not set" in caplog.text
    assert first not in caplog.text
    assert (tmp_path / ".santap_secret").read_text().strip() == first
    assert (tmp_path / ".santap_secret").stat().st_mode & 0o077 == 0
    assert settings.signing_key() == first
    assert len(first) >= 32


def test_network_lists_are_parsed_from_comma_separated_env() -> None:
    settings = _settings(MIDTRANS_WEBHOOK_ALLOWED_IPS="149.129.216.115, 8.215.0.0/16")
    assert [str(n) for n in settings.midtrans_webhook_allowed_ips] == [
        "149.129.216.115/32",
        "8.215.0.0/16",
    ]
    with pytest.raises(ValidationError):
        _settings(TRUSTED_PROXIES="not-an-ip")


PRODUCTION_SANDBOX = {
    "SANTAP_ENV": "production",
    "MIDTRANS_SERVER_KEY": "SB-Mid-server-TESTKEY-3f9a1c7e5b2d4086",
    "SANTAP_SECRET_KEY": "k" * 32,
}


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        ({"SANTAP_SECRET_KEY": "x"}, "SANTAP_SECRET_KEY is shorter than 32 bytes"),
        (
            {"SANTAP_SECRET_KEY": "change-me-to-a-long-random-string"},
            "SANTAP_SECRET_KEY is a known placeholder",
        ),
        (
            {"MIDTRANS_SERVER_KEY": "SB-Mid-server-XXXXXXXXXXXXXXXXXXXXXXXX"},
            "MIDTRANS_SERVER_KEY is a known placeholder",
        ),
        (
            {"MIDTRANS_SERVER_KEY": "SB-Mid-server-SANTAP-SIMULATOR"},
            "MIDTRANS_SERVER_KEY is a known placeholder",
        ),
        (
            {"SANTAP_METRICS_TOKEN": " Change-Me-To-A-Long-Random-String "},
            "SANTAP_METRICS_TOKEN is a known placeholder",
        ),
        (
            {"MIDTRANS_CLIENT_KEY": "SB-Mid-client-XXXXXXXXXXXXXXXX"},
            "MIDTRANS_CLIENT_KEY is a known placeholder",
        ),
    ],
)
def test_production_refuses_a_short_or_published_secret_without_echoing_it(
    values: dict[str, str], refused: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(**{**PRODUCTION_SANDBOX, **values})
    [error] = raised.value.errors(include_input=False)
    assert error["msg"].startswith("Value error, SANTAP_ENV=production refuses weak secrets: ")
    assert refused in error["msg"]
    [value] = values.values()
    assert value.strip() not in error["msg"]
    assert value.strip() not in str(raised.value)


def test_production_names_every_weak_secret_at_once() -> None:
    with pytest.raises(ValidationError) as raised:
        _settings(
            SANTAP_ENV="production",
            SANTAP_SECRET_KEY="x",
            SANTAP_METRICS_TOKEN="changeme",
            MIDTRANS_SERVER_KEY="SB-Mid-server-XXXXXXXXXXXXXXXXXXXXXXXX",
        )
    message = raised.value.errors()[0]["msg"]
    for name in ("SANTAP_SECRET_KEY", "MIDTRANS_SERVER_KEY", "SANTAP_METRICS_TOKEN"):
        assert name in message


@pytest.mark.parametrize(("short", "enough"), [("k" * 31, "k" * 32), ("é" * 15, "é" * 16)])
def test_production_counts_the_secret_key_in_bytes(short: str, enough: str) -> None:
    with pytest.raises(ValidationError, match="SANTAP_SECRET_KEY is shorter than 32 bytes"):
        _settings(**{**PRODUCTION_SANDBOX, "SANTAP_SECRET_KEY": short})
    assert _settings(**{**PRODUCTION_SANDBOX, "SANTAP_SECRET_KEY": enough}).signing_key() == enough


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_test_only_warn_about_a_short_secret_key(
    env: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="santap.config"):
        settings = _settings(SANTAP_ENV=env, SANTAP_SECRET_KEY="short-Q7")
    assert settings.signing_key() == "short-Q7"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "SANTAP_SECRET_KEY is shorter than 32 bytes (refused when SANTAP_ENV=production)"
    ]
    assert "short-Q7" not in caplog.text
    caplog.clear()
    _settings(SANTAP_ENV=env, SANTAP_SECRET_KEY=TEST_SECRET)
    assert caplog.records == []


PLACEHOLDERS = [
    ("SANTAP_SECRET_KEY", "change-me-to-a-long-random-string"),
    ("MIDTRANS_SERVER_KEY", "SB-Mid-server-XXXXXXXXXXXXXXXXXXXXXXXX"),
    ("MIDTRANS_SERVER_KEY", "SB-Mid-server-SANTAP-SIMULATOR"),
    ("MIDTRANS_CLIENT_KEY", "SB-Mid-client-XXXXXXXXXXXXXXXX"),
    ("SANTAP_METRICS_TOKEN", " Change-Me "),
]


@pytest.mark.parametrize("env", ["development", "test"])
@pytest.mark.parametrize(("name", "value"), PLACEHOLDERS)
def test_every_environment_refuses_a_placeholder_without_echoing_it(
    env: str, name: str, value: str
) -> None:
    """A placeholder MIDTRANS_SERVER_KEY passed for a real one: the simulator was off and every
    QRIS failed at Midtrans with 502. Production refuses them too (tests above)."""
    with pytest.raises(ValidationError) as raised:
        _settings(SANTAP_ENV=env, **{name: value})
    [error] = raised.value.errors(include_input=False)
    assert error["msg"] == (
        f"Value error, {name} is a known placeholder: set the real value or leave it unset"
    )
    assert value.strip() not in str(raised.value)


def test_the_simulator_key_is_accepted_with_both_midtrans_urls_on_a_standalone_simulator(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`santap simulator` signs with that key by default; refused towards Midtrans itself
    (above), and in production whatever the URLs."""
    standalone = {
        "MIDTRANS_SERVER_KEY": SIMULATOR_SERVER_KEY,
        "MIDTRANS_SNAP_BASE_URL": "http://127.0.0.1:9000",
        "MIDTRANS_CORE_BASE_URL": "http://127.0.0.1:9000",
    }
    with caplog.at_level(logging.WARNING, logger="santap.config"):
        settings = _settings(**standalone)
    assert not settings.simulator_mode
    assert caplog.messages == [
        "MIDTRANS_SERVER_KEY is a known placeholder (refused when SANTAP_ENV=production)"
    ]
    with pytest.raises(ValidationError, match="MIDTRANS_SERVER_KEY is a known placeholder"):
        _settings(**{**standalone, "MIDTRANS_CORE_BASE_URL": None})
    with pytest.raises(ValidationError, match="production refuses weak secrets: MIDTRANS_SERVER"):
        _settings(**{**PRODUCTION_SANDBOX, **standalone})


def test_the_simulator_key_counts_as_a_placeholder() -> None:
    """It is printed in the source: anyone could sign notifications with it."""
    assert is_placeholder_secret(SIMULATOR_SERVER_KEY)
