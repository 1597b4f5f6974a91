"""Who is calling: ``CurrentStaff`` (any active staff), ``CashierDep`` (cashier or admin),
``AdminDep`` (admin), ``OptionalStaff`` (None unless a valid staff token is sent)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from santap.config import Settings
from santap.db import SessionDep
from santap.errors import Forbidden
from santap.models import Staff, StaffRole
from santap.net import client_ip
from santap.staff import service, trail
from santap.staff.ratelimit import LoginLimiter

_bearer = HTTPBearer(auto_error=False, description="Staff access token from /api/v1/auth/login")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_login_limiter(request: Request) -> LoginLimiter:
    """The app's limiter, made on first use; it lives on ``app.state`` so apps don't share it."""
    limiter: LoginLimiter | None = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = LoginLimiter.create()
        request.app.state.login_limiter = limiter
    return limiter


LoginLimiterDep = Annotated[LoginLimiter, Depends(get_login_limiter)]


async def staff_for(request: Request, settings: Settings, token: str) -> Staff:
    """Read in a short read-only session of its own, not the request's: a request that must
    call Midtrans between its transactions (cash) can then authenticate without opening one
    (on SQLite, without taking the write lock)."""
    async with request.app.state.read_sessionmaker() as session:
        return await service.staff_for_token(session, settings=settings, token=token)


async def get_current_staff(
    request: Request, settings: SettingsDep, credentials: BearerDep
) -> Staff:
    if credentials is None:
        raise service.NotAuthenticated()
    return await staff_for(request, settings, credentials.credentials)


async def get_optional_staff(
    request: Request, settings: SettingsDep, credentials: BearerDep
) -> Staff | None:
    if credentials is None:
        return None
    try:
        return await staff_for(request, settings, credentials.credentials)
    except service.NotAuthenticated:
        return None


CurrentStaff = Annotated[Staff, Depends(get_current_staff)]
OptionalStaff = Annotated[Staff | None, Depends(get_optional_staff)]


class RoleNotAllowed(Forbidden):
    code = "role_not_allowed"


def require_role(*roles: StaffRole) -> Callable[..., Awaitable[Staff]]:
    """A dependency admitting only staff with one of ``roles`` (401 without a token, else 403,
    which goes into the audit log)."""
    allowed = frozenset(roles)

    async def dependency(
        staff: CurrentStaff, request: Request, session: SessionDep, settings: SettingsDep
    ) -> Staff:
        if staff.role not in allowed:
            await _record_refusal(request, session, settings, staff, allowed)
            names = " or ".join(sorted(allowed))
            raise RoleNotAllowed(f"This action needs the {names} role")
        return staff

    return dependency


async def _record_refusal(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    staff: Staff,
    allowed: frozenset[StaffRole],
) -> None:
    # The 403 rolls the request's transaction back anyway. Ending it first releases its
    # connection (on SQLite, the write lock the refusal's own transaction needs); the rollback
    # expires ``staff``, so its values are read before.
    staff_id, username, role = staff.id, staff.username, str(staff.role)
    await session.rollback()
    route = request.scope.get("route")
    template = route.path if isinstance(route, APIRoute) else request.url.path
    await trail.role_refused(
        request.app.state.sessionmaker,
        staff_id=staff_id,
        username=username,
        role=role,
        allowed=(str(name) for name in allowed),
        route=f"{request.method} {template}",
        path=request.url.path,
        address=client_ip(request, settings.trusted_proxies),
    )


AdminDep = Annotated[Staff, Depends(require_role(StaffRole.ADMIN))]
CashierDep = Annotated[Staff, Depends(require_role(StaffRole.CASHIER, StaffRole.ADMIN))]
