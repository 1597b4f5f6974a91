"""The pages' Jinja2 environment: autoescaped templates, rupiah as Indonesians write them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from santap.localtime import LOCAL_TZ
from santap.models import OrderStatus
from santap.web import i18n

_TEMPLATES = Path(__file__).parent / "templates"


def local_time(moment: datetime) -> str:
    """``14:05``, as the restaurant's clock shows it (Asia/Jakarta)."""
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M")


def rupiah(amount: int) -> str:
    """``Rp35.000``: the dot groups thousands, no decimals (the rupiah has no cents in use)."""
    return "Rp" + format_decimal(amount, format="#,##0", locale="id")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["rupiah"] = rupiah
    env.filters["local_time"] = local_time
    return env


def _translator(request: Request) -> Callable[..., str]:
    translations = i18n.translations(i18n.negotiate(request))

    def translate(message: str, **values: Any) -> str:
        text: str = translations.gettext(message)
        return text % values if values else text

    return translate


def status_labels(request: Request) -> dict[str, str]:
    """What the page's script shows for each order status, in the page's language."""
    translate = _translator(request)
    return {status.value: translate(status.value) for status in OrderStatus}


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    locale = i18n.negotiate(request)
    env = environment()
    body = env.get_template(template).render(
        _=_translator(request),
        locale=locale,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(body, status_code=status_code)
    if request.query_params.get("lang") in i18n.LOCALES:
        response.set_cookie(i18n.COOKIE, locale, max_age=365 * 86400, samesite="lax")
    return response
