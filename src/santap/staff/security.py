"""Password hashing (argon2) and staff access tokens (HS256 JWT)."""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from santap.config import Settings
from santap.models import Staff, StaffRole
from santap.models.base import MAX_ID, utcnow

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["sub", "role", "iat", "exp", "jti"]
# Decimal digits without a leading zero, at most as many as MAX_ID has (19).
_SUBJECT = re.compile(r"[1-9][0-9]{0,18}")
_hasher = PasswordHasher()


class InvalidToken(Exception):
    """The token is missing a claim, expired, tampered with or signed with another key."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    staff_id: int
    role: StaffRole
    jti: str
    epoch: int


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


async def check_password(password_hash: str | None, password: str) -> bool:
    """Verify off the event loop; an unknown user is checked against a dummy hash so the
    time taken does not reveal whether the username exists."""
    if password_hash is None:
        await asyncio.to_thread(verify_password, _dummy_hash(), password)
        return False
    return await asyncio.to_thread(verify_password, password_hash, password)


def issue_token(settings: Settings, staff: Staff) -> str:
    now = int(utcnow().timestamp())
    claims: dict[str, Any] = {
        "sub": str(staff.id),
        "role": str(staff.role),
        "iat": now,
        "exp": now + settings.access_token_ttl_s,
        "jti": secrets.token_urlsafe(16),
        "ep": staff.token_epoch,
    }
    return jwt.encode(claims, settings.signing_key(), algorithm=ALGORITHM)


def decode_token(settings: Settings, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            settings.signing_key(),
            algorithms=[ALGORITHM],
            options={"require": _REQUIRED_CLAIMS},
        )
        return TokenClaims(
            staff_id=_staff_id(claims["sub"]),
            role=StaffRole(claims["role"]),
            jti=str(claims["jti"]),
            epoch=_epoch(claims.get("ep", 0)),  # tokens from before epochs count as 0
        )
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None


def _epoch(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**31:
        raise ValueError("the token epoch is not a small whole number")
    return value


def _staff_id(subject: object) -> int:
    """The id as ``issue_token`` writes it, and within what the id column holds: a larger one,
    even correctly signed, would fail in the database driver instead of being a 401."""
    if not (isinstance(subject, str) and _SUBJECT.fullmatch(subject)):
        raise ValueError("the subject is not a staff id")
    staff_id = int(subject)
    if staff_id > MAX_ID:
        raise ValueError("the subject is out of range")
    return staff_id
