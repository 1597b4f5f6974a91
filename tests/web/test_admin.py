"""The owner's menu page, in a real browser; a cashier is kept out of it."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from santap.models import StaffRole
from tests.fixtures.staff import PASSWORD, create_staff
from tests.web.a11y import serious_violations
from tests.web.conftest import DESKTOP, PHONE, Site, shot_path


async def _log_in(site: Site, browser: Browser, username: str, role: StaffRole) -> Page:
    await create_staff(site.app.state.sessionmaker, username=username, role=role)
    context = await browser.new_context(viewport=DESKTOP, locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{site.url}/admin/menu")
    await expect(page).to_have_url(f"{site.url}/staff/login?next=/admin/menu")
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()
    return page


async def test_a_cashier_cannot_open_the_owners_pages(site: Site, browser: Browser) -> None:
    page = await _log_in(site, browser, "kasir", StaffRole.CASHIER)
    await expect(page.get_by_role("heading", name="Khusus pemilik")).to_be_visible()
    answer = await page.goto(f"{site.url}/admin/menu")
    assert answer is not None
    assert answer.status == 403
    refused = await page.context.request.post(
        f"{site.url}/admin/menu/items/1", form={"is_available": "false"}
    )
    assert refused.status == 403


async def test_the_owner_marks_an_item_sold_out_and_adds_one_and_customers_see_both(
    site: Site, browser: Browser
) -> None:
    owner = await _log_in(site, browser, "pemilik", StaffRole.ADMIN)
    await expect(owner.get_by_role("heading", name="Menu", exact=True)).to_be_visible()
    assert await serious_violations(owner) == []
    await owner.get_by_role("button", name="Tandai Es Jeruk habis").click()
    await expect(owner.get_by_role("status")).to_have_text("Tersimpan: Es Jeruk")
    await owner.get_by_label("Kategori", exact=True).select_option(label="Makanan")
    await owner.get_by_label("Nama", exact=True).fill("Soto Ayam")
    await owner.get_by_label("Harga (rupiah)").fill("28.000")
    await owner.get_by_role("button", name="Tambahkan ke menu").click()
    await expect(owner.get_by_role("status")).to_have_text("Tersimpan: Soto Ayam")
    await owner.screenshot(path=shot_path("admin-menu-desktop"), full_page=True)

    phone = await browser.new_context(viewport=PHONE, locale="id-ID")
    customer = await phone.new_page()
    await customer.goto(f"{site.url}/t/2")
    await expect(customer.get_by_label("Es Jeruk", exact=True)).to_be_disabled()
    await expect(customer.get_by_label("Soto Ayam", exact=True)).to_be_enabled()
    await expect(customer.get_by_text("Rp28.000")).to_be_visible()


async def test_the_owner_edits_an_item_and_retires_another_which_leaves_the_customers_menu(
    site: Site, browser: Browser
) -> None:
    owner = await _log_in(site, browser, "pemilik", StaffRole.ADMIN)
    await owner.get_by_text("Ubah Mie Ayam").click()
    await owner.get_by_label("Nama Mie Ayam").fill("Mie Ayam Bakso")
    await owner.get_by_label("Harga Mie Ayam (rupiah)").fill("27.000")
    await owner.get_by_label("Deskripsi Mie Ayam").fill("Mie ayam dengan bakso sapi")
    await owner.get_by_role("button", name="Simpan Mie Ayam").click()
    await expect(owner.get_by_role("status")).to_have_text("Tersimpan: Mie Ayam Bakso")
    await owner.get_by_text("Ubah Gado-Gado").click()
    await owner.get_by_role("button", name="Arsipkan Gado-Gado").click()
    await expect(owner.get_by_role("status")).to_have_text("Tersimpan: Gado-Gado")
    retired = owner.get_by_role("region", name="Item yang diarsipkan")
    await expect(retired.get_by_role("article", name="Gado-Gado")).to_be_visible()
    assert await serious_violations(owner) == []

    phone = await browser.new_context(viewport=PHONE, locale="id-ID")
    customer = await phone.new_page()
    await customer.goto(f"{site.url}/t/3")
    await expect(customer.get_by_label("Mie Ayam Bakso", exact=True)).to_be_enabled()
    await expect(customer.get_by_text("Rp27.000")).to_be_visible()
    await expect(customer.get_by_text("Mie ayam dengan bakso sapi")).to_be_visible()
    await expect(customer.get_by_text("Gado-Gado")).to_have_count(0)  # gone, not "sold out"

    await retired.get_by_role("button", name="Kembalikan Gado-Gado ke menu").click()
    await expect(owner.get_by_role("region", name="Item yang diarsipkan")).to_have_count(0)
    await customer.reload()
    await expect(customer.get_by_label("Gado-Gado", exact=True)).to_be_enabled()


@pytest.mark.parametrize("settings_overrides", [{"SANTAP_TABLES": 6}])
async def test_the_owner_prints_one_qr_card_per_table_that_opens_its_menu(
    site: Site, browser: Browser
) -> None:
    owner = await _log_in(site, browser, "pemilik", StaffRole.ADMIN)
    await owner.goto(f"{site.url}/admin/tables")
    cards = owner.get_by_role("figure")
    await expect(cards).to_have_count(6)
    for table in range(1, 7):
        card = owner.get_by_role("figure", name=f"Meja {table}")
        await expect(card.get_by_text(f"{site.url}/t/{table}", exact=True)).to_be_visible()
        await expect(card.get_by_role("img", name=f"Kode QR untuk meja {table}")).to_be_visible()
    assert await serious_violations(owner) == []
    await owner.emulate_media(media="print")
    await owner.screenshot(path=shot_path("admin-tables-print"), full_page=True)
    await expect(owner.get_by_role("button", name="Cetak")).to_be_hidden()  # not on paper
    await owner.goto(f"{site.url}/t/6")  # what card 6 opens
    await expect(owner.get_by_role("heading", name="Meja 6")).to_be_visible()


async def test_the_audit_log_shows_who_did_what_and_filters_by_action(
    site: Site, browser: Browser
) -> None:
    owner = await _log_in(site, browser, "pemilik", StaffRole.ADMIN)
    await owner.get_by_role("button", name="Tandai Kopi Susu habis").click()
    await owner.get_by_role("link", name="Log audit").click()
    rows = owner.get_by_role("row")
    await expect(rows.filter(has_text="menu_item.update")).to_have_count(1)
    await expect(rows.filter(has_text="auth.login")).to_have_count(1)
    assert await serious_violations(owner) == []
    await owner.get_by_label("Tindakan").fill("menu_item.update")
    await owner.get_by_role("button", name="Saring").click()
    await expect(rows.filter(has_text="pemilik")).to_have_count(1)
    await expect(rows.filter(has_text="auth.login")).to_have_count(0)
