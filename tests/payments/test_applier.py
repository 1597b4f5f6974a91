"""The webhook acknowledges in one statement; the background applier applies, exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.config import Settings
from santap.models import (
    Notification,
    Order,
    OrderStatus,
    OrderStatusHistory,
    Payment,
    PaymentStatus,
    PaymentStatusHistory,
)
from santap.payments import applier, inbox_sql
from tests.fixtures.database import another_instance, kill_listeners
from tests.fixtures.inbox import WEBHOOK_PATH, applied
from tests.fixtures.payments import (
    HeldMidtrans,
    get_order,
    notification,
    order_with_qris,
    pay_with_notifications_lost,
)

NO_VERIFY = {"MIDTRANS_VERIFY_STATUS": False}
HELD = {**NO_VERIFY, "SANTAP_APPLIER": False}
# Without a wake-up it would look only once a minute.
NO_SWEEP = {"SANTAP_APPLIER_SWEEP_S": 60}


def _instance(settings: Settings, **overrides: object) -> Any:
    return another_instance(settings, **{**NO_VERIFY, **overrides})


async def _statuses(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[Any, ...]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Notification.outcome, Notification.applied_at.is_not(None)).order_by(
                Notification.id
            )
        )
        return [tuple(row) for row in rows]


async def _eventually_paid(client: httpx.AsyncClient, order: dict[str, Any], within: float) -> None:
    for _ in range(int(within / 0.05)):
        if (await get_order(client, order))["status"] == "paid":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"order {order['id']} not paid within {within} s")


@pytest.mark.parametrize("settings_overrides", [HELD])
async def test_a_notification_acknowledged_while_no_applier_runs_is_applied_after_restart(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], "settlement", "35000.00")
    acknowledged = await client.post(WEBHOOK_PATH, json=body)
    assert acknowledged.json() == {"status": "accepted"}
    assert (await client.post(WEBHOOK_PATH, json=body)).json() == {"status": "duplicate"}
    assert await _statuses(sessionmaker) == [("received", False)]
    assert (await get_order(client, order))["status"] == "pending_payment"

    async with _instance(settings) as restarted:
        await applied(restarted)
    assert (await get_order(client, order))["status"] == "paid"
    assert await _statuses(sessionmaker) == [("applied", True)]


@pytest.mark.parametrize("settings_overrides", [HELD])
async def test_two_appliers_never_apply_one_row_twice(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    orders = [await order_with_qris(client, demo_menu) for _ in range(6)]
    for _, payment in orders:
        for status in ("pending", "settlement"):
            body = notification(payment["order_uid"], status, "35000.00")
            assert (await client.post(WEBHOOK_PATH, json=body)).status_code == 200
    async with _instance(settings) as one, _instance(settings) as two:
        await asyncio.gather(applied(one), applied(two))
    statuses = await _statuses(sessionmaker)
    assert len(statuses) == 12
    assert all(done for _, done in statuses)
    async with sessionmaker() as session:
        changes = await session.scalar(select(func.count()).select_from(PaymentStatusHistory))
    assert changes == 6 * 3  # creating, pending and paid for each; nothing applied twice
    for order, _ in orders:
        assert (await get_order(client, order))["status"] == "paid"


async def test_a_slow_status_check_does_not_slow_the_acknowledgement(
    app: FastAPI,
    raw_client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order, payment = await order_with_qris(raw_client, demo_menu)
    await simulator.choose_qris(payment["order_uid"])
    simulator.faults.drop_rate = 1.0
    await simulator.pay(payment["order_uid"])
    held = HeldMidtrans(app, monkeypatch, method="get_status")
    try:
        bodies = [
            notification(payment["order_uid"], "settlement", "35000.00", status_message=f"{n}")
            for n in range(5)
        ]
        answers = await asyncio.wait_for(
            asyncio.gather(*(raw_client.post(WEBHOOK_PATH, json=b) for b in bodies)), timeout=5
        )
        assert [a.json() for a in answers] == [{"status": "accepted"}] * 5
        await asyncio.wait_for(held.entered.wait(), timeout=5)  # the applier asks Midtrans
        assert (await get_order(raw_client, order))["status"] == "pending_payment"
    finally:
        held.release.set()
    await applied(app)
    assert (await get_order(raw_client, order))["status"] == "paid"


@pytest.mark.parametrize("settings_overrides", [NO_VERIFY])
async def test_a_background_task_that_fails_is_restarted(
    app: FastAPI,
    client: httpx.AsyncClient,
    raw_client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = applier.apply_due
    calls = 0

    async def failing_once(*args: Any, **kwargs: Any) -> dict[str, int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return await real(*args, **kwargs)

    monkeypatch.setattr(applier, "apply_due", failing_once)
    order, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], "settlement", "35000.00")
    acknowledged = await raw_client.post(WEBHOOK_PATH, json=body)
    assert acknowledged.status_code == 200
    await _eventually_paid(client, order, within=10)
    [task] = [t for t in app.state.background if t.name == "applier"]
    assert task.restarts == 1
    assert task.running


async def test_ready_reports_a_stopped_background_task(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["background_tasks"]["applier"] is True
    [task] = [t for t in app.state.background if t.name == "applier"]
    await task.stop()
    stopped = await client.get("/ready")
    assert stopped.status_code == 503
    assert stopped.json()["error"]["details"]["background_tasks"]["applier"] is False


@pytest.mark.postgresql_only
@pytest.mark.parametrize("settings_overrides", [HELD])
async def test_another_process_is_woken_by_notify(
    client: httpx.AsyncClient, demo_menu: dict[str, int], settings: Settings
) -> None:
    async with _instance(settings, **NO_SWEEP):
        await asyncio.sleep(0.5)  # its listener is connected
        order, payment = await order_with_qris(client, demo_menu)
        body = notification(payment["order_uid"], "settlement", "35000.00")
        assert (await client.post(WEBHOOK_PATH, json=body)).status_code == 200
        await _eventually_paid(client, order, within=3)


@pytest.mark.postgresql_only
@pytest.mark.parametrize("settings_overrides", [HELD])
async def test_a_killed_listener_connection_loses_no_notification(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    settings: Settings,
    app: FastAPI,
) -> None:
    async with _instance(settings, **NO_SWEEP) as other:
        await asyncio.sleep(0.5)
        killed = await kill_listeners(app.state.engine)
        assert killed == 2  # this app's (it listens for live events) and the other's
        # Acknowledged while the listener is down: caught up when it reconnects.
        order, payment = await order_with_qris(client, demo_menu)
        body = notification(payment["order_uid"], "settlement", "35000.00")
        assert (await client.post(WEBHOOK_PATH, json=body)).status_code == 200
        await _eventually_paid(client, order, within=8)
        [listener] = [t for t in other.state.background if t.name == "listener"]
        assert listener.restarts == 1
        assert listener.running


async def _acknowledged_settlement(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    order, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], "settlement", "35000.00")
    assert (await client.post(WEBHOOK_PATH, json=body)).json() == {"status": "accepted"}
    return order, payment


def _after_the_first_read(
    monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], Awaitable[None]]
) -> list[int]:
    """Run ``meanwhile`` between the applier's first read of where rows stand and its write;
    the returned list counts the reads."""
    reads: list[int] = []
    real_standings = inbox_sql.standings

    async def standings(*args: Any, **kwargs: Any) -> Any:
        found = await real_standings(*args, **kwargs)
        reads.append(1)
        if len(reads) == 1:
            await meanwhile()
        return found

    monkeypatch.setattr(inbox_sql, "standings", standings)
    return reads


@pytest.mark.postgresql_only  # SQLite applies through the ORM under its write lock: no stale read
@pytest.mark.parametrize("settings_overrides", [HELD])
async def test_an_order_cancelled_after_the_applier_read_it_is_not_paid(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The applier plans on what it read; an order that moved before the write (cancelled
    here, between PostgreSQL's read and its one-statement write) is planned again: the
    settlement is flagged for a refund instead of paying a cancelled order."""
    order, payment = await _acknowledged_settlement(client, demo_menu)

    async def cancel() -> None:
        cancelled = await client.post(
            f"/api/v1/admin/orders/{order['id']}/cancel",
            json={"reason": "walked out"},
            headers=admin_headers,
        )
        assert cancelled.status_code == 200, cancelled.text

    reads = _after_the_first_read(monkeypatch, cancel)
    outcomes = await applier.apply_due(sessionmaker, app.state.payment_gateway)
    assert outcomes == {"applied": 1}
    assert len(reads) == 2  # the write found the order moved: read again, planned again
    assert (await get_order(client, order))["status"] == "cancelled"
    flagged = await client.get("/api/v1/admin/payments?flag=needs_refund", headers=admin_headers)
    assert [p["order_uid"] for p in flagged.json()] == [payment["order_uid"]]
    assert flagged.json()[0]["status"] == "paid"
    async with sessionmaker() as session:
        changes = (
            await session.scalars(
                select(PaymentStatusHistory.to_status).order_by(PaymentStatusHistory.id)
            )
        ).all()
    assert changes == ["creating", "pending", "cancelled", "paid"]
    assert await _statuses(sessionmaker) == [("applied", True)]


@pytest.mark.postgresql_only
@pytest.mark.parametrize("settings_overrides", [HELD])
async def test_an_order_paid_elsewhere_after_the_applier_read_it_is_not_paid_twice(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the order moved (another writer paid it) while the attempt stayed pending: the
    write's check on the order's status catches that too."""
    order, payment = await _acknowledged_settlement(client, demo_menu)

    async def pay_the_order() -> None:
        async with sessionmaker.begin() as session:
            await session.execute(
                update(Order).where(Order.id == order["id"]).values(status=OrderStatus.PAID)
            )

    _after_the_first_read(monkeypatch, pay_the_order)
    assert await applier.apply_due(sessionmaker, app.state.payment_gateway) == {"applied": 1}
    async with sessionmaker() as session:
        paid = await session.scalar(
            select(Payment).where(Payment.order_uid == payment["order_uid"])
        )
        order_changes = await session.scalar(select(func.count()).select_from(OrderStatusHistory))
    assert paid is not None
    assert paid.status == "paid"
    assert paid.needs_refund
    assert order_changes == 1  # only "order placed": the applier did not pay it again


@pytest.mark.postgresql_only
@pytest.mark.parametrize("settings_overrides", [HELD])
async def test_an_attempt_expired_after_the_applier_read_it_is_paid_from_expired(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the attempt moved: the history row says where it really came from."""
    order, payment = await _acknowledged_settlement(client, demo_menu)

    async def expire_the_attempt() -> None:
        async with sessionmaker.begin() as session:
            await session.execute(
                update(Payment)
                .where(Payment.order_uid == payment["order_uid"])
                .values(status=PaymentStatus.EXPIRED)
            )

    _after_the_first_read(monkeypatch, expire_the_attempt)
    assert await applier.apply_due(sessionmaker, app.state.payment_gateway) == {"applied": 1}
    assert (await get_order(client, order))["status"] == "paid"
    async with sessionmaker() as session:
        last = await session.scalar(
            select(PaymentStatusHistory).order_by(PaymentStatusHistory.id.desc()).limit(1)
        )
    assert last is not None
    assert (last.from_status, last.to_status) == ("expired", "paid")


@pytest.mark.parametrize("settings_overrides", [{"SANTAP_APPLIER": False}])
async def test_an_unexpected_error_checking_one_row_does_not_stop_the_rest_of_its_batch(
    app: FastAPI,
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payments = [(await order_with_qris(client, demo_menu))[1] for _ in range(2)]
    for payment in payments:
        await pay_with_notifications_lost(simulator, payment["order_uid"])
        body = notification(payment["order_uid"], "settlement", "35000.00")
        assert (await client.post(WEBHOOK_PATH, json=body)).json() == {"status": "accepted"}
    midtrans = app.state.payment_gateway.client
    real_status = midtrans.get_status

    async def broken_for_the_first(order_uid: str, *args: Any, **kwargs: Any) -> Any:
        if order_uid == payments[0]["order_uid"]:
            raise RuntimeError("unexpected")
        return await real_status(order_uid, *args, **kwargs)

    monkeypatch.setattr(midtrans, "get_status", broken_for_the_first)
    outcomes = await applier.apply_due(sessionmaker, app.state.payment_gateway)
    assert outcomes == {"applied": 1, "queued": 1}


@pytest.mark.parametrize("settings_overrides", [HELD])
async def test_a_shutdown_lets_the_batch_in_hand_finish(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], "settlement", "35000.00")
    assert (await client.post(WEBHOOK_PATH, json=body)).json() == {"status": "accepted"}
    entered, release = asyncio.Event(), asyncio.Event()
    real = applier.apply_one

    async def held(*args: Any, **kwargs: Any) -> str:
        entered.set()
        await release.wait()
        return await real(*args, **kwargs)

    monkeypatch.setattr(applier, "apply_one", held)
    async with _instance(settings) as other:
        other.state.applier.wake()
        await asyncio.wait_for(entered.wait(), timeout=5)
        # The shutdown starts while the row is in hand; the row is let go a moment later.
        asyncio.get_running_loop().call_later(0.2, release.set)
    assert (await get_order(client, order))["status"] == "paid"
    assert await _statuses(sessionmaker) == [("applied", True)]
