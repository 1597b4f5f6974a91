"""Every timestamp the API returns is UTC, written with Z, whichever way it was made."""

from __future__ import annotations

import types
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Annotated, Any, Union, get_args, get_origin

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel
from starlette.routing import BaseRoute

from santap.timestamps import in_utc
from tests.fixtures.factories import place_order
from tests.fixtures.payments import order_token

CORE = {"MIDTRANS_QRIS_MODE": "core"}
SNAP = {"MIDTRANS_QRIS_MODE": "snap"}


@pytest.mark.parametrize("settings_overrides", [CORE, SNAP], ids=["core", "snap"])
async def test_a_qris_attempt_expires_at_the_same_utc_instant_in_post_and_get(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    """In Core mode the expiry comes from Midtrans' answer, in WIB; the poll reads it back
    from the database, in UTC. Both say it the same way."""
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Jeruk"], "quantity": 1}])
    created = await client.post(
        "/api/v1/payments/qris",
        json={"order_id": order["id"], "amount": order["total_amount"]},
        headers=order_token(order),
    )
    assert created.status_code == 201, created.text
    polled = await client.get(f"/api/v1/payments/{created.json()['order_uid']}")
    assert polled.status_code == 200, polled.text
    expires_at = created.json()["expires_at"]
    assert expires_at.endswith("Z")
    assert polled.json()["expires_at"] == expires_at
    again = await client.post(
        "/api/v1/payments/qris",
        json={"order_id": order["id"], "amount": order["total_amount"]},
        headers=order_token(order),
    )
    assert (again.status_code, again.json()["expires_at"]) == (200, expires_at)
    read = await client.get(f"/api/v1/orders/{order['id']}", headers=order_token(order))
    assert [p["expires_at"] for p in read.json()["payments"]] == [expires_at]


async def test_an_orders_timestamps_are_utc_with_z(
    client: httpx.AsyncClient, demo_menu: dict[str, int], cashier_headers: dict[str, str]
) -> None:
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Jeruk"], "quantity": 1}])
    assert order["created_at"].endswith("Z")
    assert order["updated_at"].endswith("Z")
    paid = await client.post(
        "/api/v1/payments/cash",
        json={"order_id": order["id"], "amount_tendered": order["total_amount"]},
        headers=cashier_headers,
    )
    assert paid.status_code == 201, paid.text
    read = await client.get(f"/api/v1/orders/{order['id']}", headers=order_token(order))
    body = read.json()
    assert body["created_at"] == order["created_at"]
    times = [body["paid_at"], *(p["created_at"] for p in body["payments"])]
    assert all(moment.endswith("Z") for moment in times), times
    assert datetime.fromisoformat(body["paid_at"]) >= datetime.fromisoformat(body["created_at"])


def _plain_datetimes(annotation: Any, metadata: list[Any], where: str) -> list[str]:
    """Where a response schema declares a ``datetime`` that is not a ``Timestamp``."""
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        return _plain_datetimes(inner, [*metadata, *extra], where)
    if annotation is datetime:
        utc = any(isinstance(m, AfterValidator) and m.func is in_utc for m in metadata)
        return [] if utc else [where]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_datetimes(annotation)
    if get_origin(annotation) in (Union, types.UnionType, list, dict, tuple):
        return [found for arg in get_args(annotation) for found in _plain_datetimes(arg, [], where)]
    return []


def _model_datetimes(model: type[BaseModel]) -> list[str]:
    return [
        found
        for name, field in model.model_fields.items()
        for found in _plain_datetimes(
            field.annotation, list(field.metadata), f"{model.__name__}.{name}"
        )
    ]


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # an included router, unflattened
        if included is not None:
            yield from _api_routes(included.routes)


def test_every_response_schema_writes_its_times_as_utc(app: FastAPI) -> None:
    """A new response schema with a plain ``datetime`` would answer in whatever zone the
    value came in; ``santap.timestamps.Timestamp`` makes it UTC with Z."""
    models = {route.response_model for route in _api_routes(app.routes)} - {None}
    assert len(models) > 10
    found = sorted({where for model in models for where in _plain_datetimes(model, [], "?")})
    assert found == []
