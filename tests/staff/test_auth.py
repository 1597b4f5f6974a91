from __future__ import annotations

import asyncio
import base64
import json
import time
import warnings

import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.config import Settings
from santap.models import Staff, StaffRole
from santap.models.base import MAX_ID
from santap.staff import security
from santap.staff.ratelimit import LoginLimiter
from tests.fixtures.database import TEST_SECRET
from tests.fixtures.staff import PASSWORD, bearer, create_staff, login_headers
from tests.staff.support import client_from, install_limiter

LOGIN = "/api/v1/auth/login"
ADMIN_ONLY = "/api/v1/admin/audit"
STAFF_ONLY = "/api/v1/admin/orders"


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.mark.parametrize("settings_overrides", [{"SANTAP_ACCESS_TOKEN_TTL_S": 90}])
async def test_login_returns_a_short_lived_signed_token(
    client: httpx.AsyncClient, admin: Staff
) -> None:
    response = await _login(client, " Pemilik ", PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "admin"
    assert body["expires_in"] == 90
    claims = jwt.decode(body["access_token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(admin.id)
    assert claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 90
    assert abs(claims["iat"] - time.time()) < 60
    assert len(claims["jti"]) >= 16
    again = (await _login(client, "pemilik", PASSWORD)).json()
    assert (
        jwt.decode(again["access_token"], TEST_SECRET, algorithms=["HS256"])["jti"]
        != (claims["jti"])
    )
    ok = await client.get(ADMIN_ONLY, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert ok.status_code == 200


async def test_failed_logins_all_look_the_same(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], cashier: Staff
) -> None:
    await create_staff(sessionmaker, username="mantan", is_active=False)
    attempts = [
        ("nobody", PASSWORD),
        ("kasir", "wrong-password"),
        ("kasir", ""),
        ("mantan", PASSWORD),
        ("", ""),
    ]
    responses = [await _login(client, username, password) for username, password in attempts]
    assert {r.status_code for r in responses} == {401}
    assert {json.dumps(r.json(), sort_keys=True) for r in responses} == {
        json.dumps(
            {
                "error": {
                    "code": "invalid_credentials",
                    "message": "Invalid username or password",
                    "details": None,
                }
            },
            sort_keys=True,
        )
    }


async def test_unknown_username_still_costs_a_hash_check(
    client: httpx.AsyncClient, cashier: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real_verify = security.verify_password

    def counting_verify(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(security, "verify_password", counting_verify)
    await _login(client, "nobody", PASSWORD)
    await _login(client, "kasir", "wrong-password")
    assert len(checked) == 2
    assert checked[0].startswith("$argon2")
    assert checked[0] != checked[1]


async def test_login_upgrades_an_outdated_hash(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with sessionmaker() as session:
        session.add(Staff(username="lama", password_hash=weak, role="cashier", is_active=True))
        await session.commit()
    assert (await _login(client, "lama", PASSWORD)).status_code == 200
    async with sessionmaker() as session:
        stored = await session.scalar(select(Staff.password_hash).where(Staff.username == "lama"))
    assert stored is not None
    assert stored != weak
    assert not security.needs_rehash(stored)
    assert security.verify_password(stored, PASSWORD)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic a2FzaXI6eA==", "Bearer not-a-jwt", "Token abc"],
)
async def test_requests_without_a_valid_bearer_are_401(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get(STAFF_ONLY, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "not_authenticated"


def _claims(staff: Staff, **changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(staff.id),
        "role": str(staff.role),
        "iat": now,
        "exp": now + 600,
        "jti": "j" * 22,
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _tamper(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def _sign_hs512(claims: dict[str, object]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, TEST_SECRET, "HS512")


async def test_forged_expired_and_foreign_tokens_are_refused(
    client: httpx.AsyncClient, settings: Settings, cashier: Staff, admin: Staff
) -> None:
    good = _token(bearer(settings, cashier))
    now = int(time.time())
    sign = jwt.encode
    bad_tokens = {
        "tampered role": _tamper(good, role="admin"),
        "tampered subject": _tamper(good, sub=str(admin.id)),
        "tampered expiry": _tamper(good, exp=now + 10**6),
        "wrong secret": sign(_claims(cashier), "another-secret-key-0123456789abcdef", "HS256"),
        "expired": sign(_claims(cashier, iat=now - 700, exp=now - 100), TEST_SECRET, "HS256"),
        "no expiry": sign(_claims(cashier, exp=None), TEST_SECRET, "HS256"),
        "no jti": sign(_claims(cashier, jti=None), TEST_SECRET, "HS256"),
        "unsigned": jwt.encode(_claims(cashier), None, algorithm="none"),
        "other algorithm": _sign_hs512(_claims(cashier)),
        "unknown staff": sign(_claims(cashier, sub="999999"), TEST_SECRET, "HS256"),
        "non-numeric subject": sign(_claims(cashier, sub="kasir"), TEST_SECRET, "HS256"),
        "unknown role": sign(_claims(cashier, role="owner"), TEST_SECRET, "HS256"),
    }
    assert (await client.get(STAFF_ONLY, headers={"Authorization": f"Bearer {good}"})).is_success
    for name, token in bad_tokens.items():
        response = await client.get(STAFF_ONLY, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name


async def test_a_signed_subject_the_id_column_cannot_hold_is_401(
    client: httpx.AsyncClient, settings: Settings, cashier: Staff
) -> None:
    own = str(cashier.id)
    fullwidth = own.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    too_big = [str(2**70), str(2**63), str(2**64 + 1), "9" * 40]
    # Only the form issue_token writes is accepted, not others that int() would read.
    other_forms = [f"+{own}", f" {own}", f"0{own}", fullwidth]
    for subject in too_big + other_forms:
        token = jwt.encode(_claims(cashier, sub=subject), TEST_SECRET, "HS256")
        response = await client.get(STAFF_ONLY, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, subject
        assert response.json()["error"]["code"] == "not_authenticated"
    # The largest id the column holds is looked up, and is nobody.
    token = jwt.encode(_claims(cashier, sub=str(MAX_ID)), TEST_SECRET, "HS256")
    response = await client.get(STAFF_ONLY, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert (await client.get(STAFF_ONLY, headers=bearer(settings, cashier))).status_code == 200


# Claims are whole seconds, so a token lives between TTL - 1 and TTL seconds: 3 leaves a busy
# machine at least 2 s for the first request.
@pytest.mark.parametrize("settings_overrides", [{"SANTAP_ACCESS_TOKEN_TTL_S": 3}])
async def test_a_token_stops_working_when_its_ttl_runs_out(
    client: httpx.AsyncClient, cashier: Staff
) -> None:
    headers = await login_headers(client, "kasir")
    assert (await client.get(STAFF_ONLY, headers=headers)).status_code == 200
    time.sleep(3.1)
    assert (await client.get(STAFF_ONLY, headers=headers)).status_code == 401


async def test_deactivated_staff_is_refused_at_once_even_with_a_live_token(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    cashier: Staff,
    cashier_headers: dict[str, str],
) -> None:
    assert (await client.get(STAFF_ONLY, headers=cashier_headers)).status_code == 200
    async with sessionmaker() as session:
        await session.execute(update(Staff).where(Staff.id == cashier.id).values(is_active=False))
        await session.commit()
    response = await client.get(STAFF_ONLY, headers=cashier_headers)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "This staff account is deactivated"
    assert (await _login(client, "kasir", PASSWORD)).status_code == 401


async def test_role_comes_from_the_database_not_the_token(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: Staff,
    admin_headers: dict[str, str],
) -> None:
    assert (await client.get(ADMIN_ONLY, headers=admin_headers)).status_code == 200
    async with sessionmaker() as session:
        await session.execute(
            update(Staff).where(Staff.id == admin.id).values(role=StaffRole.CASHIER)
        )
        await session.commit()
    assert (await client.get(ADMIN_ONLY, headers=admin_headers)).status_code == 403
    assert (await client.get(STAFF_ONLY, headers=admin_headers)).status_code == 200


async def test_failed_logins_per_username_and_address_are_limited(
    app: FastAPI, client: httpx.AsyncClient, cashier: Staff
) -> None:
    clock = install_limiter(app)
    for _ in range(5):
        assert (await _login(client, "kasir", "tebakan")).status_code == 401
    clock.now += 60
    blocked = await _login(client, "KASIR", PASSWORD)
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "too_many_login_attempts"
    assert blocked.headers["Retry-After"] == "240"
    # Another account from the same address is not held up by this one's failures.
    await create_staff(app.state.sessionmaker, username="kasir2")
    assert (await _login(client, "kasir2", PASSWORD)).status_code == 200
    clock.now += 240
    assert (await _login(client, "kasir", PASSWORD)).status_code == 200


async def test_guessing_from_one_address_does_not_lock_out_the_cashier_elsewhere(
    app: FastAPI, cashier: Staff
) -> None:
    install_limiter(app)
    async with client_from(app, "203.0.113.9") as attacker:
        for _ in range(5):
            assert (await _login(attacker, "kasir", "tebakan")).status_code == 401
        assert (await _login(attacker, "kasir", PASSWORD)).status_code == 429
    async with client_from(app, "192.168.1.20") as counter:
        assert (await _login(counter, "kasir", PASSWORD)).status_code == 200


async def test_guessing_from_many_addresses_slows_the_username_down_but_never_locks_it(
    app: FastAPI, cashier: Staff
) -> None:
    clock = install_limiter(app)
    for index in range(8):
        async with client_from(app, f"203.0.113.{index}") as attacker:
            for _ in range(2):
                assert (await _login(attacker, "kasir", "tebakan")).status_code == 401
    # Free at first, then a growing delay before each check, capped at a few seconds.
    assert clock.delays[0] == 0.5
    assert clock.delays == sorted(clock.delays)
    assert clock.delays[-1] == max(clock.delays) == 4.0
    assert len(clock.delays) == 16 - 3
    # No database connection is held while an attempt waits.
    assert set(clock.connections_held) == {0}
    async with client_from(app, "192.168.1.20") as counter:
        assert (await _login(counter, "kasir", PASSWORD)).status_code == 200
    assert clock.delays[-1] == 4.0
    # Other usernames are not slowed down.
    await create_staff(app.state.sessionmaker, username="kasir2")
    async with client_from(app, "192.168.1.20") as counter:
        assert (await _login(counter, "kasir2", PASSWORD)).status_code == 200
    assert len(clock.delays) == 16 - 3 + 1


async def test_the_username_delay_is_really_waited(app: FastAPI, cashier: Staff) -> None:
    limiter = LoginLimiter.create()
    limiter.delay_base_s = limiter.delay_cap_s = 1.5
    app.state.login_limiter = limiter
    async with client_from(app, "203.0.113.1") as attacker:
        for _ in range(3):
            assert (await _login(attacker, "kasir", "tebakan")).status_code == 401
    async with client_from(app, "192.168.1.20") as counter:
        started = time.monotonic()
        assert (await _login(counter, "kasir", PASSWORD)).status_code == 200
    assert time.monotonic() - started >= 1.5


async def test_a_success_clears_the_username_and_address_count(
    app: FastAPI, client: httpx.AsyncClient, cashier: Staff
) -> None:
    install_limiter(app)
    for _ in range(4):
        assert (await _login(client, "kasir", "tebakan")).status_code == 401
    assert (await _login(client, "kasir", PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await _login(client, "kasir", "tebakan")).status_code == 401
    assert (await _login(client, "kasir", PASSWORD)).status_code == 200


async def test_parallel_guesses_cannot_overrun_the_limit(
    app: FastAPI, client: httpx.AsyncClient, cashier: Staff
) -> None:
    install_limiter(app)
    responses = await asyncio.gather(*(_login(client, "kasir", f"g{i}") for i in range(12)))
    assert sorted(r.status_code for r in responses) == [401] * 5 + [429] * 7


@pytest.mark.parametrize("settings_overrides", [{"TRUSTED_PROXIES": "127.0.0.0/8"}])
async def test_failed_logins_per_ip_are_limited(
    app: FastAPI, client: httpx.AsyncClient, cashier: Staff
) -> None:
    install_limiter(app, ip_failures=3)
    attacker = {"X-Forwarded-For": "203.0.113.9"}
    for name in ("a1", "a2", "a3"):
        response = await client.post(
            LOGIN, json={"username": name, "password": "x"}, headers=attacker
        )
        assert response.status_code == 401
    response = await client.post(
        LOGIN, json={"username": "kasir", "password": PASSWORD}, headers=attacker
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    response = await client.post(
        LOGIN,
        json={"username": "kasir", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert response.status_code == 200


async def test_forwarded_for_from_an_untrusted_peer_cannot_dodge_the_ip_limit(
    app: FastAPI, client: httpx.AsyncClient, cashier: Staff
) -> None:
    install_limiter(app, ip_failures=3)
    for index in range(3):
        response = await client.post(
            LOGIN,
            json={"username": f"a{index}", "password": "x"},
            headers={"X-Forwarded-For": f"203.0.113.{index}"},
        )
        assert response.status_code == 401
    response = await client.post(
        LOGIN,
        json={"username": "kasir", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert response.status_code == 429


async def test_each_app_has_its_own_limiter(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert not hasattr(app.state, "login_limiter")
    await _login(client, "nobody", "x")
    assert app.state.login_limiter.by_username.count("nobody") == 1
