"""The staff console's session: the bearer token in an HttpOnly, SameSite=Strict cookie, and a
CSRF token derived from it for every form post (an HMAC under the app's secret key)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from santap.config import Settings
from santap.models import Staff
from santap.staff import service as staff_service
from santap.staff.dependencies import SettingsDep, staff_for

COOKIE = "santap_staff"


def csrf_token(settings: Settings, session_token: str) -> str:
    key = settings.signing_key().encode()
    return hmac.new(key, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def csrf_valid(request: Request, settings: Settings, submitted: object) -> bool:
    token = request.cookies.get(COOKIE)
    if not token or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(csrf_token(settings, token), submitted)


async def current_staff(request: Request, settings: Settings) -> Staff | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return await staff_for(request, settings, token)
    except staff_service.NotAuthenticated:
        return None


def start(response: Response, request: Request, token: str, ttl_s: int) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=ttl_s,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/staff/login?next={request.url.path}", status_code=303)


class CsrfRefused(Exception):
    """A console form post without this session's CSRF token (answered 403)."""


async def checked_form(request: Request, settings: SettingsDep) -> FormData:
    form = await request.form()
    if not csrf_valid(request, settings, form.get("csrf")):
        raise CsrfRefused()
    return form


# A console form, its CSRF token checked.
CheckedForm = Annotated[FormData, Depends(checked_form)]
