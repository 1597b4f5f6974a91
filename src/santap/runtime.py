"""Process tuning applied once start-up is done.

Start-up leaves a large, long-lived heap (modules, routes, Pydantic validators, SQLAlchemy
mappers and compiled-statement caches) that CPython's cyclic collector would otherwise
traverse again in every full collection. A request allocates hundreds of container objects,
so at CPython's default young-generation threshold (700) a collection runs every request or
two, although almost everything a request makes is freed by reference counting anyway."""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)

# Net container allocations between young collections (CPython's default is 700). Older
# generations keep CPython's ratios (10, 10): they count young collections, so they too run
# about 70 times less often.
GEN0_THRESHOLD = 50_000


def freeze_startup_heap() -> None:
    """Move every object alive now into the permanent generation, which no collection
    traverses, and make young collections rarer. Garbage is collected first so that none is
    kept forever."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
    logger.debug(
        "froze %d start-up objects; gc thresholds %s", gc.get_freeze_count(), gc.get_threshold()
    )
