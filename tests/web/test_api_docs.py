"""/docs on a shop network without internet: the browser may reach this machine only, and
Swagger UI still lists the API."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.async_api import Browser, Request, Route, expect

from tests.web.conftest import DESKTOP, Site, shot_path


async def test_the_api_docs_list_the_operations_with_every_other_host_blocked(
    site: Site, browser: Browser
) -> None:
    context = await browser.new_context(viewport=DESKTOP)
    requested: list[str] = []
    blocked: list[str] = []

    async def only_this_machine(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    def seen(request: Request) -> None:
        requested.append(request.url)

    await context.route("**/*", only_this_machine)
    context.on("request", seen)
    page = await context.new_page()
    await page.goto(f"{site.url}/docs")

    await expect(page.get_by_role("heading", name="Santap")).to_be_visible()
    # The operation's row, not those of /api/v1/orders/{order_id}/... (Playwright wants the
    # slashes escaped).
    create_order = page.get_by_role("button", name=re.compile(r"^POST\s*\/api\/v1\/orders(\s|$)"))
    await expect(create_order).to_be_visible()
    await create_order.click()
    await expect(page.get_by_role("button", name="Try it out")).to_be_visible()
    await page.screenshot(path=shot_path("api-docs-desktop"))
    await context.close()

    assert blocked == []
    assert requested, "the browser made no request at all"
    elsewhere = [url for url in requested if urlsplit(url).hostname != "127.0.0.1"]
    assert elsewhere == [], f"requests left the machine: {elsewhere}"
