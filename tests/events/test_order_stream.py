"""One order's live stream, as the customer's screen follows it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.events import hub, repository
from santap.models import OrderEvent
from santap.simulator import Simulator
from tests.fixtures.factories import place_order
from tests.fixtures.live import stream
from tests.fixtures.payments import order_with_qris

CASH = "/api/v1/payments/cash"


def _path(order: dict[str, Any]) -> str:
    return f"/api/v1/orders/{order['id']}/events"


def _token(order: dict[str, Any]) -> dict[str, str]:
    return {"access_token": order["access_token"]}


def _data(event: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(event.data)
    return data


async def _kitchen(
    client: httpx.AsyncClient, order: dict[str, Any], status: str, headers: Any
) -> None:
    response = await client.post(
        f"/api/v1/admin/orders/{order['id']}/status", json={"status": status}, headers=headers
    )
    assert response.status_code == 200, response.text


async def _pay_cash(client: httpx.AsyncClient, order: dict[str, Any], headers: Any) -> None:
    body = {"order_id": order["id"], "amount_tendered": order["total_amount"]}
    response = await client.post(CASH, json=body, headers=headers)
    assert response.status_code == 201, response.text


async def test_a_qris_payment_reaches_the_open_order_stream_as_paid(
    client: httpx.AsyncClient,
    live: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
) -> None:
    order, payment = await order_with_qris(client, demo_menu)
    async with stream(live, _path(order), params=_token(order)) as source:
        assert source.response.headers["content-type"].startswith("text/event-stream")
        [snapshot] = await source.take(1)
        assert snapshot.event == "snapshot"
        assert _data(snapshot)["status"] == "pending_payment"
        await simulator.pay(payment["order_uid"])
        paid = await source.take(2)
    # One transaction: the payment's change and the order's, in whichever order it wrote them.
    assert sorted((e.event, _data(e)["status"]) for e in paid) == [
        ("order_status", "paid"),
        ("payment_status", "paid"),
    ]
    assert int(snapshot.id) < int(paid[0].id) < int(paid[1].id)


async def test_resuming_after_missing_three_events_gets_exactly_those_three(
    client: httpx.AsyncClient,
    live: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
) -> None:
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 2}])
    await _pay_cash(client, order, cashier_headers)
    async with stream(live, _path(order), params=_token(order)) as source:
        [snapshot] = await source.take(1)
    assert _data(snapshot)["status"] == "paid"
    for status in ("preparing", "ready", "completed"):
        await _kitchen(client, order, status, cashier_headers)
    resume = {"Last-Event-ID": snapshot.id}
    async with stream(live, _path(order), params=_token(order), headers=resume) as source:
        missed = await source.take(3)
        await source.nothing_more()
    assert [(e.event, _data(e)["status"]) for e in missed] == [
        ("order_status", "preparing"),
        ("order_status", "ready"),
        ("order_status", "completed"),
    ]
    # The same through the query parameter, from the second of them: only the third.
    query = {**_token(order), "last_event_id": missed[1].id}
    async with stream(live, _path(order), params=query) as source:
        [last] = await source.take(1)
        await source.nothing_more()
    assert last.id == missed[2].id


async def test_wrong_or_missing_tokens_get_404_and_staff_may_follow(
    client: httpx.AsyncClient,
    live: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
) -> None:
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 1}])
    other = await place_order(client, [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 1}])
    for params, headers in (
        ({}, {}),
        ({"access_token": "not-the-token"}, {}),
        (_token(other), {}),
        ({}, {"X-Order-Token": other["access_token"]}),
    ):
        response = await live.get(_path(order), params=params, headers=headers)
        assert response.status_code == 404, (params, headers)
        assert response.json()["error"]["code"] == "order_not_found"
    missing = await live.get("/api/v1/orders/999999/events", params=_token(order))
    assert missing.status_code == 404
    async with stream(live, _path(order), headers=cashier_headers) as source:
        [snapshot] = await source.take(1)
    assert _data(snapshot)["id"] == order["id"]
    bad_resume = await live.get(_path(order), params=_token(order), headers={"Last-Event-ID": "x"})
    assert bad_resume.status_code == 422


async def test_a_refused_change_writes_no_event(
    client: httpx.AsyncClient,
    live: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 1}])
    async with sessionmaker() as session:
        before = await session.scalar(select(func.count()).select_from(OrderEvent))
    async with stream(live, _path(order), params=_token(order)) as source:
        await source.take(1)
        # Not paid yet: the kitchen cannot start it (the transition is refused and rolled back).
        refused = await client.post(
            f"/api/v1/admin/orders/{order['id']}/status",
            json={"status": "preparing"},
            headers=cashier_headers,
        )
        assert refused.status_code == 409
        await source.nothing_more(within=1.5)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OrderEvent)) == before


@pytest.mark.parametrize("settings_overrides", [{"SANTAP_MAX_STREAMS": 1}])
async def test_streams_beyond_the_cap_get_503_with_retry_after(
    client: httpx.AsyncClient, live: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 1}])
    async with stream(live, _path(order), params=_token(order)) as source:
        await source.take(1)
        refused = await live.get(_path(order), params=_token(order))
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5"
        assert refused.json()["error"]["code"] == "too_many_streams"
    # The slot is free again once the first stream closed.
    async with stream(live, _path(order), params=_token(order)) as source:
        await source.take(1)


async def test_two_streams_of_one_order_each_get_every_event(
    client: httpx.AsyncClient,
    live: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
) -> None:
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 1}])
    async with (
        stream(live, _path(order), params=_token(order)) as one,
        stream(live, _path(order), params=_token(order)) as two,
    ):
        await one.take(1)
        await two.take(1)
        await _pay_cash(client, order, cashier_headers)
        first, second = await one.take(2), await two.take(2)
    assert [e.id for e in first] == [e.id for e in second]
    assert sorted(e.event for e in first) == ["order_status", "payment_status"]


async def test_a_stream_opened_while_the_hub_cannot_read_gets_503(
    client: httpx.AsyncClient,
    live: httpx.AsyncClient,
    demo_menu: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Teh Manis"], "quantity": 1}])

    async def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(hub, "SUBSCRIBE_WAIT_S", 0.3)
    monkeypatch.setattr(repository, "events_after", unreachable)
    refused = await live.get(_path(order), params=_token(order))
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "live_updates_unavailable"
    assert refused.headers["Retry-After"] == "5"
