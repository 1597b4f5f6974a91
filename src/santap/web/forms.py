"""Numbers typed into the pages' forms. ASCII digits only: ``int()`` also takes other scripts'
digits, and refuses 4,300 digits and more with an error of its own."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,18}")


def number(value: object) -> int:
    """A whole number as typed (``ValueError`` otherwise)."""
    text = str(value).strip()
    if not _DIGITS.fullmatch(text):
        raise ValueError("not a plain number")
    return int(text)


def rupiah(value: object) -> int:
    """``28.000`` or ``28000``: the dot groups thousands, as Indonesians write amounts."""
    return number(str(value).replace(".", ""))
