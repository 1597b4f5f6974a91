"""The collector is tuned once start-up is done (santap.runtime)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from santap import main, runtime
from tests.fixtures.database import make_settings, running_app


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restore_gc")
def test_freeze_moves_the_heap_out_of_reach_and_raises_only_the_young_threshold() -> None:
    _, gen1, gen2 = gc.get_threshold()

    runtime.freeze_startup_heap()

    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold() == (runtime.GEN0_THRESHOLD, gen1, gen2)


@pytest.mark.parametrize("enabled", [True, False])
async def test_the_lifespan_freezes_after_start_up_unless_turned_off(
    database_url: str, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(main, "freeze_startup_heap", lambda: calls.append(True))
    settings = make_settings(database_url, SANTAP_GC_FREEZE=enabled)

    async with running_app(settings, in_process_simulator=True) as app:
        assert app.state.payment_gateway is not None

    assert calls == ([True] if enabled else [])
