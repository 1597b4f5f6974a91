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

pytest_plugins = ["tests.fixtures.staff", "tests.fixtures.logs", "tests.fixtures.payments"]


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
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def simulator(app: FastAPI) -> Simulator:
    sim: Simulator = app.state.simulator
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
