from __future__ import annotations

import csv
import io
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from santap.localtime import LOCAL_TZ
from santap.models import Order, Payment, Refund
from santap.simulator import Simulator
from tests.fixtures.factories import place_order

REPORT = "/api/v1/admin/reports/daily"


async def test_report_sums_match_a_generated_day(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    simulator: Simulator,
    cashier_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    rng = random.Random(2026)
    gross = {"cash": 0, "qris": 0}
    refunds = {"cash": 0, "qris": 0}
    quantities: Counter[str] = Counter()
    paid_orders = 0
    for _ in range(12):
        lines = [
            {"menu_item_id": demo_menu[name], "quantity": rng.randint(1, 3)}
            for name in rng.sample(sorted(demo_menu), rng.randint(1, 3))
        ]
        order = await place_order(client, lines)
        how = rng.choice(["cash", "qris", "unpaid"])
        if how == "unpaid":
            continue
        if how == "cash":
            paid = await client.post(
                "/api/v1/payments/cash",
                json={"order_id": order["id"], "amount_tendered": order["total_amount"] + 1000},
                headers=cashier_headers,
            )
            payment_id = paid.json()["payment_id"]
        else:
            qris = await client.post(
                "/api/v1/payments/qris",
                json={"order_id": order["id"], "amount": order["total_amount"]},
                headers={"X-Order-Token": order["access_token"]},
            )
            payment_id = qris.json()["payment_id"]
            await simulator.pay(qris.json()["order_uid"])
            await simulator.drain()
        paid_orders += 1
        gross[how] += order["total_amount"]
        for item in order["items"]:
            quantities[item["name"]] += item["quantity"]
        if rng.random() < 0.4:
            amount = rng.randint(1, order["total_amount"])
            refund = await client.post(
                f"/api/v1/admin/payments/{payment_id}/refund",
                json={"amount": amount, "reason": "test"},
                headers=admin_headers,
            )
            assert refund.status_code == 200, refund.text
            refunds[how] += amount

    today = datetime.now(LOCAL_TZ).date()
    response = await client.get(f"{REPORT}?date={today}", headers=admin_headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["orders_paid"] == paid_orders
    assert report["orders_placed"] == 12
    assert report["gross"] == gross
    assert report["gross_total"] == sum(gross.values())
    assert report["refunds"] == refunds
    assert report["net"] == sum(gross.values()) - sum(refunds.values())
    top = {item["name"]: item["quantity"] for item in report["top_items"]}
    assert top == dict(quantities)
    assert [i["quantity"] for i in report["top_items"]] == sorted(top.values(), reverse=True)
    assert [h["hour"] for h in report["hourly"]] == list(range(24))
    assert sum(h["amount"] for h in report["hourly"]) == report["gross_total"]
    assert sum(h["payments"] for h in report["hourly"]) == paid_orders

    as_csv = await client.get(f"{REPORT}?date={today}&format=csv", headers=admin_headers)
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert ["net", "total", "", str(report["net"])] in rows
    assert ["gross", "qris", "", str(gross["qris"])] in rows
    # One name for the paid-order count, in JSON and CSV alike.
    assert "order_count" not in report
    assert ["summary", "orders_paid", str(paid_orders), ""] in rows

    other_day = today - timedelta(days=3)
    empty = (await client.get(f"{REPORT}?date={other_day}", headers=admin_headers)).json()
    assert (empty["orders_paid"], empty["gross_total"], empty["top_items"]) == (0, 0, [])


async def test_days_are_jakarta_days(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # 2026-11-25 17:00 UTC is midnight 2026-11-26 in Jakarta; a second earlier is the 25th.
    moments = [
        datetime(2026, 11, 25, 17, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 16, 59, 59, tzinfo=UTC),
    ]
    for moment in moments:
        order = await place_order(client, [{"menu_item_id": demo_menu["Es Jeruk"], "quantity": 1}])
        paid = await client.post(
            "/api/v1/payments/cash",
            json={"order_id": order["id"], "amount_tendered": 8000},
            headers=cashier_headers,
        )
        async with sessionmaker() as session:
            await session.execute(
                update(Order)
                .where(Order.id == order["id"])
                .values(paid_at=moment, created_at=moment)
            )
            await session.execute(
                update(Payment)
                .where(Payment.id == paid.json()["payment_id"])
                .values(paid_at=moment)
            )
            await session.execute(update(Refund).values(created_at=moment))
            await session.commit()
    day26 = (await client.get(f"{REPORT}?date=2026-11-26", headers=admin_headers)).json()
    day25 = (await client.get(f"{REPORT}?date=2026-11-25", headers=admin_headers)).json()
    assert (day26["orders_paid"], day26["gross"]["cash"]) == (1, 8000)
    assert (day25["orders_paid"], day25["gross"]["cash"]) == (1, 8000)
    assert day26["period_start"].startswith("2026-11-25T17:00:00")
    # Hours are the restaurant's too: 00:00-00:59 WIB on the 26th, 23:00-23:59 on the 25th.
    assert [(h["hour"], h["amount"]) for h in day26["hourly"] if h["payments"]] == [(0, 8000)]
    assert [(h["hour"], h["amount"]) for h in day25["hourly"] if h["payments"]] == [(23, 8000)]
    csv_rows = (
        await client.get(f"{REPORT}?date=2026-11-25&format=csv", headers=admin_headers)
    ).text
    assert "hour,23:00,1,8000" in csv_rows.splitlines()


async def test_report_rejects_bad_dates(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for query in ("date=2026-13-01", "date=yesterday", "date=", "date=2026-11-26&format=xls"):
        response = await client.get(f"{REPORT}?{query}", headers=admin_headers)
        assert response.status_code == 422, query


async def test_without_a_date_the_report_is_for_today_in_jakarta(
    client: httpx.AsyncClient,
    demo_menu: dict[str, int],
    cashier_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    order = await place_order(client, [{"menu_item_id": demo_menu["Es Jeruk"], "quantity": 1}])
    paid = await client.post(
        "/api/v1/payments/cash",
        json={"order_id": order["id"], "amount_tendered": 8000},
        headers=cashier_headers,
    )
    assert paid.status_code == 201, paid.text
    before = datetime.now(LOCAL_TZ).date()
    report = await client.get(REPORT, headers=admin_headers)
    as_csv = await client.get(f"{REPORT}?format=csv", headers=admin_headers)
    after = datetime.now(LOCAL_TZ).date()
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["date"] in {before.isoformat(), after.isoformat()}  # midnight in Jakarta
    assert body["timezone"] == "Asia/Jakarta"
    assert (body["orders_paid"], body["gross"]["cash"]) == (1, 8000)
    assert as_csv.status_code == 200
    assert f'filename="santap-{body["date"]}.csv"' in as_csv.headers["content-disposition"]
    assert ["summary", "orders_paid", "1", ""] in list(csv.reader(io.StringIO(as_csv.text)))


async def test_the_openapi_says_report_days_are_jakarta_days(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"][REPORT]["get"]
    assert "Asia/Jakarta" in operation["description"]
    [date_param] = [p for p in operation["parameters"] if p["name"] == "date"]
    assert date_param["required"] is False
    assert "Asia/Jakarta" in date_param["description"]
    assert "today" in date_param["description"]
    report = document["components"]["schemas"]["DailyReport"]["properties"]
    assert "orders_paid" in report
    assert "order_count" not in report
