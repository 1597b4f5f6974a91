from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import Notification
from santap.models.base import utcnow

# The applier is off: the rows stored here stay as they are while /ready looks at them.
LIMIT = {"SANTAP_READY_MAX_STALE_INBOX": 2, "SANTAP_APPLIER": False}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"SANTAP_APPLIER": False}


async def _store(
    sessionmaker: async_sessionmaker[AsyncSession],
    count: int,
    *,
    age: timedelta,
    signature_valid: bool = True,
    applied: bool = False,
) -> None:
    received_at = utcnow() - age
    async with sessionmaker() as session:
        for _ in range(count):
            session.add(
                Notification(
                    dedupe_key=uuid.uuid4().hex,
                    order_uid="SNTP-stale",
                    transaction_status="settlement",
                    raw_body="{}",
                    source_ip="127.0.0.1",
                    signature_valid=signature_valid,
                    outcome="retry" if signature_valid else "invalid_signature",
                    received_at=received_at,
                    applied_at=received_at if applied else None,
                )
            )
        await session.commit()


@pytest.mark.parametrize("settings_overrides", [LIMIT])
async def test_ready_fails_when_stale_unapplied_notifications_pile_up(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _store(sessionmaker, 2, age=timedelta(minutes=10))
    # None of these count: fresh, applied, or forged rows.
    await _store(sessionmaker, 3, age=timedelta(minutes=1))
    await _store(sessionmaker, 3, age=timedelta(minutes=10), applied=True)
    await _store(sessionmaker, 3, age=timedelta(minutes=10), signature_valid=False)
    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert body["inbox"]["unapplied"] == 5
    assert 600 <= body["inbox"]["oldest_unapplied_age_s"] < 660

    await _store(sessionmaker, 1, age=timedelta(minutes=6))
    not_ready = await client.get("/ready")
    assert not_ready.status_code == 503
    error = not_ready.json()["error"]
    assert error["code"] == "not_ready"
    details = error["details"]
    assert (details["stale_unapplied_notifications"], details["max"]) == (3, 2)
    assert details["inbox"]["unapplied"] == 6
    assert (await client.get("/health")).status_code == 200


async def test_the_default_limit_tolerates_a_few_stale_rows(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _store(sessionmaker, 10, age=timedelta(minutes=10))
    assert (await client.get("/ready")).status_code == 200
    await _store(sessionmaker, 1, age=timedelta(minutes=10))
    assert (await client.get("/ready")).status_code == 503


async def test_metrics_show_every_unapplied_row_whatever_its_age(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _store(sessionmaker, 2, age=timedelta(minutes=10))
    await _store(sessionmaker, 1, age=timedelta(seconds=5))
    await _store(sessionmaker, 4, age=timedelta(minutes=10), signature_valid=False)
    text = (await client.get("/metrics")).text
    assert "santap_inbox_unapplied 3.0" in text.splitlines()
