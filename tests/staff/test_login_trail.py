"""Sign-in events in the audit log: logins, failed and throttled logins, role refusals."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.config import Settings
from santap.models import Staff
from tests.fixtures.staff import PASSWORD, bearer, create_staff
from tests.staff.support import client_from, install_limiter

LOGIN = "/api/v1/auth/login"
AUDIT = "/api/v1/admin/audit"


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


async def _audit(
    client: httpx.AsyncClient, headers: dict[str, str], **filters: str
) -> list[dict[str, Any]]:
    response = await client.get(AUDIT, params=filters, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_logins_and_failed_logins_are_audited_without_secrets(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier: Staff,
    admin_headers: dict[str, str],
) -> None:
    await create_staff(sessionmaker, username="mantan", is_active=False)
    async with client_from(app, "198.51.100.7") as counter:
        ok = await _login(counter, "kasir", PASSWORD)
        assert ok.status_code == 200
        assert (await _login(counter, "kasir", "tebakan-rahasia")).status_code == 401
        assert (await _login(counter, " Nobody ", "tebakan-lain")).status_code == 401
        assert (await _login(counter, "mantan", PASSWORD)).status_code == 401

    failed = await _audit(client, admin_headers, action="auth.login_failed")
    assert [(e["username"], e["staff_id"], e["after"]["outcome"]) for e in failed] == [
        ("mantan", None, "deactivated"),
        ("nobody", None, "unknown_user"),
        ("kasir", None, "wrong_password"),
    ]
    assert {e["after"]["address"] for e in failed} == {"198.51.100.7"}
    assert {(e["entity_type"], e["entity_id"]) for e in failed} == {
        ("login", "mantan"),
        ("login", "nobody"),
        ("login", "kasir"),
    }
    [success] = await _audit(client, admin_headers, action="auth.login")
    assert (success["username"], success["staff_id"]) == ("kasir", cashier.id)
    assert success["after"]["outcome"] == "success"
    assert success["after"]["address"] == "198.51.100.7"
    on_kasir = await _audit(client, admin_headers, entity_type="login", entity_id="kasir")
    assert [e["action"] for e in on_kasir] == ["auth.login_failed", "auth.login"]

    everything = (await client.get(AUDIT, headers=admin_headers)).text
    for secret in (PASSWORD, "tebakan-rahasia", "tebakan-lain", ok.json()["access_token"]):
        assert secret not in everything
    assert "$argon2" not in everything


async def test_a_typed_username_is_audited_normalised_and_bounded(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    typed = "  " + "Ab" * 99
    assert (await _login(client, typed, "x")).status_code == 401
    [entry] = await _audit(client, admin_headers, action="auth.login_failed")
    expected = ("ab" * 99)[:50]
    assert entry["username"] == entry["entity_id"] == entry["after"]["username"] == expected


async def test_throttled_logins_are_audited_once_a_minute_with_a_count(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    clock = install_limiter(app, ip_failures=3)
    async with client_from(app, "203.0.113.9") as attacker:
        for name in ("a1", "a2", "a3"):
            assert (await _login(attacker, name, "x")).status_code == 401
        for name in ("a4", "a5", "a6", "a7"):
            assert (await _login(attacker, name, "x")).status_code == 429
        [first] = await _audit(client, admin_headers, action="auth.login_throttled")
        clock.now += 60
        assert (await _login(attacker, "a8", "x")).status_code == 429
    latest, again = await _audit(client, admin_headers, action="auth.login_throttled")
    assert again == first
    assert (first["username"], first["staff_id"]) == ("a4", None)
    assert first["after"] | {"retry_after": 0} == {
        "outcome": "throttled",
        "limit": "address",
        "retry_after": 0,
        "refusals": 1,
        "username": "a4",
        "address": "203.0.113.9",
        "delay_s": 0.0,
    }
    assert first["after"]["retry_after"] > 0
    # a5, a6 and a7 were counted, not each written.
    assert (latest["username"], latest["after"]["refusals"]) == ("a8", 4)


async def test_a_role_refusal_is_audited_in_its_own_transaction(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    cashier: Staff,
    admin_headers: dict[str, str],
) -> None:
    cashier_headers = bearer(settings, cashier)
    async with client_from(app, "192.168.1.20") as counter:
        # A GET runs in a read-only transaction; a POST (on SQLite) holds the write lock.
        assert (await counter.get(AUDIT, headers=cashier_headers)).status_code == 403
        refused = await counter.post(
            "/api/v1/admin/menu/categories", json={"name": "Snack"}, headers=cashier_headers
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "role_not_allowed"

    entries = await _audit(client, admin_headers, action="auth.role_not_allowed")
    assert [(e["entity_type"], e["entity_id"]) for e in entries] == [
        ("route", "POST /api/v1/admin/menu/categories"),
        ("route", "GET /api/v1/admin/audit"),
    ]
    assert {(e["username"], e["staff_id"]) for e in entries} == {("kasir", cashier.id)}
    assert entries[0]["after"] == {
        "outcome": "role_not_allowed",
        "address": "192.168.1.20",
        "role": "cashier",
        "allowed": ["admin"],
        "path": "/api/v1/admin/menu/categories",
    }
    everything = (await client.get(AUDIT, headers=admin_headers)).text
    assert cashier_headers["Authorization"].removeprefix("Bearer ") not in everything
    menu = (await client.get("/api/v1/menu")).json()
    assert "Snack" not in str(menu)
