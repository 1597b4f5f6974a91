from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.config import Settings
from santap.main import create_app
from santap.menu import service as menu_service
from tests.fixtures.database import backends, empty_tables, make_settings, prepare_database


@pytest.fixture(scope="session", params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    backend: str = request.param
    tmp_dir: Path = tmp_path_factory.mktemp(backend)
    return prepare_database(backend, tmp_dir)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        try:
            yield application
        finally:
            await empty_tables(application.state.engine)


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
async def demo_menu(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """The demo menu; returns item ids by name."""
    async with sessionmaker() as session:
        await menu_service.seed_demo_menu(session)
        await session.commit()
    async with sessionmaker() as session:
        menu = await menu_service.get_menu(session)
    return {item.name: item.id for category in menu.categories for item in category.items}
