"""Event streams from a real server process: what its logs keep, and how it stops."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.server import BIN, served, server_env


def _order(http: httpx.Client) -> dict[str, Any]:
    menu = http.get("/api/v1/menu").json()
    item = menu["categories"][0]["items"][0]["id"]
    response = http.post("/api/v1/orders", json={"items": [{"menu_item_id": item, "quantity": 1}]})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _first_event(http: httpx.Client, path: str, token: str) -> str:
    with http.stream("GET", path, params={"access_token": token}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event:"):
                return line
    raise AssertionError("the stream ended before its first event")


@pytest.mark.parametrize("uvicorn_app", [False, True], ids=["santap-serve", "uvicorn-defaults"])
def test_a_token_in_a_stream_url_is_in_no_log_line(tmp_path: Path, uvicorn_app: bool) -> None:
    with served(tmp_path, uvicorn_app=uvicorn_app) as server:
        if uvicorn_app:  # plain uvicorn only migrated the database
            seed = [str(BIN / "santap"), "seed-demo"]
            subprocess.run(seed, env=server_env(tmp_path, {}), check=True, capture_output=True)
        with httpx.Client(base_url=server.url, timeout=10) as http:
            order = _order(http)
            path = f"/api/v1/orders/{order['id']}/events"
            assert _first_event(http, path, order["access_token"]) == "event: snapshot"
            wrong = http.get(path, params={"access_token": "Zx9-not-a-real-token-123456"})
            assert wrong.status_code == 404
    log = server.log.read_text()
    assert "/events" in log  # the requests were logged...
    assert order["access_token"] not in log  # ...without the token
    assert "Zx9-not-a-real-token-123456" not in log


def test_stopping_the_server_ends_open_streams_cleanly(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        with httpx.Client(base_url=server.url, timeout=15) as http:
            order = _order(http)
            path = f"/api/v1/orders/{order['id']}/events"
            with http.stream("GET", path, params={"access_token": order["access_token"]}) as r:
                lines = r.iter_lines()
                while not next(lines).startswith("event: snapshot"):
                    pass
                server.process.send_signal(signal.SIGTERM)
                rest = list(lines)  # ends when the server closes the stream, not by timeout
            assert all(not line.startswith("event:") for line in rest)
        # uvicorn re-raises the signal it handled once it has shut down gracefully.
        assert server.process.wait(timeout=10) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.log.read_text()
