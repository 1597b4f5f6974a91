"""Deeply nested JSON at every entry point that reads a request body.

The routes come from the app itself: every FastAPI route that takes a body or reads it by hand
(the Midtrans webhook, which the OpenAPI document leaves out), and every route of a mounted app
(the built-in Midtrans simulator), so a route added later is fuzzed too. Python's json parser
gives up at about 1,000 levels with a RecursionError, not a ValueError; each entry point must
turn that into a 400, store nothing and log no traceback."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import Mount, Route

from santap.config import Settings
from santap.main import SIMULATOR_PATH, SIMULATOR_SERVER_KEY
from santap.models import Base
from santap.payments.endpoints import MAX_NOTIFICATION_BYTES
from santap.simulator import Simulator
from tests.fixtures.payments import notification
from tests.fixtures.server import served

# The review's 500 came at about 950 levels; where the parser gives up is 1,000 levels minus
# the stack already in use (about 50 frames under uvicorn), so 1,000 is past it wherever it runs.
DEPTHS = (1_000, 5_000, 20_000, 100_000)
PARSEABLE_DEPTH = 500
WEBHOOK = "/api/v1/webhooks/midtrans"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# The simulator routes that parse a JSON body (the others only read path and headers).
SIMULATOR_JSON = {"/snap/v1/transactions", "/v2/charge", "/v2/{transaction}/refund"}
SIMULATOR_CONTROL = "/_control/faults"
JSON = {"content-type": "application/json"}
SIMULATOR_AUTH = {
    "Authorization": "Basic " + base64.b64encode(f"{SIMULATOR_SERVER_KEY}:".encode()).decode()
}
_HOLE = "@@deep@@"


def nested_list(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def with_deep_value(body: dict[str, object], field: str, deep: bytes) -> bytes:
    """``body`` as JSON, with ``field`` holding ``deep``."""
    raw = json.dumps({**body, field: _HOLE}).encode()
    return raw.replace(json.dumps(_HOLE).encode(), deep)


@dataclass(frozen=True)
class Entry:
    method: str
    path: str  # path parameters filled in
    template: str
    body: dict[str, object]  # a valid body (or just its field names) to nest the value in
    credentials: tuple[dict[str, str], ...]  # each is tried, as is sending none


def app_entries(app: FastAPI, staff: dict[str, str]) -> Iterator[Entry]:
    """FastAPI routes that take a JSON body or read the body themselves."""
    for context in iter_route_contexts(app.routes):
        route, template = context.original_route, str(context.path_format)
        methods = (context.methods or set()) & BODY_METHODS
        if not isinstance(route, APIRoute) or not methods:
            continue
        if not template.startswith("/api/"):
            continue  # the pages post forms, not JSON (tests/web)
        if route.body_field is None and route.dependant.request_param_name is None:
            continue
        path = re.sub(r"\{[^}]+\}", "1", template)
        # Staff tokens only where a route checks them (the webhook's proof is in its body).
        credentials = (staff,) if template != WEBHOOK else ()
        for method in sorted(methods):
            yield Entry(method, path, template, _body_of(route, template), credentials)


def _body_of(route: APIRoute, template: str) -> dict[str, object]:
    if template == WEBHOOK:
        return notification("SANTAP-1-x", "settlement", "35000.00")
    model = route.body_field.field_info.annotation if route.body_field else None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {field.alias or name: 1 for name, field in model.model_fields.items()}
    return {}


def mounted_entries(app: FastAPI) -> Iterator[Entry]:
    """Every route with a body method in a mounted app (the simulator, with its own auth)."""
    for mount in app.routes:
        if not isinstance(mount, Mount):
            continue
        for route in mount.routes:
            if not isinstance(route, Route):
                continue
            methods = (route.methods or set()) & BODY_METHODS
            path = mount.path + re.sub(r"\{[^}]+\}", "x", route.path_format)
            for method in sorted(methods):
                yield Entry(method, path, route.path_format, _simulator_body(), (SIMULATOR_AUTH,))


def _simulator_body() -> dict[str, object]:
    return {
        "payment_type": "qris",
        "transaction_details": {"order_id": "SANTAP-deep-1", "gross_amount": 35000},
        "item_details": [],
        "reason": "deep",
    }


def shapes(entry: Entry, depth: int) -> Iterator[bytes]:
    yield nested_list(depth)
    yield nested_object(depth)
    for field in entry.body:
        yield with_deep_value(entry.body, field, nested_list(depth))
    yield with_deep_value(entry.body, "extra", nested_object(depth))


def body_limit(entry: Entry, settings: Settings) -> int:
    return MAX_NOTIFICATION_BYTES if entry.template == WEBHOOK else int(settings.max_body_bytes)


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # A 500 must come back as an answer, not as the app's exception re-raised in the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def row_counts(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessionmaker() as session:
        return {
            table.name: (
                await session.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def assert_no_traceback_or_body_logged(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()[:300]
        assert record.exc_text is None, record.getMessage()[:300]
        assert record.levelno < logging.ERROR, record.getMessage()[:300]
        assert "[[[[[[[[" not in record.getMessage(), record.getMessage()[:300]
        assert '{"a":{"a":{"a":' not in record.getMessage(), record.getMessage()[:300]


def is_error_shape(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and set(body) == {"error"}
        and isinstance(body["error"], dict)
        and set(body["error"]) == {"code", "message", "details"}
    )


@dataclass(frozen=True)
class Sent:
    entry: Entry
    credentials: dict[str, str]
    raw: bytes
    response: httpx.Response

    def __str__(self) -> str:
        what = f"{self.entry.method} {self.entry.path} ({len(self.raw)} bytes)"
        auth = "with credentials" if self.credentials else "without credentials"
        return f"{what} {auth}: {self.response.status_code} {self.response.text[:120]}"


async def send_deep(
    api: httpx.AsyncClient, entries: list[Entry], depth: int
) -> AsyncIterator[Sent]:
    """Each entry point, each shape nested ``depth`` deep, with and without its credentials."""
    for entry in entries:
        for raw in shapes(entry, depth):
            for credentials in ({}, *entry.credentials):
                headers = {**JSON, **credentials}
                response = await api.request(entry.method, entry.path, content=raw, headers=headers)
                yield Sent(entry, credentials, raw, response)


@pytest.mark.parametrize("depth", DEPTHS)
async def test_deep_json_is_a_400_in_the_error_shape_at_every_api_entry_point(
    depth: int,
    app: FastAPI,
    api: httpx.AsyncClient,
    settings: Settings,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    entries = list(app_entries(app, admin_headers))
    assert {"/api/v1/orders", "/api/v1/auth/login", WEBHOOK} <= {e.template for e in entries}
    before = await row_counts(sessionmaker)
    wrong: list[str] = []
    async for sent in send_deep(api, entries, depth):
        # Below the size limit the body must reach the parser and fail there, as a 400
        # (FastAPI parses a body before it checks credentials); above it a 413 will do.
        over_limit = len(sent.raw) > body_limit(sent.entry, settings)
        expected = {400, 413} if over_limit else {400}
        if sent.response.status_code not in expected or not is_error_shape(sent.response):
            wrong.append(str(sent))
    assert not wrong, "\n".join(wrong)
    assert await row_counts(sessionmaker) == before  # nothing stored: no inbox row, no order
    assert_no_traceback_or_body_logged(caplog)


@pytest.mark.parametrize("depth", DEPTHS)
async def test_deep_json_is_a_400_at_every_simulator_entry_point(
    depth: int,
    app: FastAPI,
    api: httpx.AsyncClient,
    simulator: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    entries = list(mounted_entries(app))
    assert {*SIMULATOR_JSON, SIMULATOR_CONTROL} <= {e.template for e in entries}
    faults = simulator.faults.as_dict()
    wrong: list[str] = []
    async for sent in send_deep(api, entries, depth):
        if sent.response.status_code >= 500:
            wrong.append(str(sent))
        elif _parses_json(sent.entry, sent.credentials) and not _nesting_refused(sent.response):
            wrong.append(str(sent))
    assert not wrong, "\n".join(wrong)
    assert simulator.transactions == {}
    assert simulator.faults.as_dict() == faults
    assert_no_traceback_or_body_logged(caplog)


async def test_deep_values_the_parser_accepts_are_never_a_5xx(
    app: FastAPI,
    api: httpx.AsyncClient,
    admin_headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The other side of the parser's limit: what runs after it (validation, the webhook's
    inbox key and storage, the simulator) copes with a deep value too."""
    caplog.set_level(logging.INFO)
    entries = [*app_entries(app, admin_headers), *mounted_entries(app)]
    wrong: list[str] = []
    async for sent in send_deep(api, entries, PARSEABLE_DEPTH):
        mounted = sent.entry.path.startswith(SIMULATOR_PATH)
        if sent.response.status_code >= 500:
            wrong.append(str(sent))
        elif not mounted and not sent.response.is_success and not is_error_shape(sent.response):
            wrong.append(str(sent))
    assert not wrong, "\n".join(wrong)
    assert_no_traceback_or_body_logged(caplog)


def _parses_json(entry: Entry, credentials: dict[str, str]) -> bool:
    """Midtrans' API checks the server key before it reads a body; the control API has none."""
    return entry.template == SIMULATOR_CONTROL or (
        entry.template in SIMULATOR_JSON and bool(credentials)
    )


def _nesting_refused(response: httpx.Response) -> bool:
    """A 400 in the simulator's JSON (Midtrans' error shapes, or the control API's) that says
    why, so the body really reached the parser."""
    return (
        response.status_code == 400
        and response.headers["content-type"] == "application/json"
        and "nested too deeply" in response.text
    )


def test_served_webhook_answers_deep_json_with_400_and_keeps_the_connection(
    tmp_path: Path,
) -> None:
    """Over a real socket with ``santap serve``: the 400 is sent on a connection that stays
    open, and the server logs no traceback."""
    with served(tmp_path) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("POST", WEBHOOK, body=nested_list(DEPTHS[0]), headers=JSON)
            response = connection.getresponse()
            body = json.loads(response.read())
            socket_used = connection.sock
            assert (response.status, body["error"]["code"]) == (400, "bad_notification"), body
            assert response.getheader("connection") != "close"
            assert socket_used is not None  # http.client drops it when the server closes it
            connection.request("GET", "/health")
            again = connection.getresponse()
            assert (again.status, json.loads(again.read())) == (200, {"status": "ok"})
            assert connection.sock is socket_used  # the same connection, not a new one
        finally:
            connection.close()
    output = server.log.read_text()
    assert "Traceback" not in output
    assert "RecursionError" not in output
