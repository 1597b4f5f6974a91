"""Opaque keyset cursors: the last row's sort key as base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from santap.errors import Unprocessable
from santap.models.base import MAX_ID

MAX_CURSOR_LENGTH = 200
K = TypeVar("K", bound="CursorKey")


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


# Bounded like the columns they are compared with, so a forged cursor is a 422, not a 500.
CursorId = Annotated[int, Field(ge=1, le=MAX_ID)]
CursorTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class CursorKey(BaseModel):
    """A page's sort key; subclasses name its fields (strict, so a forged cursor is a 422)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class InvalidCursor(Unprocessable):
    code = "invalid_cursor"

    def __init__(self, message: str = "The cursor is not valid; start again without one") -> None:
        super().__init__(message)


def encode_cursor(key: CursorKey) -> str:
    raw = key.model_dump_json().encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, key_type: type[K]) -> K:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return key_type.model_validate_json(raw)
    except (binascii.Error, ValueError, ValidationError):
        raise InvalidCursor() from None
