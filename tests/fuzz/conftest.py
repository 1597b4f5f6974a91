"""The app under fuzz: built like ``tests/conftest.py`` and seeded so deep paths are reachable.

Schemathesis calls an ASGI app from its own event-loop thread and runs the app's lifespan there,
so the app's engine lives in that loop; everything else here uses engines of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import cast

import pytest
from fastapi import FastAPI
from schemathesis.python import asgi

from santap.config import Settings
from santap.db import create_engine
from santap.main import create_app
from santap.staff import security
from tests.fixtures.database import empty_tables
from tests.fuzz._seed import Seeded, seed_database, seed_over_http


@pytest.fixture
def fuzz_app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings, in_process_simulator=True)
    try:
        yield app
    finally:
        # Schemathesis started the lifespan; end it before the tables are emptied.
        asgi.shutdown_lifespans()
        asyncio.run(_empty_tables(settings))


@pytest.fixture
def seeded(fuzz_app: FastAPI, settings: Settings) -> Seeded:
    admin, cashier = asyncio.run(seed_database(settings))
    with asgi.get_client(cast(asgi.ASGIApp, fuzz_app)) as http:
        return seed_over_http(
            http,
            admin_token=security.issue_token(settings, admin),
            cashier_token=security.issue_token(settings, cashier),
        )


async def _empty_tables(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        await empty_tables(engine)
    finally:
        await engine.dispose()
