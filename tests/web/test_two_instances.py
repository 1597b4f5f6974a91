"""Two instances behind one address, as in production: the customer's page is served by B
while Midtrans' notification lands on A. B hears of it over PostgreSQL's LISTEN/NOTIFY."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from santap.simulator import Simulator
from tests.fixtures.database import another_instance
from tests.fixtures.live import serving
from tests.web.conftest import PHONE, Site
from tests.web.test_customer import _order_at_table

pytestmark = pytest.mark.postgresql_only


async def test_the_customers_page_on_b_turns_paid_when_the_notification_lands_on_a(
    site: Site, browser: Browser
) -> None:
    simulator: Simulator = site.app.state.simulator  # A's: it notifies A
    settings = site.app.state.settings
    # B applies no notification itself, so what its page shows was applied by A.
    async with (
        another_instance(settings, SANTAP_APPLIER=False) as other,
        serving(other) as b_url,
    ):
        context = await browser.new_context(viewport=PHONE, locale="id-ID")
        page = await context.new_page()
        await _order_at_table(page, site)
        await page.get_by_role("button", name="Bayar dengan QRIS").click()
        await expect(page.get_by_role("link", name="Buka halaman pembayaran")).to_be_visible()
        await page.goto(f"{b_url}/o/1")  # the order's cookie is the host's: it opens on B too
        await expect(page.get_by_role("status")).to_have_text("Menunggu pembayaran")
        await page.evaluate("window.notReloaded = true")

        [uid] = list(simulator.transactions)
        await simulator.pay(uid)
        await expect(page.get_by_role("status")).to_have_text("Lunas", timeout=10_000)
        assert await page.evaluate("window.notReloaded === true")
        assert page.url == f"{b_url}/o/1"
        await context.close()
