"""The cashier's and kitchen's console, in a real browser, next to a customer's phone."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, Page, expect

from santap.models import StaffRole
from santap.simulator import Simulator
from tests.fixtures.staff import PASSWORD, create_staff
from tests.web.a11y import serious_violations
from tests.web.conftest import DESKTOP, PHONE, Site, shot_path


async def _cashier(site: Site, browser: Browser) -> tuple[BrowserContext, Page]:
    await create_staff(site.app.state.sessionmaker, username="kasir", role=StaffRole.CASHIER)
    context = await browser.new_context(viewport=DESKTOP, locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{site.url}/staff")
    await expect(page).to_have_url(f"{site.url}/staff/login?next=/staff")
    await expect(page.get_by_role("heading", name="Masuk staf")).to_be_visible()
    await page.get_by_label("Nama pengguna").fill("kasir")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()
    await expect(page.get_by_role("heading", name="Pesanan", exact=True)).to_be_visible()
    return context, page


async def _customer_orders(site: Site, browser: Browser, quantity: str = "1") -> Page:
    phone = await browser.new_context(viewport=PHONE, locale="id-ID")
    page = await phone.new_page()
    await page.goto(f"{site.url}/t/4")
    await page.get_by_label("Nasi Goreng Spesial", exact=True).fill(quantity)
    await page.get_by_role("button", name="Pesan").click()
    await expect(page.get_by_role("status")).to_have_text("Menunggu pembayaran")
    return page


async def test_a_paid_order_arrives_on_the_board_and_the_kitchen_readies_it_for_the_customer(
    site: Site, browser: Browser
) -> None:
    _, board = await _cashier(site, browser)
    customer = await _customer_orders(site, browser)
    ticket = board.get_by_role("article", name="Pesanan 1")
    await expect(ticket).to_be_visible()  # arrived live, as the customer placed it
    await customer.get_by_role("button", name="Bayar dengan QRIS").click()
    async with customer.expect_popup() as opened:
        await customer.get_by_role("link", name="Buka halaman pembayaran").click()
    await (await opened.value).get_by_role("button", name="Pay").click()

    paid = board.get_by_role("region", name="Lunas (1)")
    await expect(paid.get_by_role("article", name="Pesanan 1")).to_be_visible(timeout=10_000)
    await expect(ticket).to_have_class("ticket fresh")
    await board.screenshot(path=shot_path("console-board-desktop"), full_page=True)
    assert await serious_violations(board) == []
    await board.get_by_role("button", name="Mulai #1").click()
    await expect(board.get_by_role("status")).to_have_text("Pesanan 1 dipindahkan.")
    await board.get_by_role("button", name="Siap #1").click()
    await expect(customer.get_by_role("status")).to_have_text("Siap diambil", timeout=10_000)


async def test_the_cashier_takes_cash_sees_the_change_and_a_short_tender_is_refused(
    site: Site, browser: Browser
) -> None:
    _, board = await _cashier(site, browser)
    await _customer_orders(site, browser, quantity="2")  # Rp70.000
    tender = board.get_by_label("Uang diterima untuk pesanan 1")
    await expect(tender).to_be_visible(timeout=10_000)
    await tender.fill("50000")
    await expect(board.get_by_text("Kurang Rp20.000")).to_be_visible()
    await board.get_by_role("button", name="Terima tunai").click()
    await expect(board.get_by_role("alert")).to_contain_text("Pesanan 1:")
    await board.get_by_label("Uang diterima untuk pesanan 1").fill("")
    await board.get_by_role("button", name="100.000").click()
    await expect(board.get_by_text("Kembalian: Rp30.000")).to_be_visible()
    await board.get_by_role("button", name="Terima tunai").click()
    await expect(board.get_by_role("status")).to_have_text(
        "Pesanan 1 lunas tunai. Kembalian: Rp30.000"
    )
    paid = board.get_by_role("region", name="Lunas (1)")
    await expect(paid.get_by_role("article", name="Pesanan 1")).to_be_visible()


async def test_a_form_post_without_the_csrf_token_is_refused(site: Site, browser: Browser) -> None:
    context, board = await _cashier(site, browser)
    await _customer_orders(site, browser)
    refused = await context.request.post(
        f"{site.url}/staff/orders/1/cash", form={"amount_tendered": "35000"}
    )
    assert refused.status == 403
    forged = await context.request.post(
        f"{site.url}/staff/orders/1/cash", form={"amount_tendered": "35000", "csrf": "0" * 64}
    )
    assert forged.status == 403
    await board.reload()
    await expect(board.get_by_role("region", name="Menunggu pembayaran (1)")).to_be_visible()


async def test_the_kitchen_view_shows_paid_orders_and_moves_them(
    site: Site, browser: Browser
) -> None:
    _, board = await _cashier(site, browser)
    await _customer_orders(site, browser)
    await board.get_by_label("Uang diterima untuk pesanan 1").fill("35000")
    await board.get_by_role("button", name="Terima tunai").click()
    await board.get_by_role("link", name="Dapur").click()
    await expect(board.get_by_role("heading", name="Dapur", exact=True)).to_be_visible()
    paid = board.get_by_role("region", name="Lunas (1)")
    await expect(paid.get_by_text("1 × Nasi Goreng Spesial")).to_be_visible()
    await board.screenshot(path=shot_path("console-kitchen-desktop"), full_page=True)
    await board.get_by_role("button", name="Mulai #1").click()
    await expect(board).to_have_url(f"{site.url}/staff/kitchen?notice=moved&order=1")
    preparing = board.get_by_role("region", name="Sedang disiapkan (1)")
    await expect(preparing.get_by_role("button", name="Siap #1")).to_be_visible()
    assert await serious_violations(board) == []


async def test_the_cashier_cancels_an_unpaid_order_with_a_reason_and_the_customer_sees_it(
    site: Site, browser: Browser
) -> None:
    _, board = await _cashier(site, browser)
    customer = await _customer_orders(site, browser)
    await board.get_by_text("Batalkan pesanan 1").click()
    await board.get_by_label("Alasan").fill("pelanggan pergi")
    await board.get_by_role("button", name="Batalkan pesanan", exact=True).click()
    await expect(board.get_by_role("status")).to_have_text("Pesanan 1 dibatalkan.")
    await expect(customer.get_by_role("status")).to_have_text("Dibatalkan", timeout=10_000)


async def test_a_counter_qris_shows_on_the_customer_display_and_turns_paid_live(
    site: Site, browser: Browser
) -> None:
    simulator: Simulator = site.app.state.simulator
    context, board = await _cashier(site, browser)
    await _customer_orders(site, browser)  # chose "Bayar di kasir"
    start = board.get_by_role("button", name="QRIS pesanan 1 di layar pelanggan")
    async with context.expect_page() as opened:
        await start.click()
    display = await opened.value
    await expect(display.get_by_role("heading", name="Pesanan 1")).to_be_visible()
    qr = display.get_by_role("img", name="Kode QRIS untuk pesanan 1")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("e => e.getBoundingClientRect().width") >= 200  # drawn, not a stub
    await expect(display.get_by_role("status")).to_have_text("Menunggu pembayaran")
    await display.screenshot(path=shot_path("console-display-desktop"), full_page=True)
    assert await serious_violations(display) == []

    await display.evaluate("window.notReloaded = true")
    [uid] = list(simulator.transactions)
    await simulator.pay(uid)
    await expect(display.get_by_role("status")).to_have_text("Lunas", timeout=10_000)
    await expect(display.get_by_text("Terima kasih!")).to_be_visible()
    assert await display.evaluate("window.notReloaded === true")  # live, not reloaded
    await expect(qr).to_be_hidden()


async def test_the_display_says_in_words_when_qris_cannot_start(
    site: Site, browser: Browser
) -> None:
    simulator: Simulator = site.app.state.simulator
    context, board = await _cashier(site, browser)
    await _customer_orders(site, browser)
    start = board.get_by_role("button", name="QRIS pesanan 1 di layar pelanggan")
    simulator.faults.error_rate = 1.0  # Midtrans answers 5xx
    async with context.expect_page() as opened:
        await start.click()
    display = await opened.value
    await expect(display.get_by_role("alert")).to_contain_text("QRIS belum bisa dimulai:")
    await expect(display.get_by_role("alert")).to_contain_text("bayar tunai di kasir")

    simulator.faults.error_rate = 0.0
    await start.click()  # the same window turned to the customer, not a new one
    await expect(display.get_by_role("img", name="Kode QRIS untuk pesanan 1")).to_be_visible()
    await expect(display.get_by_role("alert")).to_be_hidden()
    assert len(context.pages) == 2
