from __future__ import annotations

import logging
import re

import httpx
import pytest

from tests.observability.conftest import CapturedLogs

GENERATED = re.compile(r"^[0-9a-f]{32}$")


async def test_every_response_gets_a_generated_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/health")
    second = await client.get("/api/v1/menu")
    assert GENERATED.match(first.headers["X-Request-ID"])
    assert GENERATED.match(second.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


async def test_error_responses_carry_the_request_id_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/orders/999999")
    assert response.status_code >= 400
    assert GENERATED.match(response.headers["X-Request-ID"])


@pytest.mark.parametrize("incoming", ["abc-123", "lb.7f3e_X", "a" * 64])
async def test_a_well_formed_incoming_request_id_is_kept(
    client: httpx.AsyncClient, incoming: str
) -> None:
    response = await client.get("/health", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming", ["", "a" * 65, "has space", "semi;colon", "new\\nline", "ünïcode", "{json}"]
)
async def test_a_malformed_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, incoming: str
) -> None:
    response = await client.get("/health", headers={b"X-Request-ID": incoming.encode()})
    assert GENERATED.match(response.headers["X-Request-ID"])


async def test_log_lines_are_json_and_carry_the_request_id(
    json_logs: CapturedLogs, client: httpx.AsyncClient
) -> None:
    response = await client.get("/api/v1/orders/424242", headers={"X-Request-ID": "trace-1"})
    assert response.headers["X-Request-ID"] == "trace-1"

    records = json_logs.records()
    assert records, "nothing was logged"
    for record in records:
        assert {"timestamp", "level", "logger", "message", "request_id"} <= record.keys()
    [access] = [r for r in records if r["logger"] == "santap.access"]
    assert access["request_id"] == "trace-1"
    assert access["level"] == "INFO"
    assert access["method"] == "GET"
    assert access["route"] == "/api/v1/orders/{order_id}"
    assert access["status"] == response.status_code
    assert isinstance(access["duration_ms"], float)
    assert access["client_ip"] == "127.0.0.1"
    assert "424242" not in access["message"]


async def test_lines_outside_a_request_have_a_dash_for_request_id(
    json_logs: CapturedLogs,
) -> None:
    logging.getLogger("santap.test").warning("no request here", extra={"table": 7})
    [record] = [r for r in json_logs.records() if r["logger"] == "santap.test"]
    assert record["request_id"] == "-"
    assert record["table"] == 7
    assert record["message"] == "no request here"
