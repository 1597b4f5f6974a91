"""The customer's pages on a phone: bytes on the wire and time to first paint.

    .venv/bin/python bench/pages.py [--runs N]

Starts `santap serve` on a fresh SQLite file (the simulator built in), then, in Debian's
Chromium at 390x844 over Playwright, opens the table's menu (`/t/7`), places an order, and
opens the order page with a QRIS attempt (Core mode, so the QR is drawn in the page). For each
page it reports what crossed the wire (the document and everything it loaded, as the browser
received it: compressed if it was) and the browser's first-contentful-paint time, the median
of N fresh loads. The machine is local, so the times are the page's own cost (server render,
parse, style, script), not a phone network's; the bytes are what a poor connection must carry.
Then, N times, an order is paid at the simulator while its page is open: the time until the page
says *Lunas* (the issue asks for 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, Response, async_playwright

from _common import free_port, start, stop

CHROMIUM = os.environ.get("SANTAP_TEST_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"


async def measure(page: Page, url: str) -> tuple[int, float]:
    """Bytes received for ``url`` and what it loads, and its first contentful paint (ms)."""
    sizes: list[int] = []

    async def on_response(response: Response) -> None:
        try:
            sizes.append(len(await response.body()))
        except Exception:  # a redirect has no body
            sizes.append(0)

    page.on("response", on_response)
    await page.goto(url, wait_until="load")
    await page.wait_for_timeout(200)  # the script's stream request has answered its headers
    page.remove_listener("response", on_response)
    paint: Any = await page.evaluate(
        "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
    )
    return sum(sizes), float(paint or 0.0)


async def paid_latency(browser: Browser, base: str, number: int) -> float:
    """Order ``number`` on a phone, then the payer pays at the simulator: ms until the phone's
    order page (open, not reloaded) says it is paid."""
    context = await browser.new_context(viewport=PHONE, locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{base}/t/7")
    await page.get_by_label("Es Teh Manis", exact=True).fill("1")
    await page.get_by_role("button", name="Pesan").click()
    await page.get_by_role("button", name="Bayar dengan QRIS").click()
    await page.get_by_role("img", name=f"Kode QRIS untuk pesanan {number}").wait_for()
    cookies = await context.cookies()
    token = next(c["value"] for c in cookies if c["name"].startswith("santap_order"))
    async with httpx.AsyncClient(base_url=base) as http:
        order = await http.get(f"/api/v1/orders/{number}", headers={"X-Order-Token": token})
        uid = order.json()["payments"][-1]["order_uid"]
        started = time.perf_counter()
        await http.post(f"/_simulator/pay/{uid}/pay")
    await page.wait_for_function("document.getElementById('status').dataset.status === 'paid'")
    elapsed = (time.perf_counter() - started) * 1000
    await context.close()
    return elapsed


async def run(base: str, runs: int) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        setup = await browser.new_context(viewport=PHONE, locale="id-ID")
        page = await setup.new_page()
        await page.goto(f"{base}/t/7")
        await page.get_by_label("Nasi Goreng Spesial", exact=True).fill("2")
        await page.get_by_role("button", name="Pesan").click()
        await page.get_by_role("button", name="Bayar dengan QRIS").click()
        await page.get_by_role("img", name="Kode QRIS untuk pesanan 1").wait_for()
        cookies = await setup.cookies()
        results: dict[str, list[tuple[int, float]]] = {"/t/7": [], "/o/1": []}
        for _ in range(runs):
            for path in results:
                context = await browser.new_context(viewport=PHONE, locale="id-ID")
                await context.add_cookies(cookies)  # type: ignore[arg-type]
                fresh = await context.new_page()
                results[path].append(await measure(fresh, base + path))
                await context.close()
        paid = [await paid_latency(browser, base, number) for number in range(2, 2 + runs)]
        await browser.close()
    print(f"\nphone viewport 390x844, Chromium headless, local server; median of {runs} loads")
    print(f"{'page':<34}{'KB on the wire':>16}{'first paint ms':>16}")
    names = {"/t/7": "menu (/t/7)", "/o/1": "order with its QR (/o/1)"}
    for path, samples in results.items():
        kb = statistics.median(size for size, _ in samples) / 1024
        paint = statistics.median(p for _, p in samples)
        print(f"{names[path]:<34}{kb:>16.1f}{paint:>16.0f}")
    print(
        "payer pays -> the open order page says Lunas: "
        f"median {statistics.median(paid):.0f} ms, max {max(paid):.0f} ms over {runs} orders"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="santap-pages-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANTAP_", "MIDTRANS_"))}
    env |= {
        "DATABASE_URL": f"sqlite:///{workdir / 'pages.db'}",
        "MIDTRANS_QRIS_MODE": "core",
        "SANTAP_LOG_LEVEL": "WARNING",
        "SANTAP_SECRET_KEY": "bench-signing-key-not-secret-0123456789abcdef",
    }
    command = [str(BIN / "santap"), "serve", "--port", str(port)]
    server = start(command, f"http://127.0.0.1:{port}/health", env=env)
    try:
        asyncio.run(run(f"http://127.0.0.1:{port}", args.runs))
    finally:
        stop(server)


if __name__ == "__main__":
    main()
