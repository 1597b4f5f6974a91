"""The customer's screens on a phone: order from the table's menu, pay, follow the order."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from santap.simulator import Simulator
from tests.web.a11y import serious_violations
from tests.web.conftest import DESKTOP, PHONE, Site, shot_path

CORE = {"MIDTRANS_QRIS_MODE": "core"}


async def _order_at_table(page: Page, site: Site, table: str = "7") -> None:
    await page.goto(f"{site.url}/t/{table}")
    await expect(page.get_by_role("heading", name=f"Meja {table}")).to_be_visible()
    await page.screenshot(path=shot_path("customer-menu-phone"), full_page=True)
    await page.get_by_label("Nasi Goreng Spesial", exact=True).fill("2")
    await page.get_by_label("Catatan untuk Nasi Goreng Spesial").fill("tidak pedas")
    await page.get_by_label("Es Teh Manis", exact=True).fill("1")
    await page.get_by_label("Nama Anda").fill("Budi")
    await page.get_by_role("button", name="Pesan").click()
    await expect(page.get_by_role("heading", name="Pesanan 1")).to_be_visible()


async def test_a_customer_orders_from_the_table_pays_by_qris_and_sees_it_paid_live(
    site: Site, browser: Browser
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="id-ID")
    page = await context.new_page()
    await _order_at_table(page, site)
    await expect(page.get_by_role("status")).to_have_text("Menunggu pembayaran")
    await expect(page.get_by_text("Rp75.000")).to_be_visible()
    await page.screenshot(path=shot_path("customer-order-phone"), full_page=True)

    await page.get_by_role("button", name="Bayar dengan QRIS").click()
    async with page.expect_popup() as opened:
        await page.get_by_role("link", name="Buka halaman pembayaran").click()
    midtrans = await opened.value
    await page.evaluate("window.notReloaded = true")
    await midtrans.get_by_role("button", name="Pay").click()

    await expect(page.get_by_role("status")).to_have_text("Lunas", timeout=10_000)
    assert await page.evaluate("window.notReloaded === true")  # live, not by reloading
    await expect(page.get_by_role("button", name="Bayar dengan QRIS")).to_be_hidden()
    await page.screenshot(path=shot_path("customer-paid-phone"), full_page=True)
    await context.close()


async def test_the_order_page_opens_only_with_the_cookie_of_the_phone_that_ordered(
    site: Site, browser: Browser
) -> None:
    ordering = await browser.new_context(viewport=PHONE, locale="id-ID")
    page = await ordering.new_page()
    await _order_at_table(page, site)
    stranger = await browser.new_context(viewport=PHONE, locale="id-ID")
    other = await stranger.new_page()
    answer = await other.goto(f"{site.url}/o/1")
    assert answer is not None
    assert answer.status == 404
    await expect(other.get_by_role("heading", name="Pesanan tidak ditemukan")).to_be_visible()
    cookies = await ordering.cookies()
    [token] = [c for c in cookies if c["name"] == "santap_order_1"]
    assert token["httpOnly"] is True
    assert "santap_order_1" not in await page.evaluate("document.cookie")


async def test_an_empty_cart_is_refused_with_a_message_and_english_on_request(
    site: Site, browser: Browser
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="en-GB")
    page = await context.new_page()
    await page.goto(f"{site.url}/t/3")
    await expect(page.get_by_role("heading", name="Table 3")).to_be_visible()
    await expect(page.get_by_text("Rp35.000").first).to_be_visible()
    await page.get_by_role("button", name="Order").click()
    await expect(page.get_by_role("alert")).to_have_text("Choose at least one item.")
    await page.get_by_role("link", name="Bahasa Indonesia").click()
    await expect(page.get_by_role("heading", name="Meja 3")).to_be_visible()
    await context.close()


@pytest.mark.parametrize("settings_overrides", [CORE])
async def test_a_customer_whose_qr_expired_gets_a_fresh_one(site: Site, browser: Browser) -> None:
    simulator: Simulator = site.app.state.simulator
    context = await browser.new_context(viewport=PHONE, locale="id-ID")
    page = await context.new_page()
    await _order_at_table(page, site)
    await page.get_by_role("button", name="Bayar dengan QRIS").click()
    qr = page.get_by_role("img", name="Kode QRIS untuk pesanan 1")
    await expect(qr).to_be_visible()
    [first] = list(simulator.transactions)
    await page.evaluate("window.notReloaded = true")
    await simulator.expire_transaction(first)  # Midtrans: the QR's time is up

    await expect(page.get_by_text("Kode QR ini sudah kedaluwarsa.")).to_be_visible(timeout=10_000)
    assert await page.evaluate("window.notReloaded === true")
    await expect(qr).to_be_hidden()
    await page.screenshot(path=shot_path("customer-expired-phone"), full_page=True)
    await page.get_by_role("button", name="Minta kode QR baru").click()
    await expect(qr).to_be_visible()
    [fresh] = [uid for uid in simulator.transactions if uid != first]
    await simulator.pay(fresh)
    await expect(page.get_by_role("status")).to_have_text("Lunas", timeout=10_000)
    await context.close()


@pytest.mark.parametrize("settings_overrides", [CORE])
async def test_in_core_mode_the_qr_is_drawn_on_the_page_and_can_be_saved(
    site: Site, browser: Browser
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="id-ID", accept_downloads=True)
    page = await context.new_page()
    await _order_at_table(page, site)
    await page.get_by_role("button", name="Bayar dengan QRIS").click()
    qr = page.get_by_role("img", name="Kode QRIS untuk pesanan 1")
    await expect(qr).to_be_visible()
    assert (await qr.bounding_box() or {}).get("width", 0) >= 200  # drawn, not a stub
    async with page.expect_download() as saving:
        await page.get_by_role("link", name="Simpan QR").click()
    saved = await saving.value
    assert saved.suggested_filename == "santap-1-qris.svg"
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in (await saved.path()).read_text()
    await page.screenshot(path=shot_path("customer-qr-phone"), full_page=True)
    await context.close()


@pytest.mark.parametrize("settings_overrides", [CORE])
async def test_the_customer_pages_pass_an_accessibility_check_on_phone_and_desktop(
    site: Site, browser: Browser
) -> None:
    for viewport in (PHONE, DESKTOP):
        context = await browser.new_context(viewport=viewport, locale="id-ID")
        page = await context.new_page()
        await page.goto(f"{site.url}/t/7")
        assert await serious_violations(page) == [], "menu"
        if viewport is PHONE:
            await _order_at_table(page, site)
            await page.get_by_role("button", name="Bayar dengan QRIS").click()
            await expect(page.get_by_role("img", name="Kode QRIS untuk pesanan 1")).to_be_visible()
            assert await serious_violations(page) == [], "order"
        await context.close()


async def test_the_accessibility_check_finds_what_it_should(browser: Browser) -> None:
    page = await browser.new_page()
    await page.set_content(
        '<html lang="id"><head><title>t</title></head><body><main><input></main></body></html>'
    )
    assert [v["id"] for v in await serious_violations(page)] == ["label"]
    await page.close()


async def test_when_midtrans_fails_the_customer_is_told_in_words_and_can_pay_at_the_counter(
    site: Site, browser: Browser
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="id-ID")
    page = await context.new_page()
    await _order_at_table(page, site)
    site.app.state.simulator.faults.error_rate = 1.0  # Midtrans answers 5xx
    await page.get_by_role("button", name="Bayar dengan QRIS").click()
    await expect(page.get_by_role("alert")).to_contain_text("QRIS belum bisa dimulai:")
    await expect(page.get_by_role("status")).to_have_text("Menunggu pembayaran")
    await expect(page.get_by_role("heading", name="Bayar di kasir")).to_be_visible()
    site.app.state.simulator.faults.error_rate = 0.0
    await page.get_by_role("button", name="Bayar dengan QRIS").click()
    await expect(page.get_by_role("link", name="Buka halaman pembayaran")).to_be_visible()
    await context.close()


async def test_the_order_page_shows_no_error_text_written_into_its_link(
    site: Site, browser: Browser
) -> None:
    """A link to a customer's order is easy to send them; what it says must be Santap's."""
    context = await browser.new_context(viewport=PHONE, locale="id-ID")
    page = await context.new_page()
    await _order_at_table(page, site)
    await page.goto(f"{site.url}/o/1?error=Transfer+ke+rekening+BCA+123")
    await expect(page.get_by_role("status")).to_have_text("Menunggu pembayaran")
    await expect(page.get_by_text("rekening BCA")).to_have_count(0)
    await expect(page.get_by_role("alert")).to_have_count(0)
    await context.close()
