from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner, Result

from santap.cli import app as cli_app
from santap.models import AuditLog, Staff
from santap.staff import security
from tests.fixtures.database import TEST_SECRET

PASSWORD = "sambal-matah-99"


async def _run(database_url: str, *args: str, password: str | None = None, **kw: str) -> Result:
    env = {"DATABASE_URL": database_url, "SANTAP_SECRET_KEY": TEST_SECRET, "SANTAP_ENV": "test"}
    if password is not None:
        env["SANTAP_STAFF_PASSWORD"] = password
    # The command runs its own event loop, so keep it off the test's loop.
    return await asyncio.to_thread(CliRunner().invoke, cli_app, list(args), env=env, **kw)


async def _staff(sessionmaker: async_sessionmaker[AsyncSession], username: str) -> Staff | None:
    async with sessionmaker() as session:
        return await session.scalar(select(Staff).where(Staff.username == username))


async def test_create_staff_with_a_password_option(
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    result = await _run(
        database_url,
        "create-staff",
        "--username",
        "Budi",
        "--password",
        PASSWORD,
        "--role",
        "admin",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin 'budi'" in result.output
    staff = await _staff(sessionmaker, "budi")
    assert staff is not None
    assert staff.role == "admin"
    assert staff.is_active
    assert PASSWORD not in staff.password_hash
    assert security.verify_password(staff.password_hash, PASSWORD)
    login = await client.post("/api/v1/auth/login", json={"username": "budi", "password": PASSWORD})
    assert login.status_code == 200
    assert login.json()["role"] == "admin"
    async with sessionmaker() as session:
        entry = await session.scalar(select(AuditLog))
    assert entry is not None
    assert (entry.action, entry.username, entry.staff_id) == ("staff.create", "cli", None)
    assert (entry.entity_type, entry.entity_id) == ("staff", str(staff.id))
    assert entry.before is None
    assert entry.after == {"username": "budi", "role": "admin", "is_active": True}


async def test_create_staff_reads_the_password_from_the_environment(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    result = await _run(
        database_url,
        "create-staff",
        "--username",
        "sari",
        "--role",
        "cashier",
        password=PASSWORD,
    )
    assert result.exit_code == 0, result.output
    staff = await _staff(sessionmaker, "sari")
    assert staff is not None
    assert security.verify_password(staff.password_hash, PASSWORD)


async def test_create_staff_prompts_for_a_hidden_confirmed_password(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    args = ("create-staff", "--username", "andi", "--role", "cashier")
    mismatch = await _run(database_url, *args, input=f"{PASSWORD}\nother-password\n")
    assert mismatch.exit_code != 0
    assert await _staff(sessionmaker, "andi") is None
    result = await _run(database_url, *args, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    staff = await _staff(sessionmaker, "andi")
    assert staff is not None
    assert security.verify_password(staff.password_hash, PASSWORD)


async def test_create_staff_refuses_bad_input_and_duplicates(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    base = ("create-staff", "--role", "cashier")
    short = await _run(database_url, *base, "--username", "dewi", "--password", "pendek")
    assert short.exit_code == 2
    assert "password" in short.output
    bad_name = await _run(database_url, *base, "--username", "de wi!", "--password", PASSWORD)
    assert bad_name.exit_code == 2
    bad_role = await _run(
        database_url, "create-staff", "--username", "dewi", "--role", "owner", password=PASSWORD
    )
    assert bad_role.exit_code == 2
    assert (await _run(database_url, *base, "--username", "dewi", password=PASSWORD)).exit_code == 0
    again = await _run(database_url, *base, "--username", "DEWI", password=PASSWORD)
    assert again.exit_code == 1
    assert "already exists" in again.output


async def test_deactivate_staff_ends_its_access(
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    created = await _run(
        database_url, "create-staff", "--username", "eko", "--role", "cashier", password=PASSWORD
    )
    assert created.exit_code == 0
    login = await client.post("/api/v1/auth/login", json={"username": "eko", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/v1/admin/orders", headers=headers)).status_code == 200
    result = await _run(database_url, "deactivate-staff", "--username", "eko")
    assert result.exit_code == 0, result.output
    assert (await client.get("/api/v1/admin/orders", headers=headers)).status_code == 401
    async with sessionmaker() as session:
        actions = (await session.scalars(select(AuditLog.action).order_by(AuditLog.id))).all()
    assert actions == ["staff.create", "auth.login", "staff.deactivate"]
    missing = await _run(database_url, "deactivate-staff", "--username", "nobody")
    assert missing.exit_code == 1


async def _create(database_url: str, username: str, role: str) -> Result:
    args = ("staff", "create", "--username", username, "--role", role)
    return await _run(database_url, *args, password=PASSWORD)


async def _actions(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessionmaker() as session:
        actions = await session.scalars(select(AuditLog.action).order_by(AuditLog.id))
        return [action for action in actions if action.startswith("staff.")]


async def _login(client: httpx.AsyncClient, username: str, password: str) -> int:
    answer = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    return answer.status_code


async def test_staff_list_shows_each_account_without_its_password_hash(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    empty = await _run(database_url, "staff", "list")
    assert empty.exit_code == 0, empty.output
    assert empty.stdout == "No staff accounts yet: add one with `santap staff create`.\n"
    for username, role in (("wayan", "cashier"), ("ayu", "admin")):
        created = await _create(database_url, username, role)
        assert created.exit_code == 0, created.output
        assert f"Created {role} {username!r}" in created.stdout
    assert (await _run(database_url, "staff", "deactivate", "--username", "wayan")).exit_code == 0
    result = await _run(database_url, "staff", "list")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["username", "role", "active", "created"]
    assert [row.split()[:3] for row in rows] == [
        ["ayu", "admin", "yes"],
        ["wayan", "cashier", "no"],
    ]
    for row in rows:
        assert re.fullmatch(r"\S+ +\S+ +\S+ +\d{4}-\d\d-\d\d \d\d:\d\d WIB", row)
    ayu = await _staff(sessionmaker, "ayu")
    assert ayu is not None
    assert ayu.password_hash not in result.output
    assert "argon" not in result.output


async def test_staff_reactivate_lets_a_deactivated_account_log_in_again(
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    args = ("--username", "Putu")
    assert (await _create(database_url, "Putu", "cashier")).exit_code == 0
    assert (await _run(database_url, "staff", "deactivate", *args)).exit_code == 0
    assert await _login(client, "putu", PASSWORD) == 401
    result = await _run(database_url, "staff", "reactivate", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Reactivated 'putu'.\n"
    assert await _login(client, "putu", PASSWORD) == 200
    again = await _run(database_url, "staff", "reactivate", *args)  # already active: no change
    assert again.exit_code == 0, again.output
    assert await _actions(sessionmaker) == ["staff.create", "staff.deactivate", "staff.reactivate"]
    async with sessionmaker() as session:
        entry = await session.scalar(select(AuditLog).where(AuditLog.action == "staff.reactivate"))
    assert entry is not None
    assert (entry.username, entry.staff_id) == ("cli", None)
    assert entry.before == {"username": "putu", "role": "cashier", "is_active": False}
    assert entry.after == {"username": "putu", "role": "cashier", "is_active": True}
    missing = await _run(database_url, "staff", "reactivate", "--username", "nobody")
    assert missing.exit_code == 1
    assert missing.stderr == "Staff member 'nobody' was not found\n"


async def test_staff_reset_password_from_the_environment_or_the_prompt(
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    args = ("staff", "reset-password", "--username", "made")
    assert (await _create(database_url, "made", "admin")).exit_code == 0
    result = await _run(database_url, *args, password="rendang-padang-7")
    assert result.exit_code == 0, result.output
    assert result.stdout == "New password set for 'made'.\n"
    assert await _login(client, "made", PASSWORD) == 401
    assert await _login(client, "made", "rendang-padang-7") == 200

    mismatch = await _run(database_url, *args, input="soto-betawi-1\nsoto-betawi-2\n")
    assert mismatch.exit_code != 0
    prompted = await _run(database_url, *args, input="soto-betawi-1\nsoto-betawi-1\n")
    assert prompted.exit_code == 0, prompted.output
    assert "soto-betawi-1" not in prompted.output
    assert await _login(client, "made", "soto-betawi-1") == 200

    short = await _run(database_url, *args, password="pendek")
    assert short.exit_code == 2
    assert short.stderr == "Invalid password: String should have at least 8 characters\n"
    missing = await _run(
        database_url, "staff", "reset-password", "--username", "x", password=PASSWORD
    )
    assert missing.exit_code == 1
    assert await _actions(sessionmaker) == [
        "staff.create",
        "staff.reset_password",
        "staff.reset_password",
    ]
    async with sessionmaker() as session:
        entry = await session.scalar(
            select(AuditLog).where(AuditLog.action == "staff.reset_password")
        )
    assert entry is not None
    assert (entry.username, entry.entity_type) == ("cli", "staff")
    assert entry.before == entry.after == {"username": "made", "role": "admin", "is_active": True}


async def _token(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def _board(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return (await client.get("/api/v1/admin/orders", headers=headers)).status_code


async def test_a_new_password_ends_the_tokens_issued_before_it(
    database_url: str, client: httpx.AsyncClient
) -> None:
    """Whoever learned the old password, and logged in with it, is out once it is reset."""
    assert (await _create(database_url, "wayan", "cashier")).exit_code == 0
    stolen = await _token(client, "wayan", PASSWORD)
    assert await _board(client, stolen) == 200
    reset = await _run(
        database_url, "staff", "reset-password", "--username", "wayan", password="nasi-uduk-99"
    )
    assert reset.exit_code == 0, reset.output
    assert await _board(client, stolen) == 401
    fresh = await _token(client, "wayan", "nasi-uduk-99")
    assert await _board(client, fresh) == 200


async def test_a_reactivation_does_not_bring_back_tokens_from_before(
    database_url: str, client: httpx.AsyncClient
) -> None:
    assert (await _create(database_url, "ketut", "cashier")).exit_code == 0
    before = await _token(client, "ketut", PASSWORD)
    for command in ("deactivate", "reactivate"):
        done = await _run(database_url, "staff", command, "--username", "ketut")
        assert done.exit_code == 0, done.output
    assert await _board(client, before) == 401
    assert await _board(client, await _token(client, "ketut", PASSWORD)) == 200
