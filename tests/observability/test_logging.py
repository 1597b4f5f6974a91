from __future__ import annotations

import io
import json
import logging

import pytest

from santap.observability.logging import (
    REDACTED,
    RedactSecrets,
    configure_logging,
    secret_values,
)
from tests.fixtures.database import TEST_SECRET, make_settings

KEY = "SB-Mid-server-Abc123SECRETkey"


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("santap.test", logging.WARNING, __file__, 1, msg, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def _filtered(record: logging.LogRecord, secrets: tuple[str, ...] = (KEY,)) -> str:
    RedactSecrets(secrets).filter(record)
    return json.dumps({**vars(record), "exc_info": None})


@pytest.mark.parametrize(
    "record",
    [
        _record(f"key is {KEY}"),
        _record("key is %s", KEY),
        _record("headers %r", {"Authorization": f"Basic {KEY}"}),
        _record("ok", detail=f"prefix-{KEY}-suffix"),
    ],
)
def test_known_secrets_are_redacted_wherever_they_appear(record: logging.LogRecord) -> None:
    out = _filtered(record)
    assert KEY not in out
    assert REDACTED in out


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "Bearer"),
        ("authorization=basic U0ItTWlkLXNlcnZlci14eXo6", "basic"),
        ("hash $argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo done", "done"),
    ],
)
def test_credential_shapes_are_redacted_without_knowing_the_value(message: str, kept: str) -> None:
    record = _record(message)
    RedactSecrets().filter(record)
    assert REDACTED in record.getMessage()
    assert kept in record.getMessage()
    assert "eyJ" not in record.getMessage()
    assert "U0ItTWlk" not in record.getMessage()
    assert "c2FsdHNhbHQ" not in record.getMessage()


def test_ordinary_words_survive() -> None:
    record = _record("Basic auth failed for a Bearer; 401")
    RedactSecrets([KEY, "short"]).filter(record)
    assert record.getMessage() == "Basic auth failed for a Bearer; 401"


def test_tracebacks_are_redacted() -> None:
    try:
        raise RuntimeError(f"boom with {KEY}")
    except RuntimeError:
        stream = io.StringIO()
        configure_logging("INFO", secrets=[KEY], stream=stream)
        logging.getLogger("santap.test").exception("failed")
    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert KEY not in line
    assert "RuntimeError" in record["exception"]


def test_configure_logging_routes_every_logger_through_one_json_handler() -> None:
    stream = io.StringIO()
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.addHandler(logging.NullHandler())
    uvicorn_error.propagate = False
    configure_logging("DEBUG", secrets=[KEY], stream=stream)
    uvicorn_error.info("Uvicorn running", extra={"color_message": "\x1b[1mUvicorn\x1b[0m"})
    logging.getLogger("santap.test").debug("with %s", KEY)
    logging.getLogger("aiosqlite").debug("executing partial(..., ('$argon2id$v=19$x',))")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(r["logger"], r["level"]) for r in lines] == [
        ("uvicorn.error", "INFO"),
        ("santap.test", "DEBUG"),
    ]
    assert "color_message" not in lines[0]
    assert lines[1]["message"] == f"with {REDACTED}"
    assert all(r["request_id"] == "-" and r["timestamp"] for r in lines)


def test_text_format_is_available() -> None:
    stream = io.StringIO()
    configure_logging("INFO", fmt="text", stream=stream)
    logging.getLogger("santap.test").info("plain")
    assert stream.getvalue().rstrip().endswith("INFO santap.test [-] plain")


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="LOUD"):
        configure_logging("LOUD", stream=io.StringIO())


def test_the_configured_secrets_are_the_ones_redacted() -> None:
    settings = make_settings("sqlite:///x.db", MIDTRANS_SERVER_KEY=KEY)
    assert sorted(secret_values(settings)) == sorted([KEY, TEST_SECRET])
    assert secret_values(make_settings("sqlite:///x.db", SANTAP_SECRET_KEY=None)) == []


def test_a_proxy_password_is_redacted_too() -> None:
    settings = make_settings(
        "sqlite:///x.db", MIDTRANS_PROXY_URL="http://egress:Pr0xy-pa55@proxy.internal:3128"
    )
    assert "Pr0xy-pa55" in secret_values(settings)
    assert "Pr0xy-pa55" not in repr(settings)
