"""Every operation of the OpenAPI document, fuzzed: no 5xx, and every answer as documented.

Each generated case is sent as generated (no token or a made-up one: the 401/403/404/422
paths), then, where it matters, again as the admin, as the cashier and as the customer holding
an order's token, with its valid ids pointed at seeded rows so the authorized branches run."""

from __future__ import annotations

import copy
import zlib
from collections.abc import Iterator
from typing import Any, TypeGuard, TypeVar

from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case

from santap.models.base import MAX_ID
from tests.fuzz._schema import load_schema
from tests.fuzz._seed import Seeded

T = TypeVar("T")

fuzzed = load_schema("positive")
malformed = load_schema("negative")
# The app is built and seeded once per operation, not once per example.
once_per_operation = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzzed.parametrize()
@once_per_operation
def test_operation_answers_as_documented(
    case: Case[Any], fuzz_app: FastAPI, seeded: Seeded
) -> None:
    _send(case, fuzz_app, seeded)


@malformed.parametrize()
@once_per_operation
def test_malformed_request_answers_as_documented(
    case: Case[Any], fuzz_app: FastAPI, seeded: Seeded
) -> None:
    _send(case, fuzz_app, seeded)


def _send(case: Case[Any], app: FastAPI, seeded: Seeded) -> None:
    for variant in _variants(case, seeded):
        variant.call_and_validate(app=app)


def _variants(case: Case[Any], seeded: Seeded) -> Iterator[Case[Any]]:
    yield case
    if case.method.upper() != case.operation.method.upper():
        return  # an undocumented method: the 405 does not depend on who asks
    secured = bool(case.operation.definition.raw.get("security"))
    customer = "x-order-token" in {param.name.lower() for param in case.operation.headers}
    if secured or case.path_parameters or _seedable_body(case.body):
        yield _pointed(case, seeded, {"Authorization": f"Bearer {seeded.admin_token}"})
    if secured:
        yield _pointed(case, seeded, {"Authorization": f"Bearer {seeded.cashier_token}"})
    if customer:
        yield _as_customer(_pointed(case, seeded, {}), seeded)


def _pointed(case: Case[Any], seeded: Seeded, credentials: dict[str, str]) -> Case[Any]:
    """``case`` as an explicit request: valid ids name seeded rows, sent with ``credentials``.

    A fresh case, not ``case.derive()``: a derived case keeps the generated one's metadata,
    which can tell the transport to drop the very header being tested."""
    headers = {
        name: value for name, value in case.headers.items() if name.lower() != "authorization"
    }
    body = _point_body(case.body, seeded) if isinstance(case.body, dict) else case.body
    pointed: Case[Any] = case.operation.Case(
        method=case.method,
        path_parameters=_point_path(case.path_parameters, seeded),
        headers={**headers, **credentials},
        cookies=dict(case.cookies),
        query=dict(case.query),
        body=body,
        media_type=case.media_type,
    )
    return pointed


def _as_customer(case: Case[Any], seeded: Seeded) -> Case[Any]:
    order = _pick(seeded.orders, case.path_parameters.get("order_id"))
    if order is not None:
        case.path_parameters["order_id"] = order.id
        case.headers["X-Order-Token"] = order.access_token
    return case


def _point_path(params: dict[str, Any], seeded: Seeded) -> dict[str, Any]:
    pools: dict[str, tuple[Any, ...]] = {
        "order_id": tuple(order.id for order in seeded.orders),
        "payment_id": seeded.payment_ids,
        "category_id": seeded.category_ids,
        "item_id": seeded.item_ids,
        "order_uid": seeded.order_uids,
    }
    return {name: _pick(pools.get(name, ()), value) or value for name, value in params.items()}


def _point_body(body: dict[str, Any], seeded: Seeded) -> dict[str, Any]:
    body = copy.deepcopy(body)
    if isinstance(body.get("username"), str) and isinstance(body.get("password"), str):
        body.update(seeded.admin_login)
    order = _pick(seeded.orders, body.get("order_id"))
    if order is not None:
        body["order_id"] = order.id
        # QRIS is asked for the exact total, cash at least the total, or both stop at a 422.
        if _is_id(body.get("amount")):
            body["amount"] = order.total_amount
        if _is_id(tendered := body.get("amount_tendered")):
            body["amount_tendered"] = max(tendered, order.total_amount)
    if (category_id := _pick(seeded.category_ids, body.get("category_id"))) is not None:
        body["category_id"] = category_id
    for line in body["items"] if isinstance(body.get("items"), list) else ():
        if isinstance(line, dict) and (item_id := _pick(seeded.item_ids, line.get("menu_item_id"))):
            line["menu_item_id"] = item_id
    return body


def _pick(pool: tuple[T, ...], value: object) -> T | None:
    """A seeded row chosen by ``value`` if it is a valid id or key (invalid ones stay invalid)."""
    if not pool:
        return None
    if _is_id(value):
        return pool[value % len(pool)]
    if isinstance(value, str) and value:
        return pool[zlib.crc32(value.encode()) % len(pool)]
    return None


def _is_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _seedable_body(body: object) -> bool:
    return isinstance(body, dict) and bool(
        {"order_id", "category_id", "items", "username"} & body.keys()
    )
