"""Page text in Bahasa Indonesia (the default) or English, from gettext catalogues.

The ``.po`` files under ``locales/`` are the source; they are compiled in memory with Babel
when first used, so there is no build step and no binary file to keep in step."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

LOCALES = ("id", "en")
DEFAULT = "id"
COOKIE = "santap_lang"
_DIR = Path(__file__).parent / "locales"


@cache
def translations(locale: str) -> Translations:
    with (_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def negotiate(request: Request) -> str:
    """``?lang=`` (the toggle), then the cookie it sets, then Accept-Language, then id."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if chosen in LOCALES:
            return chosen
    accepted = request.headers.get("accept-language", "")
    ranked = []
    for part in accepted.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((quality, tag.split("-")[0].lower()))
    for _quality, language in sorted(ranked, reverse=True):
        if language in LOCALES:
            return language
    return DEFAULT
