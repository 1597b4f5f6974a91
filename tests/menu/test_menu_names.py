"""Item names are unique within their category (409 ``menu_item_name_taken``, nothing
changed), free across categories; and the owner's view of the whole menu."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.models import AuditLog, MenuItem

ADMIN_MENU = "/api/v1/admin/menu"


async def _category(client: httpx.AsyncClient, headers: dict[str, str], name: str) -> int:
    response = await client.post(f"{ADMIN_MENU}/categories", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    category_id: int = response.json()["id"]
    return category_id


async def _item(
    client: httpx.AsyncClient, headers: dict[str, str], category_id: int, name: str
) -> httpx.Response:
    body = {"category_id": category_id, "name": name, "price": 5000}
    return await client.post(f"{ADMIN_MENU}/items", json=body, headers=headers)


async def _counts(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessionmaker() as session:
        items = await session.scalar(select(func.count()).select_from(MenuItem))
        audits = await session.scalar(select(func.count()).select_from(AuditLog))
    return int(items or 0), int(audits or 0)


def _taken(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "menu_item_name_taken"
    return error


async def test_an_item_name_is_taken_once_per_category(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    drinks = await _category(client, admin_headers, "Minuman")
    desserts = await _category(client, admin_headers, "Es & Pencuci Mulut")
    first = await _item(client, admin_headers, drinks, "Es Teh")
    assert first.status_code == 201, first.text
    before = await _counts(sessionmaker)

    error = _taken(await _item(client, admin_headers, drinks, " Es Teh "))
    assert error["message"] == "The category 'Minuman' already has an item named 'Es Teh'"
    assert error["details"] == {
        "category_id": drinks,
        "name": "Es Teh",
        "menu_item_id": first.json()["id"],
        "is_retired": False,
    }
    assert await _counts(sessionmaker) == before

    elsewhere = await _item(client, admin_headers, desserts, "Es Teh")
    assert elsewhere.status_code == 201, elsewhere.text
    assert (await _item(client, admin_headers, drinks, "es teh")).status_code == 201


async def test_renaming_or_moving_onto_a_taken_name_is_409_and_changes_nothing(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
) -> None:
    drinks = await _category(client, admin_headers, "Minuman")
    desserts = await _category(client, admin_headers, "Pencuci Mulut")
    tea = (await _item(client, admin_headers, drinks, "Es Teh")).json()
    orange = (await _item(client, admin_headers, drinks, "Es Jeruk")).json()
    dessert_tea = (await _item(client, admin_headers, desserts, "Es Teh")).json()
    before = await _counts(sessionmaker)

    renamed = await client.patch(
        f"{ADMIN_MENU}/items/{orange['id']}", json={"name": "Es Teh"}, headers=admin_headers
    )
    _taken(renamed)
    moved = await client.patch(
        f"{ADMIN_MENU}/items/{dessert_tea['id']}",
        json={"category_id": drinks, "price": 9000},
        headers=admin_headers,
    )
    assert _taken(moved)["details"]["menu_item_id"] == tea["id"]
    assert await _counts(sessionmaker) == before
    async with sessionmaker() as session:
        rows = (await session.scalars(select(MenuItem).order_by(MenuItem.id))).all()
    assert [(r.category_id, r.name, r.price) for r in rows] == [
        (drinks, "Es Teh", 5000),
        (drinks, "Es Jeruk", 5000),
        (desserts, "Es Teh", 5000),
    ]

    # Its own name, unchanged, is no conflict; nor is a move to where the name is free.
    same = await client.patch(
        f"{ADMIN_MENU}/items/{tea['id']}", json={"name": "Es Teh"}, headers=admin_headers
    )
    assert same.status_code == 200, same.text
    free = await client.patch(
        f"{ADMIN_MENU}/items/{orange['id']}", json={"category_id": desserts}, headers=admin_headers
    )
    assert free.status_code == 200, free.text


async def test_a_retired_item_keeps_its_name_and_the_409_says_how_to_get_it_back(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    drinks = await _category(client, admin_headers, "Minuman")
    tea = (await _item(client, admin_headers, drinks, "Es Teh")).json()
    retired = await client.patch(
        f"{ADMIN_MENU}/items/{tea['id']}", json={"is_retired": True}, headers=admin_headers
    )
    assert retired.status_code == 200, retired.text
    error = _taken(await _item(client, admin_headers, drinks, "Es Teh"))
    assert "retired" in error["message"]
    assert "is_retired=false" in error["message"]
    assert error["details"]["is_retired"] is True


async def test_the_admin_menu_shows_everything(
    client: httpx.AsyncClient, admin_headers: dict[str, str], cashier_headers: dict[str, str]
) -> None:
    drinks = await _category(client, admin_headers, "Minuman")
    hidden = await _category(client, admin_headers, "Musiman")
    items = {
        name: (await _item(client, admin_headers, category, name)).json()["id"]
        for category, name in [
            (drinks, "Es Teh"),
            (drinks, "Es Jeruk"),
            (drinks, "Kopi Tubruk"),
            (hidden, "Es Buah"),
        ]
    }
    changes: list[tuple[str, dict[str, Any]]] = [
        (f"categories/{hidden}", {"is_active": False}),
        (f"items/{items['Es Jeruk']}", {"is_available": False}),
        (f"items/{items['Kopi Tubruk']}", {"is_retired": True}),
    ]
    for path, body in changes:
        changed = await client.patch(f"{ADMIN_MENU}/{path}", json=body, headers=admin_headers)
        assert changed.status_code == 200, changed.text
    public = (await client.get("/api/v1/menu")).json()
    assert [[i["name"] for i in c["items"]] for c in public["categories"]] == [
        ["Es Teh", "Es Jeruk"]
    ]

    response = await client.get(ADMIN_MENU, headers=admin_headers)
    assert response.status_code == 200, response.text
    view = response.json()
    assert [(c["category"]["name"], c["category"]["is_active"]) for c in view] == [
        ("Minuman", True),
        ("Musiman", False),
    ]
    flags = {
        item["name"]: (item["is_available"], item["is_retired"])
        for entry in view
        for item in entry["items"]
    }
    assert flags == {
        "Es Teh": (True, False),
        "Es Jeruk": (False, False),
        "Kopi Tubruk": (True, True),
        "Es Buah": (True, False),
    }
    assert all(item["updated_at"].endswith("Z") for entry in view for item in entry["items"])
    assert (await client.get(ADMIN_MENU, headers=cashier_headers)).status_code == 403
    assert (await client.get(ADMIN_MENU)).status_code == 401


@pytest.mark.parametrize("change", ["create", "rename", "move"])
async def test_a_concurrent_duplicate_is_caught_by_the_index(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    """The check cannot see an item saved by another request in the meantime: as if it had
    not, the unique index answers, and the answer is the same 409."""
    drinks = await _category(client, admin_headers, "Minuman")
    desserts = await _category(client, admin_headers, "Pencuci Mulut")
    await _item(client, admin_headers, drinks, "Es Teh")
    orange = (await _item(client, admin_headers, drinks, "Es Jeruk")).json()
    dessert_tea = (await _item(client, admin_headers, desserts, "Es Teh")).json()
    before = await _counts(sessionmaker)

    async def unseen(*_args: object) -> None:
        return None

    monkeypatch.setattr("santap.menu.repository.get_item_by_name", unseen)
    if change == "create":
        response = await _item(client, admin_headers, drinks, "Es Teh")
    else:
        item, body = (
            (orange, {"name": "Es Teh"})
            if change == "rename"
            else (dessert_tea, {"category_id": drinks})
        )
        response = await client.patch(
            f"{ADMIN_MENU}/items/{item['id']}", json=body, headers=admin_headers
        )
    assert _taken(response)["details"] == {"category_id": drinks, "name": "Es Teh"}
    assert await _counts(sessionmaker) == before
    async with sessionmaker() as session:
        rows = (await session.execute(select(MenuItem.category_id, MenuItem.name))).all()
    assert sorted(rows) == sorted([(drinks, "Es Teh"), (drinks, "Es Jeruk"), (desserts, "Es Teh")])
