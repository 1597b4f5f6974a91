"""Pages in a real browser: Debian's Chromium driven by Playwright, against the app served on
a real port in the test's own event loop (its simulator's pages included)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, async_playwright

from santap.menu import service as menu_service
from tests.fixtures.database import make_settings, running_app
from tests.fixtures.live import serving
from tests.fixtures.server import free_port

CHROMIUM = os.environ.get("SANTAP_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class Site:
    url: str
    app: FastAPI


@pytest.fixture
async def site(database_url: str, settings_overrides: dict[str, object]) -> AsyncIterator[Site]:
    """The app on a real port, with the URLs it hands out (the simulator's payment page)
    pointing at that port, and the demo menu."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(database_url, **{**settings_overrides, "SANTAP_PUBLIC_BASE_URL": url})
    async with running_app(settings, in_process_simulator=True) as app:
        async with app.state.sessionmaker() as session:
            await menu_service.seed_demo_menu(session)
            await session.commit()
        async with serving(app, port):
            yield Site(url, app)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Chromium headless. A missing browser fails the test: CI installs it (.ci/run)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no browser at {CHROMIUM}: install Debian's chromium (see .ci/run)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield launched
        finally:
            await launched.close()


def shot_path(name: str) -> str:
    SHOTS.mkdir(exist_ok=True)
    return str(SHOTS / f"{name}.png")
