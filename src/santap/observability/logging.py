"""Structured logs: one JSON object per line on stderr, each carrying the request id.

Secrets are kept out by the code that logs (it never formats keys, passwords or tokens);
``RedactSecrets`` is defense in depth for the day someone forgets."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from typing import IO, Literal
from urllib.parse import urlsplit

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from santap.config import Settings

LogFormat = Literal["json", "text"]

NO_REQUEST = "-"
request_id_var: ContextVar[str] = ContextVar("santap_request_id", default=NO_REQUEST)

REDACTED = "[REDACTED]"
# Shorter "secrets" would blank out ordinary words; real keys are far longer.
MIN_SECRET_LENGTH = 8
_PATTERNS = (
    # An Authorization header's credentials, wherever they appear (a dumped header dict...).
    re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9._~+/-]{8,}=*", re.IGNORECASE),
    # Password hashes (e.g. SQL arguments dumped by a driver's debug log).
    re.compile(r"\$argon2(?:id|i|d)\$[A-Za-z0-9+/=,$.-]+"),
    # A token in a URL's query (event streams, which browsers cannot give a header).
    re.compile(r"(?<=[?&]access_token=)[^&\s\"']+"),
)

# Libraries whose DEBUG output dumps SQL statements with their arguments (password hashes,
# raw notification bodies) or whole HTTP/form payloads: never below these levels.
THIRD_PARTY_FLOORS = {
    "aiosqlite": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
    "sqlalchemy.pool": logging.WARNING,
    "httpcore": logging.INFO,
    "multipart": logging.INFO,
    "python_multipart": logging.INFO,
}
HANDLER_NAME = "santap"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request's id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class RedactSecrets(logging.Filter):
    """Removes known secret values and credential-shaped strings from a record.

    The message is rendered first (so secrets passed as ``%s`` arguments are caught too), and
    string extra fields and tracebacks are cleaned the same way."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        values = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret containing another is removed whole.
        self._secrets = sorted(values, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(_keep_scheme, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self.redact(_PLAIN.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in RESERVED_ATTRS and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


_PLAIN = logging.Formatter()


class RedactArguments(logging.Filter):
    """Cleans each string argument of a record the way ``RedactSecrets`` cleans a message,
    keeping the arguments' shape: for a logger whose own formatter unpacks them (uvicorn's
    access log), before whatever handler it writes through."""

    def __init__(self) -> None:
        super().__init__()
        self._redact = RedactSecrets().redact

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._redact(value) if isinstance(value, str) else value for value in record.args
            )
        return True


def _keep_scheme(match: re.Match[str]) -> str:
    scheme = match.group(1) if match.groups() else None
    return f"{scheme} {REDACTED}" if scheme else REDACTED


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
        timestamp=True,
        # uvicorn adds an ANSI-coloured duplicate of its message.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


def text_formatter() -> logging.Formatter:
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


def build_handler(
    stream: IO[str] | None = None,
    *,
    fmt: LogFormat = "json",
    secrets: Iterable[str] = (),
) -> logging.Handler:
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(json_formatter() if fmt == "json" else text_formatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecrets(secrets))
    return handler


def apply_third_party_floors(level: int) -> None:
    for name, floor in THIRD_PARTY_FLOORS.items():
        logging.getLogger(name).setLevel(max(level, floor))


def configure_logging(
    level: str | int,
    *,
    fmt: LogFormat = "json",
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> None:
    """Send every logger (uvicorn's too) through one handler on the root logger."""
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"Unknown log level {level!r}")
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(build_handler(stream, fmt=fmt, secrets=secrets))
    root.setLevel(numeric)
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    apply_third_party_floors(numeric)


def secret_values(settings: Settings) -> list[str]:
    """The configured secrets a log line must never contain."""
    values = [settings.midtrans_server_key, settings.secret_key]
    secrets = [value.get_secret_value() for value in values if value is not None]
    if settings.midtrans_proxy_url is not None:
        proxy_password = urlsplit(settings.midtrans_proxy_url.get_secret_value()).password
        if proxy_password:
            secrets.append(proxy_password)
    return secrets


def configure_from_settings(settings: Settings) -> None:
    configure_logging(settings.log_level, fmt=settings.log_format, secrets=secret_values(settings))
