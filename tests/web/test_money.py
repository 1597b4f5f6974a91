"""The owner's money pages in a real browser: a payment to refund, and the day's report."""

from __future__ import annotations

import csv
import io

import httpx
from playwright.async_api import Browser, Page, expect

from santap.models import StaffRole
from santap.simulator import Simulator
from tests.fixtures.staff import bearer, create_staff
from tests.web.a11y import serious_violations
from tests.web.conftest import PHONE, Site, shot_path
from tests.web.test_admin import _log_in


async def _paid_twice(site: Site) -> None:
    """Order 1 (Rp35.000): the cashier takes cash while Midtrans cannot be told, and then the
    customer pays the QRIS as well; the QRIS payment (1) is owed back."""
    simulator: Simulator = site.app.state.simulator
    cashier = await create_staff(
        site.app.state.sessionmaker, username="kasir", role=StaffRole.CASHIER
    )
    async with httpx.AsyncClient(base_url=site.url, timeout=10) as http:
        menu = (await http.get("/api/v1/menu")).json()
        [nasi] = [
            i["id"]
            for c in menu["categories"]
            for i in c["items"]
            if i["name"] == "Nasi Goreng Spesial"
        ]
        order = (
            await http.post(
                "/api/v1/orders", json={"items": [{"menu_item_id": nasi, "quantity": 1}]}
            )
        ).json()
        qris = await http.post(
            "/api/v1/payments/qris",
            json={"order_id": order["id"], "amount": order["total_amount"]},
            headers={"X-Order-Token": order["access_token"]},
        )
        await simulator.choose_qris(qris.json()["order_uid"])
        simulator.faults.drop_rate = simulator.faults.error_rate = 1.0
        cash = await http.post(
            "/api/v1/payments/cash",
            json={"order_id": order["id"], "amount_tendered": 50000},
            headers=bearer(site.app.state.settings, cashier),
        )
        assert cash.status_code == 201, cash.text
        simulator.faults.drop_rate = simulator.faults.error_rate = 0.0
        await simulator.pay(qris.json()["order_uid"])
        await simulator.drain()


async def test_the_owner_refunds_a_payment_made_twice_in_two_steps(
    site: Site, browser: Browser
) -> None:
    await _paid_twice(site)
    owner = await _log_in(site, browser, "pemilik", StaffRole.ADMIN)
    await owner.get_by_role("link", name="Pembayaran yang perlu ditindaklanjuti").click()
    payment = owner.get_by_role("article", name="Pembayaran 1")
    await expect(payment).to_contain_text("Perlu refund: pesanan juga dibayar dengan cara lain")
    await expect(payment).to_contain_text("Rp35.000")
    await owner.screenshot(path=shot_path("admin-payments-desktop"), full_page=True)
    assert await serious_violations(owner) == []

    amount = owner.get_by_label(
        "Jumlah refund untuk pembayaran 1 (kosong: seluruh sisanya, Rp35.000)"
    )
    await amount.fill("40.000")  # more than was paid
    await owner.get_by_label("Alasan refund pembayaran 1").fill("dibayar dua kali")
    await owner.get_by_role("button", name="Refund pembayaran 1").click()
    await expect(owner.get_by_role("alert")).to_contain_text("Pembayaran 1:")
    await owner.get_by_label("Jumlah refund untuk pembayaran 1", exact=False).fill("10.000")
    await owner.get_by_label("Alasan refund pembayaran 1").fill("sebagian dulu")
    await owner.get_by_role("button", name="Refund pembayaran 1").click()
    await expect(owner.get_by_role("status")).to_have_text(
        "Refund Rp10.000 untuk pembayaran 1 berhasil."
    )
    await expect(payment).to_contain_text("Sudah direfund")
    await expect(
        owner.get_by_label("Jumlah refund untuk pembayaran 1 (kosong: seluruh sisanya, Rp25.000)")
    ).to_be_visible()

    await owner.get_by_label("Alasan refund pembayaran 1").fill("dibayar dua kali")
    await owner.get_by_role("button", name="Refund pembayaran 1").click()  # the rest
    await expect(owner.get_by_role("status").first).to_have_text(
        "Refund Rp25.000 untuk pembayaran 1 berhasil."
    )
    await expect(owner.get_by_text("Tidak ada yang perlu ditindaklanjuti.")).to_be_visible()


async def _report(owner: Page, site: Site) -> None:
    await owner.get_by_role("link", name="Laporan harian").click()
    await expect(owner.get_by_role("heading", name="Laporan harian")).to_be_visible()


async def test_the_daily_report_shows_takings_sales_per_hour_top_items_and_the_csv(
    site: Site, browser: Browser
) -> None:
    await _paid_twice(site)  # Rp35.000 cash and Rp35.000 QRIS, today
    owner = await _log_in(site, browser, "pemilik", StaffRole.ADMIN)
    await owner.goto(f"{site.url}/staff")
    await owner.get_by_role("link", name="Halaman pemilik").click()  # from the board
    await _report(owner, site)
    summary = owner.get_by_role("region", name="Ringkasan", exact=False)
    await expect(summary).to_contain_text("Rp70.000")
    chart = owner.get_by_role("table", name="Pendapatan menurut jam pembayaran (WIB)")
    rows = chart.get_by_role("row")
    await expect(rows).to_have_count(2)  # the header and the one hour with sales
    await expect(rows.nth(1)).to_contain_text("Rp70.000")
    bar = rows.nth(1).locator(".bar")
    assert await bar.evaluate("e => e.getBoundingClientRect().width") > 100  # the busiest hour
    top = owner.get_by_role("region", name="Item terlaris")
    await expect(top.get_by_role("row", name="Nasi Goreng Spesial")).to_contain_text("Rp35.000")
    await owner.screenshot(path=shot_path("admin-report-desktop"), full_page=True)
    assert await serious_violations(owner) == []

    async with owner.expect_download() as saving:
        await owner.get_by_role("link", name="Unduh CSV").click()
    saved = await saving.value
    rows_csv = list(csv.reader(io.StringIO((await saved.path()).read_text())))
    assert ["gross", "total", "", "70000"] in rows_csv
    assert [r[0] for r in rows_csv].count("hour") == 1

    await owner.get_by_label("Hari (Asia/Jakarta)").fill("2026-01-05")
    await owner.get_by_role("button", name="Tampilkan").click()
    await expect(owner.get_by_text("Tidak ada pembayaran pada hari ini.")).to_be_visible()

    phone = await browser.new_context(viewport=PHONE, locale="id-ID")
    small = await phone.new_page()
    await small.context.add_cookies(await owner.context.cookies())
    await small.goto(f"{site.url}/admin/report")
    await small.screenshot(path=shot_path("admin-report-phone"), full_page=True)
    assert await serious_violations(small) == []
    assert await small.evaluate("document.documentElement.scrollWidth <= innerWidth")
