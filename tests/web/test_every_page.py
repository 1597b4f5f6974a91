"""Every screen at a small phone's width and at a desktop's: it loads, nothing runs off the
side, axe-core finds no serious or critical violation, and its screenshot is written."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from santap.models import StaffRole
from tests.web.a11y import serious_violations
from tests.web.conftest import DESKTOP, Site, shot_path
from tests.web.test_admin import _log_in
from tests.web.test_money import _paid_twice

SMALL_PHONE = {"width": 360, "height": 740}
PAGES = {
    "customer-menu": "/t/7",
    "customer-order": "/o/2",
    "staff-login": "/staff/login",
    "console-board": "/staff",
    "console-kitchen": "/staff/kitchen",
    "console-display": "/staff/display?order=2",
    "console-display-idle": "/staff/display",
    "admin-menu": "/admin/menu",
    "admin-payments": "/admin/payments",
    "admin-report": "/admin/report",
    "admin-audit": "/admin/audit",
    "admin-tables": "/admin/tables",
}


async def test_every_page_fits_a_phone_and_a_desktop_and_passes_the_accessibility_check(
    site: Site, browser: Browser
) -> None:
    await _paid_twice(site)  # order 1: something in the payments, report and kitchen pages
    owner = await _log_in(site, browser, "pemilik", StaffRole.ADMIN)
    await owner.goto(f"{site.url}/t/7")
    await owner.get_by_label("Es Teh Manis", exact=True).fill("2")
    await owner.get_by_role("button", name="Pesan").click()  # order 2, this browser's
    await owner.get_by_role("button", name="Bayar dengan QRIS").click()
    await expect(owner.get_by_role("link", name="Buka halaman pembayaran")).to_be_visible()
    for name, path in PAGES.items():
        for size, viewport in (("phone", SMALL_PHONE), ("desktop", DESKTOP)):
            await owner.set_viewport_size(viewport)
            answer = await owner.goto(f"{site.url}{path}")
            assert answer is not None
            assert answer.status == 200, (path, answer.status)
            assert await owner.evaluate("document.documentElement.scrollWidth <= innerWidth"), (
                f"{path} runs off the side at {viewport['width']} px"
            )
            assert await serious_violations(owner) == [], (path, size)
            await owner.screenshot(path=shot_path(f"page-{name}-{size}"), full_page=True)
