"""The one settings class. Nothing else in Santap reads ``os.environ``."""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, StringConstraints, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

logger = logging.getLogger(__name__)

SANDBOX_SNAP_URL = "https://app.sandbox.midtrans.com"
SANDBOX_CORE_URL = "https://api.sandbox.midtrans.com"
PRODUCTION_SNAP_URL = "https://app.midtrans.com"
PRODUCTION_CORE_URL = "https://api.midtrans.com"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


class QrisMode(StrEnum):
    SNAP = "snap"
    CORE = "core"


class ConfigError(Exception):
    """A setting is missing or contradicts another one; the message says which."""


# Secret values that are public knowledge: what .env.example ships, the built-in simulator's
# key (printed in the source) and the usual stand-ins. Compared ignoring case and spaces.
KNOWN_PLACEHOLDER_SECRETS = frozenset(
    {
        "change-me-to-a-long-random-string",
        "SB-Mid-server-XXXXXXXXXXXXXXXXXXXXXXXX",
        "SB-Mid-client-XXXXXXXXXXXXXXXX",
        "SB-Mid-server-SANTAP-SIMULATOR",
        "change-me",
        "changeme",
        "secret",
    }
)
_PLACEHOLDERS_FOLDED = frozenset(value.casefold() for value in KNOWN_PLACEHOLDER_SECRETS)
MIN_SECRET_KEY_BYTES = 32
# The key of the simulator (built-in, and `santap simulator`'s default): published, yet the right
# MIDTRANS_SERVER_KEY for a development Santap whose Midtrans URLs point at `santap simulator`.
SIMULATOR_KEY = "SB-Mid-server-SANTAP-SIMULATOR"


def is_placeholder_secret(value: str) -> bool:
    return value.strip().casefold() in _PLACEHOLDERS_FOLDED


def _reveal(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def _split_networks(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


Networks = Annotated[list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode]
# An exact origin, as a browser sends it: scheme, host and port, no path, no wildcard.
Origin = Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        # A validation error's text must never carry the raw values: they hold the keys.
        hide_input_in_errors=True,
    )

    database_url: str = Field("sqlite:///santap.db", validation_alias="DATABASE_URL")
    env: Environment = Field(Environment.DEVELOPMENT, validation_alias="SANTAP_ENV")
    secret_key: SecretStr | None = Field(None, validation_alias="SANTAP_SECRET_KEY")
    public_base_url: str | None = Field(None, validation_alias="SANTAP_PUBLIC_BASE_URL")
    # Tables with a printed QR card (/admin/tables prints /t/1 ... /t/N).
    tables: int = Field(12, ge=1, le=200, validation_alias="SANTAP_TABLES")
    reconcile_interval_s: float = Field(60.0, ge=0, validation_alias="SANTAP_RECONCILE_INTERVAL_S")
    # Pending attempts younger than this are left to their notifications (midtrans.md §6 SLA).
    reconcile_min_age_s: float = Field(60.0, ge=0, validation_alias="SANTAP_RECONCILE_MIN_AGE_S")
    access_token_ttl_s: int = Field(8 * 3600, gt=0, validation_alias="SANTAP_ACCESS_TOKEN_TTL_S")
    log_level: str = Field("INFO", validation_alias="SANTAP_LOG_LEVEL")
    log_format: Literal["json", "text"] = Field("json", validation_alias="SANTAP_LOG_FORMAT")
    # /ready fails when more valid notifications than this sit unapplied for over 5 minutes.
    ready_max_stale_inbox: int = Field(10, ge=0, validation_alias="SANTAP_READY_MAX_STALE_INBOX")
    # PostgreSQL connections each process keeps open, and the most it opens: a request that
    # finds them all busy waits for one (opening and closing extra ones under load was churn).
    db_pool_size: int = Field(30, ge=1, le=500, validation_alias="SANTAP_DB_POOL_SIZE")
    # The background applier of acknowledged notifications; off only to hold notifications
    # in the inbox (they are applied once a process with it on starts).
    applier: bool = Field(True, validation_alias="SANTAP_APPLIER")
    # How often the applier looks for due notifications without being woken (retries, and
    # rows whose applier died).
    applier_sweep_s: float = Field(5.0, gt=0, validation_alias="SANTAP_APPLIER_SWEEP_S")
    # Live event streams (Server-Sent Events) one process holds at most; beyond it, a new
    # stream is answered 503 with Retry-After.
    max_streams: int = Field(2000, ge=1, validation_alias="SANTAP_MAX_STREAMS")
    # Request bodies larger than this are refused with 413 while they are read (the webhook
    # has its own, smaller limit).
    max_body_bytes: int = Field(1024 * 1024, ge=1024, validation_alias="SANTAP_MAX_BODY_BYTES")
    # How many notifications with a bad signature one source address may add to the forensic
    # record per minute; beyond that it is answered 429 and nothing is stored.
    rejected_notifications_per_minute: int = Field(
        30, ge=1, validation_alias="SANTAP_REJECTED_NOTIFICATIONS_PER_MINUTE"
    )
    # Freeze the start-up heap out of the cyclic collector's reach and raise its young
    # threshold (santap.runtime); off leaves CPython's collector as it is.
    gc_freeze: bool = Field(True, validation_alias="SANTAP_GC_FREEZE")

    midtrans_server_key: SecretStr | None = Field(None, validation_alias="MIDTRANS_SERVER_KEY")
    midtrans_client_key: str | None = Field(None, validation_alias="MIDTRANS_CLIENT_KEY")
    midtrans_is_production: bool = Field(False, validation_alias="MIDTRANS_IS_PRODUCTION")
    midtrans_snap_base_url: str | None = Field(None, validation_alias="MIDTRANS_SNAP_BASE_URL")
    midtrans_core_base_url: str | None = Field(None, validation_alias="MIDTRANS_CORE_BASE_URL")
    midtrans_qris_mode: QrisMode = Field(QrisMode.SNAP, validation_alias="MIDTRANS_QRIS_MODE")
    midtrans_qris_acquirer: str = Field("gopay", validation_alias="MIDTRANS_QRIS_ACQUIRER")
    midtrans_qris_expiry_minutes: int = Field(
        15, ge=1, le=7 * 24 * 60, validation_alias="MIDTRANS_QRIS_EXPIRY_MINUTES"
    )
    midtrans_verify_status: bool = Field(True, validation_alias="MIDTRANS_VERIFY_STATUS")
    midtrans_connect_timeout_s: float = Field(
        3.0, gt=0, validation_alias="MIDTRANS_CONNECT_TIMEOUT_S"
    )
    midtrans_read_timeout_s: float = Field(10.0, gt=0, validation_alias="MIDTRANS_READ_TIMEOUT_S")
    # An HTTP proxy for calls to Midtrans (HTTPS_PROXY is not read: be explicit). Secret: it
    # may carry the proxy's credentials.
    midtrans_proxy_url: SecretStr | None = Field(None, validation_alias="MIDTRANS_PROXY_URL")
    midtrans_webhook_allowed_ips: Networks = Field(
        default_factory=list, validation_alias="MIDTRANS_WEBHOOK_ALLOWED_IPS"
    )
    trusted_proxies: Networks = Field(default_factory=list, validation_alias="TRUSTED_PROXIES")
    # Web apps on other origins allowed to call the API from a browser (comma-separated).
    cors_origins: Annotated[list[Origin], NoDecode] = Field(
        default_factory=list, validation_alias="SANTAP_CORS_ORIGINS"
    )
    # When set, GET /metrics needs it as a bearer token; unset, /metrics is open.
    metrics_token: SecretStr | None = Field(None, validation_alias="SANTAP_METRICS_TOKEN")

    @field_validator("midtrans_webhook_allowed_ips", "trusted_proxies", mode="before")
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return _split_networks(value)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # "https://app.example.com/" as copied from an address bar is the same origin.
        split = _split_networks(value)
        return [o.rstrip("/") for o in split] if isinstance(split, list) else split

    @model_validator(mode="after")
    def _check_midtrans_key_matches_mode(self) -> Settings:
        if self.midtrans_server_key is None:
            return self
        is_sandbox_key = self.midtrans_server_key.get_secret_value().startswith("SB-")
        if self.midtrans_is_production and is_sandbox_key:
            raise ValueError(
                "MIDTRANS_SERVER_KEY is a sandbox key (SB-...) but MIDTRANS_IS_PRODUCTION is true"
            )
        if not self.midtrans_is_production and not is_sandbox_key:
            raise ValueError(
                "MIDTRANS_SERVER_KEY is a production key but MIDTRANS_IS_PRODUCTION is false; "
                "set MIDTRANS_IS_PRODUCTION=true or use a sandbox key (SB-...)"
            )
        return self

    @model_validator(mode="after")
    def _check_production_is_complete(self) -> Settings:
        """Production never falls back to development conveniences: without a Midtrans key the
        built-in simulator would stand in for Midtrans, and its payer page would let anyone
        mark an order paid; without a signing key no staff token could be issued."""
        if self.env is not Environment.PRODUCTION:
            return self
        missing = [
            name
            for name, value in (
                ("SANTAP_SECRET_KEY", self.secret_key),
                ("MIDTRANS_SERVER_KEY", self.midtrans_server_key),
            )
            if value is None
        ]
        if missing:
            raise ValueError(f"SANTAP_ENV=production needs {' and '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _check_secrets_are_not_guessable(self) -> Settings:
        """A known placeholder is refused in every environment: copied from .env.example, a
        placeholder MIDTRANS_SERVER_KEY passed for a real key, turned the simulator off and made
        every QRIS fail. Production also refuses a short signing key (elsewhere a warning). The
        messages name the setting, never its value."""
        production = self.env is Environment.PRODUCTION
        problems = self._weak_secrets()
        refused = [problem for problem, everywhere in problems if everywhere or production]
        if refused and production:
            raise ValueError(f"SANTAP_ENV=production refuses weak secrets: {'; '.join(refused)}")
        if refused:
            raise ValueError(f"{'; '.join(refused)}: set the real value or leave it unset")
        for problem, _ in problems:
            logger.warning("%s (refused when SANTAP_ENV=production)", problem)
        return self

    def _weak_secrets(self) -> list[tuple[str, bool]]:
        """Each weak secret's problem, and whether every environment refuses it (else only
        production does)."""
        problems = []
        if self.secret_key is not None:
            key = self.secret_key.get_secret_value()
            if is_placeholder_secret(key):
                problems.append(("SANTAP_SECRET_KEY is a known placeholder", True))
            elif len(key.encode()) < MIN_SECRET_KEY_BYTES:
                problems.append(
                    (f"SANTAP_SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes", False)
                )
        for name, value in (
            ("MIDTRANS_SERVER_KEY", _reveal(self.midtrans_server_key)),
            ("MIDTRANS_CLIENT_KEY", self.midtrans_client_key),
            ("SANTAP_METRICS_TOKEN", _reveal(self.metrics_token)),
        ):
            if value is not None and is_placeholder_secret(value):
                talks_to_simulator = name == "MIDTRANS_SERVER_KEY" and self._talks_to_simulator()
                problems.append((f"{name} is a known placeholder", not talks_to_simulator))
        return problems

    def _talks_to_simulator(self) -> bool:
        """The simulator's key with both Midtrans URLs moved off Midtrans: a standalone
        `santap simulator` stands in, and its key is the right one."""
        if self.midtrans_server_key is None:
            return False
        key = self.midtrans_server_key.get_secret_value().strip().casefold()
        overridden = self.midtrans_snap_base_url and self.midtrans_core_base_url
        return key == SIMULATOR_KEY.casefold() and bool(overridden)

    @property
    def simulator_mode(self) -> bool:
        """No Midtrans key: the built-in simulator stands in for Midtrans."""
        return self.midtrans_server_key is None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def async_database_url(self) -> str:
        return to_async_url(self.database_url)

    @property
    def snap_base_url(self) -> str:
        if self.midtrans_snap_base_url:
            return self.midtrans_snap_base_url.rstrip("/")
        return PRODUCTION_SNAP_URL if self.midtrans_is_production else SANDBOX_SNAP_URL

    @property
    def core_base_url(self) -> str:
        if self.midtrans_core_base_url:
            return self.midtrans_core_base_url.rstrip("/")
        return PRODUCTION_CORE_URL if self.midtrans_is_production else SANDBOX_CORE_URL

    def signing_key(self) -> str:
        """The token signing key; in development it is generated once and kept beside the DB."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        if self.env is Environment.PRODUCTION:
            raise ConfigError("SANTAP_SECRET_KEY is required when SANTAP_ENV=production")
        path = self._secret_file()
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        logger.warning("SANTAP_SECRET_KEY is not set; generated one and stored it in %s", path)
        return key

    def _secret_file(self) -> Path:
        db_file = sqlite_path(self.database_url)
        folder = db_file.parent if db_file is not None else Path.cwd()
        return folder / ".santap_secret"


def sqlite_path(url: str) -> Path | None:
    """The file behind a ``sqlite:///file`` URL, or None for other URLs and in-memory DBs."""
    if not url.startswith("sqlite"):
        return None
    _, _, rest = url.partition(":///")
    if not rest or rest == ":memory:":
        return None
    return Path(rest.split("?", 1)[0]).resolve()


def to_async_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite:///`` URLs and pick the async driver. The
    errors never repeat the URL: it may hold the database password."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"DATABASE_URL is not a URL; {_URL_FORMS}")
    base = scheme.split("+", 1)[0]
    if base in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    shown = f" {base}" if _SCHEME.fullmatch(base) else ""
    raise ConfigError(f"DATABASE_URL: unsupported scheme{shown}; {_URL_FORMS}")


_URL_FORMS = "use sqlite:///file.db or postgresql://user@host/db"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9.-]{0,19}")
