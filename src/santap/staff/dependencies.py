"""Who is calling: ``CurrentStaff`` (any active staff), ``CashierDep`` (cashier or admin),
``AdminDep`` (admin), ``OptionalStaff`` (None unless a valid staff token is sent)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from santap.config import Settings
from santap.db import SessionDep
from santap.errors import Forbidden
from santap.models import Staff, StaffRole
from santap.staff import service
from santap.staff.ratelimit import LoginLimiter

_bearer = HTTPBearer(auto_error=False, description="Staff access token from /api/v1/auth/login")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_login_limiter(request: Request) -> LoginLimiter:
    """The app's limiter, made on first use; it lives on ``app.state`` so apps don't share it."""
    limiter: LoginLimiter | None = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = LoginLimiter.create()
        request.app.state.login_limiter = limiter
    return limiter


LoginLimiterDep = Annotated[LoginLimiter, Depends(get_login_limiter)]


async def get_current_staff(
    session: SessionDep, settings: SettingsDep, credentials: BearerDep
) -> Staff:
    if credentials is None:
        raise service.NotAuthenticated()
    return await service.staff_for_token(session, settings=settings, token=credentials.credentials)


async def get_optional_staff(
    session: SessionDep, settings: SettingsDep, credentials: BearerDep
) -> Staff | None:
    if credentials is None:
        return None
    try:
        return await service.staff_for_token(
            session, settings=settings, token=credentials.credentials
        )
    except service.NotAuthenticated:
        return None


CurrentStaff = Annotated[Staff, Depends(get_current_staff)]
OptionalStaff = Annotated[Staff | None, Depends(get_optional_staff)]


class RoleNotAllowed(Forbidden):
    code = "role_not_allowed"


def require_role(*roles: StaffRole) -> Callable[[Staff], Awaitable[Staff]]:
    """A dependency admitting only staff with one of ``roles`` (401 without a token, else 403)."""
    allowed = frozenset(roles)

    async def dependency(staff: CurrentStaff) -> Staff:
        if staff.role not in allowed:
            names = " or ".join(sorted(allowed))
            raise RoleNotAllowed(f"This action needs the {names} role")
        return staff

    return dependency


AdminDep = Annotated[Staff, Depends(require_role(StaffRole.ADMIN))]
CashierDep = Annotated[Staff, Depends(require_role(StaffRole.CASHIER, StaffRole.ADMIN))]
