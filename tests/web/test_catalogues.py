"""Every sentence the templates translate is in both catalogues: a missing one would show
English on an Indonesian page (gettext falls back to the msgid without a word)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from santap.web import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"
_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def _template_messages() -> set[str]:
    found = set()
    for template in TEMPLATES.glob("*.html"):
        for double, single in _CALL.findall(template.read_text()):
            found.add(double or single)
    return found


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_template_sentence_is_translated(locale: str) -> None:
    path = Path(i18n.__file__).parent / "locales" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    translated = {m.id for m in catalog if m.id and m.string}
    messages = _template_messages()
    assert len(messages) > 50  # the scan finds the templates' sentences
    assert sorted(messages - translated) == []
