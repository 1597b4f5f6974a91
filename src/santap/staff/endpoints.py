from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from santap.db import SessionDep, TransactionalRoute
from santap.net import client_ip
from santap.staff import service
from santap.staff.dependencies import LoginLimiterDep, SettingsDep
from santap.staff.schemas import LoginRequest, TokenRead

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=TransactionalRoute)

_LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Invalid username or password"},
    429: {"description": "Too many failed logins; see Retry-After"},
}


@router.post("/login", responses=_LOGIN_ERRORS)
async def login(
    data: LoginRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LoginLimiterDep,
) -> TokenRead:
    """Exchange a staff username and password for a short-lived bearer token."""
    return await service.login(
        session,
        settings=settings,
        limiter=limiter,
        username=data.username,
        password=data.password,
        client_ip=client_ip(request, settings.trusted_proxies),
    )
