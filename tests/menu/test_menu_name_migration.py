"""Migration 0009 on a database that already has repeated item names: the oldest keeps its
name, later ones are numbered, and the unique index then holds (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import make_url, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from santap import migrate
from santap.config import Settings
from santap.db import create_engine
from tests.fixtures.database import make_settings

LONG = "Nasi Campur " + "x" * 88  # 100 characters, the column's limit
ITEMS = [  # (id, category, name), as an older Santap could have saved them
    (1, 1, "Es Teh"),
    (2, 1, "Es Teh"),
    (3, 2, "Es Teh"),  # another category: not a repeat
    (4, 1, "Es Teh (2)"),  # a number already taken is skipped
    (5, 1, "Es Teh"),
    (6, 1, LONG),
    (7, 1, LONG),
]


@pytest.fixture
def fresh_settings(database_url: str, tmp_path: Path) -> Iterator[Settings]:
    """An empty database of its own on the test's backend."""
    if database_url.startswith("sqlite"):
        yield make_settings(f"sqlite:///{tmp_path / 'migration.db'}")
        return
    server = make_url(make_settings(database_url).async_database_url)
    name = f"{server.database}_m0009"
    asyncio.run(_recreate(server.render_as_string(hide_password=False), name, create=True))
    try:
        yield make_settings(server.set(database=name).render_as_string(hide_password=False))
    finally:
        asyncio.run(_recreate(server.render_as_string(hide_password=False), name, create=False))


async def _recreate(server_url: str, name: str, *, create: bool) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def _run(settings: Settings, statement: str, rows: list[dict[str, Any]]) -> list[Any]:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            if rows:
                await conn.execute(text(statement), rows)
                return []
            return list((await conn.execute(text(statement))).all())
    finally:
        await engine.dispose()


def _insert_items(settings: Settings, items: list[tuple[int, int, str]]) -> None:
    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    rows = [
        {"id": item_id, "category_id": category_id, "name": name, "now": now}
        for item_id, category_id, name in items
    ]
    asyncio.run(
        _run(
            settings,
            "INSERT INTO menu_item (id, category_id, name, description, price, is_available, "
            "is_retired, created_at, updated_at) "
            "VALUES (:id, :category_id, :name, '', 5000, true, false, :now, :now)",
            rows,
        )
    )


def _order_lines(settings: Settings, item_ids: list[int]) -> None:
    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    asyncio.run(
        _run(
            settings,
            'INSERT INTO "order" (id, access_token_hash, status, total_amount, created_at, '
            "updated_at) VALUES (1, 'x', 'pending_payment', :total, :now, :now)",
            [{"total": 5000 * len(item_ids), "now": now}],
        )
    )
    asyncio.run(
        _run(
            settings,
            "INSERT INTO order_item (order_id, menu_item_id, name, unit_price, quantity) "
            "VALUES (1, :item_id, 'as ordered', 5000, 1)",
            [{"item_id": item_id} for item_id in item_ids],
        )
    )


def test_repeated_names_are_numbered_and_then_refused(
    fresh_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    migrate.upgrade(fresh_settings, "0008")
    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    asyncio.run(
        _run(
            fresh_settings,
            "INSERT INTO menu_category (id, name, position, is_active, created_at, updated_at) "
            "VALUES (:id, :name, 0, true, :now, :now)",
            [{"id": 1, "name": "Minuman", "now": now}, {"id": 2, "name": "Es", "now": now}],
        )
    )
    _insert_items(fresh_settings, ITEMS)
    _order_lines(fresh_settings, [2, 7])  # rows that point at menu_item: no table rebuild

    with caplog.at_level("WARNING", logger="santap.migrations"):
        migrate.upgrade(fresh_settings)
    rows = asyncio.run(_run(fresh_settings, "SELECT id, name FROM menu_item ORDER BY id", []))
    assert [tuple(row) for row in rows] == [
        (1, "Es Teh"),
        (2, "Es Teh (3)"),
        (3, "Es Teh"),
        (4, "Es Teh (2)"),
        (5, "Es Teh (4)"),
        (6, LONG),
        (7, LONG[:96] + " (2)"),
    ]
    assert len([r for r in caplog.records if "renamed" in r.getMessage()]) == 3
    lines = asyncio.run(_run(fresh_settings, "SELECT menu_item_id, name FROM order_item", []))
    assert sorted(tuple(line) for line in lines) == [(2, "as ordered"), (7, "as ordered")]

    with pytest.raises(IntegrityError):
        _insert_items(fresh_settings, [(8, 1, "Es Teh")])
    command.downgrade(migrate.alembic_config(fresh_settings), "0008")
    _insert_items(fresh_settings, [(8, 1, "Es Teh")])  # the index is gone with 0009
