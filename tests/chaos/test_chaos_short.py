"""The chaos run's short form (bench/chaos.py): 300 orders through two `santap serve`
processes sharing one database, a faulty simulator, forgeries and a SIGKILL.

It runs on SQLite always (two processes on one WAL file; BEGIN IMMEDIATE serializes
writers) and on PostgreSQL when TEST_DATABASE_URL is set, in its own `santap_chaos`
database on that server so the shared test database is never touched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench.chaos import ChaosConfig, run_chaos

from tests.fixtures.database import backends


@pytest.mark.parametrize("backend", backends())
async def test_short_chaos_run_ends_where_the_simulator_says(backend: str, tmp_path: Path) -> None:
    postgres_url = os.environ["TEST_DATABASE_URL"] if backend == "postgresql" else None
    config = ChaosConfig(
        orders=300, postgres_url=postgres_url, workdir=tmp_path, settle_timeout_s=120
    )

    result = await run_chaos(config)
    (tmp_path / "summary.txt").write_text(result.summary())

    assert result.ok, result.summary()
    assert result.kills == result.restarts == 1
    # The faults really happened (each check is shown able to fail in test_chaos_checks.py).
    for fault in ("forged_sent", "dropped", "duplicated", "reordered"):
        assert result.figures[fault] > 0, fault
