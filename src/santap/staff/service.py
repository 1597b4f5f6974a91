from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from santap.audit import service as audit
from santap.config import Settings
from santap.errors import Conflict, NotFound, TooManyRequests, Unauthorized
from santap.models import Staff
from santap.staff import repository, security, trail
from santap.staff.ratelimit import LoginLimiter
from santap.staff.schemas import StaffCreate, StaffPasswordReset, TokenRead

_BEARER = {"WWW-Authenticate": "Bearer"}


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    # The failed login's audit row is committed; a refused login writes nothing else.
    keeps_changes = True

    def __init__(self) -> None:
        # One message whatever was wrong: unknown user, wrong password or deactivated account.
        super().__init__("Invalid username or password")


class NotAuthenticated(Unauthorized):
    code = "not_authenticated"

    def __init__(self, message: str = "A valid staff access token is required") -> None:
        super().__init__(message, headers=_BEARER)


class LoginThrottled(TooManyRequests):
    code = "too_many_login_attempts"
    keeps_changes = True  # as InvalidCredentials: its audit row, if any, and nothing else

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed logins; try again in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )


class StaffExists(Conflict):
    code = "staff_exists"


class StaffNotFound(NotFound):
    code = "staff_not_found"


async def login(
    session: AsyncSession,
    *,
    settings: Settings,
    limiter: LoginLimiter,
    username: str,
    password: str,
    client_ip: str,
) -> TokenRead:
    username = username.strip().lower()
    attempt = trail.LoginAttempt(username=username, address=client_ip)
    throttled = limiter.throttled(username=username, ip=client_ip)
    if throttled is not None:
        refusals = limiter.refusals_to_report(throttled)
        if refusals is not None:
            await trail.login_throttled(session, attempt, throttled, refusals=refusals)
        raise LoginThrottled(throttled.retry_after)
    # Before the first query, so that no database connection is held while the attempt waits.
    attempt.delay_s = await limiter.add_attempt(username=username, ip=client_ip)
    staff = await repository.get_by_username(session, username)
    valid = await security.check_password(staff.password_hash if staff else None, password)
    if staff is None or not valid or not staff.is_active:
        await trail.login_failed(session, attempt, outcome=_refusal(staff, valid))
        raise InvalidCredentials()
    limiter.add_success(username=username, ip=client_ip)
    if security.needs_rehash(staff.password_hash):
        staff.password_hash = await asyncio.to_thread(security.hash_password, password)
        await session.flush()
    await trail.login_succeeded(session, attempt, staff)
    return TokenRead(
        access_token=security.issue_token(settings, staff),
        role=staff.role,
        expires_in=settings.access_token_ttl_s,
    )


async def staff_for_token(session: AsyncSession, *, settings: Settings, token: str) -> Staff:
    """The active staff member the token was issued to, read afresh from the database so a
    deactivation takes effect at once."""
    try:
        claims = security.decode_token(settings, token)
    except security.InvalidToken:
        raise NotAuthenticated() from None
    staff = await repository.get_by_id(session, claims.staff_id)
    if staff is None:
        raise NotAuthenticated()
    if not staff.is_active:
        raise NotAuthenticated("This staff account is deactivated")
    if claims.epoch != staff.token_epoch:
        raise NotAuthenticated("This token was issued before the password or access changed")
    return staff


async def create_staff(session: AsyncSession, *, data: StaffCreate, actor: str) -> Staff:
    if await repository.get_by_username(session, data.username) is not None:
        raise StaffExists(f"Staff member {data.username!r} already exists")
    password_hash = await asyncio.to_thread(security.hash_password, data.password)
    staff = Staff(
        username=data.username, password_hash=password_hash, role=data.role, is_active=True
    )
    repository.add(session, staff)
    await session.flush()
    await audit.record(
        session,
        staff=None,
        actor=actor,
        action="staff.create",
        entity_type="staff",
        entity_id=staff.id,
        before=None,
        after=_snapshot(staff),
    )
    return staff


async def list_staff(session: AsyncSession) -> Sequence[Staff]:
    return await repository.list_all(session)


async def deactivate_staff(session: AsyncSession, *, username: str, actor: str) -> Staff:
    return await _set_active(session, username=username, active=False, actor=actor)


async def reactivate_staff(session: AsyncSession, *, username: str, actor: str) -> Staff:
    return await _set_active(session, username=username, active=True, actor=actor)


async def reset_password(
    session: AsyncSession, *, username: str, data: StaffPasswordReset, actor: str
) -> Staff:
    staff = await _get(session, username)
    staff.password_hash = await asyncio.to_thread(security.hash_password, data.password)
    staff.token_epoch += 1  # whoever held a token with the old password holds nothing now
    await session.flush()
    # The snapshot leaves the hash out: the action itself says what changed.
    await _audit(
        session, staff, actor=actor, action="staff.reset_password", before=_snapshot(staff)
    )
    return staff


async def _set_active(session: AsyncSession, *, username: str, active: bool, actor: str) -> Staff:
    staff = await _get(session, username)
    if staff.is_active == active:
        return staff
    before = _snapshot(staff)
    staff.is_active = active
    staff.token_epoch += 1  # a reactivation does not bring back tokens from before
    await session.flush()
    action = "staff.reactivate" if active else "staff.deactivate"
    await _audit(session, staff, actor=actor, action=action, before=before)
    return staff


async def _get(session: AsyncSession, username: str) -> Staff:
    staff = await repository.get_by_username(session, username.strip().lower())
    if staff is None:
        raise StaffNotFound(f"Staff member {username!r} was not found")
    return staff


async def _audit(
    session: AsyncSession, staff: Staff, *, actor: str, action: str, before: dict[str, object]
) -> None:
    await audit.record(
        session,
        staff=None,
        actor=actor,
        action=action,
        entity_type="staff",
        entity_id=staff.id,
        before=before,
        after=_snapshot(staff),
    )


def _refusal(staff: Staff | None, valid: bool) -> str:
    if staff is None:
        return "unknown_user"
    return "wrong_password" if not valid else "deactivated"


def _snapshot(staff: Staff) -> dict[str, object]:
    return {"username": staff.username, "role": staff.role, "is_active": staff.is_active}
