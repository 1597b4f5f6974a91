from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.config import Settings
from santap.menu import service as menu_service
from santap.simulator import Simulator
from tests.fixtures.database import backends, make_settings, prepare_database, running_app
from tests.fixtures.inbox import WEBHOOK_PATH, applied

pytest_plugins = [
    "tests.fixtures.staff",
    "tests.fixtures.logs",
    "tests.fixtures.payments",
    "tests.fixtures.live",
    "tests.fixtures.server",
]


@pytest.fixture(scope="session", params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    backend: str = request.param
    tmp_dir: Path = tmp_path_factory.mktemp(backend)
    return prepare_database(backend, tmp_dir)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module (or with indirect parametrize) to change settings."""
    return {}


@pytest.fixture
def settings(database_url: str, settings_overrides: dict[str, object]) -> Settings:
    return make_settings(database_url, **settings_overrides)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with running_app(settings, in_process_simulator=True) as application:
        yield application


@pytest.fixture
def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return maker


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app. A notification it delivers that is acknowledged (2xx) has also
    been through the background applier when the answer is returned, so a test reads what it
    changed; ``raw_client`` returns at the acknowledgement."""

    async def settle(response: httpx.Response) -> None:
        if response.request.url.path == WEBHOOK_PATH and response.is_success:
            await applied(app)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", event_hooks={"response": [settle]}
    ) as http:
        yield http


@pytest.fixture
async def raw_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def simulator(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """The app's simulator; its ``drain()`` also waits until the app's applier has applied
    what the deliveries were acknowledged for, as a test then reads it."""
    sim: Simulator = app.state.simulator
    deliver = sim.drain

    async def drain() -> None:
        await deliver()
        await applied(app)

    monkeypatch.setattr(sim, "drain", drain)
    return sim


@pytest.fixture
async def demo_menu(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """The demo menu; returns item ids by name."""
    async with sessionmaker() as session:
        await menu_service.seed_demo_menu(session)
        await session.commit()
    async with sessionmaker() as session:
        menu = await menu_service.get_menu(session)
    return {item.name: item.id for category in menu.categories for item in category.items}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A ``postgresql_only`` test runs against PostgreSQL only: its SQLite variant is not a
    test of anything, so it is deselected rather than reported as skipped."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url", "").startswith(
            "sqlite"
        )
        sqlite_variant = "[sqlite" in item.name or on_sqlite
        (drop if item.get_closest_marker("postgresql_only") and sqlite_variant else keep).append(
            item
        )
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
