from __future__ import annotations

import asyncio

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
