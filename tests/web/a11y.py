"""An automated accessibility check of a page (axe-core, vendored in tests/web/vendor)."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

from playwright.async_api import Page

_VENDOR = Path(__file__).parent / "vendor"


@cache
def _axe_source() -> str:
    source = (_VENDOR / "axe.min.js").read_bytes()
    recorded = re.search(r"`([0-9a-f]{64})`", (_VENDOR / "VENDORED.md").read_text())
    assert recorded, "VENDORED.md records no checksum"
    assert hashlib.sha256(source).hexdigest() == recorded.group(1), "axe.min.js was changed"
    return source.decode()


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2 A/AA)."""
    await page.add_script_tag(content=_axe_source())
    result: dict[str, Any] = await page.evaluate(
        """() => axe.run(document, {runOnly: {type: "tag",
              values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
