"""Notification delivery: signatures, Midtrans' retry schedule, and the fault knobs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from santap.gateways.midtrans import verify_signature
from santap.simulator import Faults, Simulator, create_simulator
from santap.simulator.notifier import retry_budget
from santap.simulator.testing import NotificationRecorder

KEY = "SB-Mid-server-notify"


def qris(order_id: str) -> dict[str, Any]:
    return {
        "payment_type": "qris",
        "transaction_details": {"order_id": order_id, "gross_amount": 20000},
    }


async def test_each_change_is_notified_and_signed(
    sim: Simulator, receiver: NotificationRecorder, server_key: str
) -> None:
    sim.charge(qris("N-1"))
    await sim.pay("N-1")
    sim.charge(qris("N-2"))
    await sim.expire_transaction("N-2")
    sim.charge(qris("N-3"))
    await sim.cancel_transaction("N-3")
    await sim.drain()
    by_order = {(n["order_id"], n["transaction_status"]): n for n in receiver.received}
    assert set(by_order) == {
        ("N-1", "pending"),
        ("N-1", "settlement"),
        ("N-2", "pending"),
        ("N-2", "expire"),
        ("N-3", "pending"),
        ("N-3", "cancel"),
    }
    assert all(verify_signature(n, server_key) for n in receiver.received)
    codes = {status: n["status_code"] for (_, status), n in by_order.items()}
    assert codes == {"pending": "201", "settlement": "200", "expire": "202", "cancel": "202"}
    settled = by_order[("N-1", "settlement")]
    assert settled["status_message"] == "midtrans payment notification"
    assert {"settlement_time", "transaction_type", "issuer", "acquirer"} <= set(settled)
    assert settled["gross_amount"] == "20000.00"


async def test_refund_notifies_twice_second_with_bank_confirmation(
    sim: Simulator, receiver: NotificationRecorder
) -> None:
    sim.charge(qris("N-4"))
    await sim.pay("N-4")
    sim.refund("N-4", {"refund_key": "rk", "amount": 5000})
    await sim.drain()
    first, second = receiver.received[-2:]
    assert first["transaction_status"] == second["transaction_status"] == "partial_refund"
    assert "bank_confirmed_at" not in first["refunds"][0]
    assert "bank_confirmed_at" in second["refunds"][0]
    assert second["refund_amount"] == "5000.00"


@pytest.mark.parametrize(
    ("answer", "attempts"),
    [(500, 2), (503, 5), (400, 3), (404, 3), (302, 1), (418, 6)],
)
async def test_retry_counts_follow_reply_code(
    sim: Simulator, receiver: NotificationRecorder, answer: int, attempts: int
) -> None:
    receiver.answers = [answer] * 10
    sim.charge(qris("R-1"))
    await sim.drain()
    assert len(receiver.received) == attempts
    assert [d.outcome for d in sim.deliveries] == ["failed"] * attempts


async def test_retry_until_delivered(sim: Simulator, receiver: NotificationRecorder) -> None:
    receiver.answers = [503, 503]
    sim.charge(qris("R-2"))
    await sim.drain()
    assert [d.outcome for d in sim.deliveries] == ["failed", "failed", "delivered"]
    assert [d.attempt for d in sim.deliveries] == [0, 1, 2]


def test_retry_budget_table() -> None:
    assert [retry_budget(code) for code in (500, 503, 400, 404, 301, 303, 599, None)] == [
        1, 4, 2, 2, 0, 0, 5, 5,
    ]  # fmt: skip


async def test_transport_errors_are_retried_five_times() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        sim = create_simulator(
            server_key=KEY,
            notify_url="http://down.test/notify",
            public_base_url="http://sim.test",
            time_factor=0.00001,
            http_client=http,
        )
        sim.charge(qris("R-3"))
        await sim.drain()
        await sim.aclose()
    assert len(sim.deliveries) == 6
    assert all(d.error and "ConnectError" in d.error for d in sim.deliveries)


async def test_retry_delays_scale_with_time_factor(receiver: NotificationRecorder) -> None:
    receiver.answers = [500]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app)) as http:
        # First retry nominally after 2 minutes: 120 s * 0.001 = 0.12 s (+-25% jitter).
        sim = create_simulator(
            server_key=KEY,
            notify_url="http://merchant.test/notify",
            public_base_url="http://sim.test",
            time_factor=0.001,
            http_client=http,
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        sim.charge(qris("R-4"))
        await sim.drain()
        elapsed = loop.time() - started
        await sim.aclose()
    assert 0.09 <= elapsed < 2.0
    assert [d.outcome for d in sim.deliveries] == ["failed", "delivered"]


async def test_307_is_followed_with_the_same_body(sim: Simulator) -> None:
    seen: list[tuple[str, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.content))
        if request.url.path == "/old":
            return httpx.Response(307, headers={"location": "/new"})
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        sim2 = create_simulator(
            server_key=KEY,
            notify_url="http://m.test/old",
            public_base_url="http://sim.test",
            http_client=http,
        )
        sim2.charge(qris("R-5"))
        await sim2.drain()
        await sim2.aclose()
    assert [path for path, _ in seen] == ["/old", "/new"]
    assert seen[0][1] == seen[1][1]
    assert sim2.deliveries[0].outcome == "delivered"


async def test_drop_rate_one_delivers_nothing(
    sim: Simulator, receiver: NotificationRecorder
) -> None:
    sim.faults.update({"drop_rate": 1.0})
    sim.charge(qris("F-1"))
    await sim.pay("F-1")
    await sim.drain()
    assert receiver.received == []
    assert [d.outcome for d in sim.deliveries] == ["dropped", "dropped"]
    assert sim.transactions["F-1"].status == "settlement"


async def test_duplicate_rate_one_delivers_twice(
    sim: Simulator, receiver: NotificationRecorder
) -> None:
    sim.faults.update({"duplicate_rate": 1.0})
    sim.charge(qris("F-2"))
    await sim.drain()
    assert receiver.statuses() == ["pending", "pending"]
    assert receiver.received[0] == receiver.received[1]


async def test_reorder_delivers_pending_after_settlement(receiver: NotificationRecorder) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app)) as http:
        # Real-time factor: the hold (2 min) can only end by the next notification.
        sim = create_simulator(
            server_key=KEY,
            notify_url="http://merchant.test/notify",
            public_base_url="http://sim.test",
            faults=Faults(reorder_rate=1.0),
            http_client=http,
        )
        sim.charge(qris("F-3"))
        await asyncio.sleep(0.01)
        assert receiver.received == []
        sim.faults.reorder_rate = 0.0
        await sim.pay("F-3")
        await asyncio.wait_for(sim.drain(), timeout=1.0)
        await sim.aclose()
    assert receiver.statuses() == ["settlement", "pending"]


async def test_held_notification_is_released_by_drain(receiver: NotificationRecorder) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app)) as http:
        sim = create_simulator(
            server_key=KEY,
            notify_url="http://merchant.test/notify",
            public_base_url="http://sim.test",
            faults=Faults(reorder_rate=1.0),
            http_client=http,
        )
        sim.charge(qris("F-4"))
        await asyncio.wait_for(sim.drain(), timeout=1.0)
        await sim.aclose()
    assert receiver.statuses() == ["pending"]


async def test_seeded_faults_are_deterministic(receiver: NotificationRecorder) -> None:
    outcomes = []
    for _ in range(2):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app)) as http:
            sim = create_simulator(
                server_key=KEY,
                notify_url="http://merchant.test/notify",
                public_base_url="http://sim.test",
                faults=Faults(drop_rate=0.5, seed=42),
                http_client=http,
            )
            for n in range(20):
                sim.charge(qris(f"S-{n}"))
            await sim.drain()
            await sim.aclose()
        outcomes.append([d.outcome for d in sim.deliveries])
    assert outcomes[0] == outcomes[1]
    assert {"dropped", "delivered"} == set(outcomes[0])


async def test_aclose_cancels_pending_retries(receiver: NotificationRecorder) -> None:
    receiver.answers = [503] * 10
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app)) as http:
        sim = create_simulator(
            server_key=KEY,
            notify_url="http://merchant.test/notify",
            public_base_url="http://sim.test",
            time_factor=1.0,  # the first retry would wait two real minutes
            http_client=http,
        )
        sim.charge(qris("C-1"))
        await asyncio.sleep(0.05)
        await asyncio.wait_for(sim.aclose(), timeout=1.0)
    assert len(receiver.received) == 1


async def test_no_notify_url_records_no_url() -> None:
    sim = create_simulator(server_key=KEY, notify_url=None, public_base_url="http://sim.test")
    sim.charge(qris("U-1"))
    await sim.drain()
    await sim.aclose()
    assert [d.outcome for d in sim.deliveries] == ["no_url"]


async def test_notify_url_can_be_set_after_creation(receiver: NotificationRecorder) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app)) as http:
        sim = create_simulator(
            server_key=KEY, notify_url=None, public_base_url="http://sim.test", http_client=http
        )
        sim.notify_url = "http://merchant.test/notify"
        sim.charge(qris("U-2"))
        await sim.drain()
        await sim.aclose()
    assert receiver.statuses() == ["pending"]
