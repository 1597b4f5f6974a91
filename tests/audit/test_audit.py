from __future__ import annotations

import base64

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.audit import service as audit
from santap.models import Staff


async def test_admins_read_the_audit_log_newest_first_in_pages(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: Staff,
    admin_headers: dict[str, str],
) -> None:
    async with sessionmaker() as session:
        for index in range(5):
            await audit.record(
                session,
                staff=admin if index % 2 else None,
                action="menu_item.update",
                entity_type="menu_item" if index < 4 else "order",
                entity_id=index,
                before={"price": index},
                after={"price": index + 1},
            )
        await session.commit()
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/api/v1/admin/audit", params=params, headers=admin_headers)
        assert response.status_code == 200, response.text
        seen += [entry["entity_id"] for entry in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == ["4", "3", "2", "1", "0"]
    first = (
        await client.get("/api/v1/admin/audit", params={"limit": 1}, headers=admin_headers)
    ).json()["items"][0]
    assert first["username"] == "system"
    assert first["before"] == {"price": 4}
    assert first["after"] == {"price": 5}
    filtered = await client.get(
        "/api/v1/admin/audit",
        params={"entity_type": "menu_item", "entity_id": "3"},
        headers=admin_headers,
    )
    assert [(e["entity_id"], e["username"]) for e in filtered.json()["items"]] == [("3", "pemilik")]
    for cursor in ("%%", base64.urlsafe_b64encode(b'{"id":1180591620717411303424}').decode()):
        bad = await client.get(
            "/api/v1/admin/audit", params={"cursor": cursor}, headers=admin_headers
        )
        assert bad.status_code == 422, cursor


async def test_the_audit_log_filters_by_action(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: Staff,
    admin_headers: dict[str, str],
) -> None:
    async with sessionmaker() as session:
        for action in ("auth.login_failed", "menu_item.update", "auth.login_failed", "auth.login"):
            await audit.record(
                session,
                staff=admin,
                action=action,
                entity_type="login",
                entity_id="kasir",
                before=None,
                after=None,
            )
        await session.commit()
    response = await client.get(
        "/api/v1/admin/audit", params={"action": "auth.login_failed"}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert [e["action"] for e in response.json()["items"]] == ["auth.login_failed"] * 2
    for bad in ("a" * 51, "auth\x00"):
        response = await client.get(
            "/api/v1/admin/audit", params={"action": bad}, headers=admin_headers
        )
        assert response.status_code == 422, bad
