"""The one format of every timestamp the API returns: the instant in UTC, written with ``Z``
(``2026-11-26T03:00:00Z``). Response schemas type their times as ``Timestamp``, so a time
that arrives in another zone (Midtrans answers in WIB) is converted when the schema is built;
tests/test_timestamps.py fails if a response schema declares a plain ``datetime``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def in_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        # Every column is UTC and every time from Midtrans is zoned: a naive one is a bug.
        raise ValueError("a timestamp needs a time zone")
    return value.astimezone(UTC)


Timestamp = Annotated[datetime, AfterValidator(in_utc)]
