from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from starlette.routing import Route

from santap.gateways.midtrans import MidtransClient, MidtransError
from santap.main import SIMULATOR_PATH
from santap.simulator import Simulator
from tests.fixtures.payments import get_order, notification, order_with_qris

WEBHOOK = "/api/v1/webhooks/midtrans"


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _scrape(client: httpx.AsyncClient) -> list[Sample]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = text_string_to_metric_families(response.text)
    return [sample for family in families for sample in family.samples]


def _route_templates(app: FastAPI, simulator: Simulator) -> set[str]:
    """Every path template the app can match (routes hidden from OpenAPI included)."""
    templates = {"unmatched", "/metrics", *app.openapi()["paths"]}
    # The webhook and the pages are hidden from the schema; every route counts.
    templates.update(str(context.path_format) for context in iter_route_contexts(app.routes))
    templates.add("/static/{path}")
    templates.add(f"{SIMULATOR_PATH}/{{path}}")
    for route in simulator.app.routes:
        if isinstance(route, Route):
            templates.add(f"{SIMULATOR_PATH}{route.path_format}")
    return templates


async def test_metrics_count_requests_by_route_template_after_a_payment(
    app: FastAPI, client: httpx.AsyncClient, demo_menu: dict[str, int], simulator: Simulator
) -> None:
    applied_before = _value("santap_notification_apply_delay_seconds_count", outcome="applied")
    order, payment = await order_with_qris(client, demo_menu)
    await simulator.pay(payment["order_uid"])
    await simulator.drain()
    assert (await get_order(client, order))["status"] == "paid"
    assert (await client.get("/no/such/page/123")).status_code == 404

    samples = await _scrape(client)

    def sample(name: str, **labels: str) -> float:
        values = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
        assert values, f"no {name} {labels}"
        return sum(values)

    assert sample("santap_http_requests_total", method="POST", route="/api/v1/orders") >= 1
    assert (
        sample(
            "santap_http_requests_total",
            method="GET",
            route="/api/v1/orders/{order_id}",
            status="200",
        )
        >= 1
    )
    assert sample("santap_http_requests_total", route="unmatched", status="404") >= 1
    assert sample("santap_http_request_duration_seconds_count", route="/api/v1/payments/qris") >= 1
    assert sample("santap_notifications_total", outcome="accepted") >= 1
    assert (
        sample("santap_notification_apply_delay_seconds_count", outcome="applied")
        >= applied_before + 1
    )
    assert sample("santap_inbox_oldest_unapplied_age_seconds") >= 0
    assert sample("santap_gateway_requests_total", operation="snap_create", result="ok") >= 1
    assert sample("santap_gateway_requests_total", operation="status", result="ok") >= 1
    assert sample("santap_gateway_request_duration_seconds_count", operation="status") >= 1
    assert sample("santap_payments", status="paid", method="qris") >= 1
    assert sample("santap_inbox_unapplied") >= 0  # exact counts: tests/observability/test_ready.py

    # Only templates ever become labels: no order id, order_uid or unknown path leaks in.
    allowed = _route_templates(app, simulator)
    routes = {s.labels["route"] for s in samples if "route" in s.labels}
    assert routes <= allowed, routes - allowed
    assert f"{SIMULATOR_PATH}/snap/v1/transactions" in routes


async def test_metrics_is_not_in_the_openapi_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert "/metrics" not in paths


@pytest.mark.parametrize("settings_overrides", [{"MIDTRANS_VERIFY_STATUS": False}])
async def test_notification_outcomes_are_counted(
    client: httpx.AsyncClient, demo_menu: dict[str, int]
) -> None:
    _, payment = await order_with_qris(client, demo_menu)
    body = notification(payment["order_uid"], "settlement", "35000.00")
    forged = notification(payment["order_uid"], "settlement", "35000.00", server_key="SB-x" * 8)
    unknown = notification("SNTP-unknown", "settlement", "35000.00")
    expected = {
        "accepted": (body, 200),
        "duplicate": (body, 200),
        "invalid_signature": (forged, 401),
        "unknown_transaction": (unknown, 404),
        "bad_notification": ({"order_id": 1}, 400),
    }
    for outcome, (payload, status) in expected.items():
        before = _value("santap_notifications_total", outcome=outcome)
        response = await client.post(WEBHOOK, json=payload)
        assert response.status_code == status, response.text
        assert _value("santap_notifications_total", outcome=outcome) == before + 1, outcome


def _client(handler: httpx.MockTransport) -> MidtransClient:
    return MidtransClient(
        server_key="SB-Mid-server-metrics",
        snap_base_url="http://midtrans.test",
        core_base_url="http://midtrans.test",
        transport=handler,
        max_retries=0,
    )


def _ok(request: httpx.Request) -> httpx.Response:
    body = {
        "status_code": "200",
        "transaction_status": "cancel",
        "order_id": "SNTP-1",
        "transaction_id": "tx-1",
        "gross_amount": "1000.00",
    }
    return httpx.Response(200, json=body)


def _server_error(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, json={"status_code": "500", "status_message": "boom"})


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("too slow", request=request)


@pytest.mark.parametrize(
    ("handler", "result"),
    [(_ok, "ok"), (_server_error, "error"), (_refused, "unavailable"), (_timeout, "timeout")],
)
async def test_gateway_calls_are_counted_by_operation_and_result(
    handler: object, result: str
) -> None:
    labels = {"operation": "cancel", "result": result}
    before = _value("santap_gateway_requests_total", **labels)
    timed_before = _value("santap_gateway_request_duration_seconds_count", operation="cancel")
    async with _client(httpx.MockTransport(handler)) as midtrans:  # type: ignore[arg-type]
        try:
            await midtrans.cancel("SNTP-1")
        except MidtransError:
            assert result != "ok"
    assert _value("santap_gateway_requests_total", **labels) == before + 1
    assert (
        _value("santap_gateway_request_duration_seconds_count", operation="cancel")
        == timed_before + 1
    )
