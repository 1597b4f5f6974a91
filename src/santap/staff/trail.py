"""The sign-in trail: audit rows for logins, refused logins and refused roles.

Each row holds the username (as typed, normalised and cut to what the column holds), the
client's address and the outcome, never a password or a token. ``staff_id`` is set only when a
staff member was authenticated: a failed login names whoever the caller claimed to be.

Login rows have ``entity_type="login"`` and the typed username as ``entity_id``, so
``?entity_type=login&entity_id=kasir`` lists every attempt on one name; role refusals have
``entity_type="route"`` and the route (``"GET /api/v1/admin/audit"``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.audit import service as audit
from santap.models import Staff
from santap.staff.ratelimit import Throttled

LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"
LOGIN_THROTTLED = "auth.login_throttled"
ROLE_NOT_ALLOWED = "auth.role_not_allowed"

# The lengths of audit_log.username and audit_log.entity_id; the rest bound the JSON values.
_USERNAME_MAX = 50
_ENTITY_ID_MAX = 64
_ADDRESS_MAX = 64
_PATH_MAX = 200


@dataclass(slots=True)
class LoginAttempt:
    username: str  # already normalised the way the login looks it up
    address: str
    delay_s: float = 0.0


async def login_succeeded(session: AsyncSession, attempt: LoginAttempt, staff: Staff) -> None:
    await _record_login(session, attempt, LOGIN, {"outcome": "success"}, staff=staff)


async def login_failed(session: AsyncSession, attempt: LoginAttempt, *, outcome: str) -> None:
    """``outcome``: unknown_user, wrong_password or deactivated (the caller sees one message)."""
    await _record_login(session, attempt, LOGIN_FAILED, {"outcome": outcome})


async def login_throttled(
    session: AsyncSession, attempt: LoginAttempt, throttled: Throttled, *, refusals: int
) -> None:
    """``refusals`` counts this one and those on the same limit not recorded since the last."""
    details = {
        "outcome": "throttled",
        "limit": str(throttled.limit),
        "retry_after": throttled.retry_after,
        "refusals": refusals,
    }
    await _record_login(session, attempt, LOGIN_THROTTLED, details)


async def role_refused(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    staff_id: int,
    username: str,
    role: str,
    allowed: Iterable[str],
    route: str,
    path: str,
    address: str,
) -> None:
    """Committed at once in a transaction of its own: the request's is rolled back on the 403
    (and is read-only for a GET)."""
    async with sessionmaker() as session, session.begin():
        await audit.record_by(
            session,
            staff_id=staff_id,
            username=username,
            action=ROLE_NOT_ALLOWED,
            entity_type="route",
            entity_id=route[:_ENTITY_ID_MAX],
            after={
                "outcome": "role_not_allowed",
                "address": address[:_ADDRESS_MAX],
                "role": role,
                "allowed": sorted(allowed),
                "path": path[:_PATH_MAX],
            },
        )


async def _record_login(
    session: AsyncSession,
    attempt: LoginAttempt,
    action: str,
    details: dict[str, Any],
    *,
    staff: Staff | None = None,
) -> None:
    username = attempt.username[:_USERNAME_MAX]
    await audit.record_by(
        session,
        staff_id=staff.id if staff is not None else None,
        username=staff.username if staff is not None else username,
        action=action,
        entity_type="login",
        entity_id=username,
        after={
            **details,
            "username": username,
            "address": attempt.address[:_ADDRESS_MAX],
            "delay_s": attempt.delay_s,
        },
    )
