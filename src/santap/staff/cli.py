"""Staff account commands behind `santap create-staff` and `santap deactivate-staff`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from santap.config import Settings
from santap.db import create_engine, create_sessionmaker
from santap.models import StaffRole
from santap.staff import service
from santap.staff.schemas import StaffCreate

CLI_ACTOR = "cli"


async def create_staff(settings: Settings, *, username: str, password: str, role: StaffRole) -> int:
    """Create an active staff account; returns its id. Raises ``pydantic.ValidationError`` for
    a bad username or short password and ``StaffExists`` for a taken username."""
    data = StaffCreate(username=username, password=password, role=role)
    async with _session(settings) as session:
        staff = await service.create_staff(session, data=data, actor=CLI_ACTOR)
        await session.commit()
        return staff.id


async def deactivate_staff(settings: Settings, *, username: str) -> None:
    async with _session(settings) as session:
        await service.deactivate_staff(session, username=username, actor=CLI_ACTOR)
        await session.commit()


@asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()
