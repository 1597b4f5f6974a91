"""Throughput and latency of MidtransClient vs the official midtransclient, against the simulator.

    .venv/bin/python bench/gateway.py [--requests N] [--quick] [--max-connections N]

The simulator runs under uvicorn in a subprocess (its own core and GIL); the clients run here.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import midtransclient

from _common import free_port, run_loop, start_simulator, stop
from santap.gateways.midtrans import (
    ItemDetail,
    MidtransClient,
    QrisChargeRequest,
    SnapTransactionRequest,
)

SERVER_KEY = "SB-Mid-server-bench"
CONCURRENCY = (1, 16, 64)
ITEM = ItemDetail(id="A", name="Nasi goreng", price=10000, quantity=1)
STATUS_ORDERS = 64  # Core charges queried round-robin by the status benchmark


@dataclass
class Cell:
    op: str
    concurrency: int
    client: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


def snap_body(order_id: str) -> dict[str, object]:
    return {
        "transaction_details": {"order_id": order_id, "gross_amount": 10000},
        "item_details": [{"id": "A", "name": "Nasi goreng", "price": 10000, "quantity": 1}],
        "enabled_payments": ["other_qris"],
        "expiry": {"unit": "minute", "duration": 15},
    }


async def run_async(
    op: str, concurrency: int, total: int, call: Callable[[int], Awaitable[object]]
) -> Cell:
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while (n := next(counter)) < total:
            started = time.perf_counter()
            try:
                await call(n)
            except Exception:
                errors += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Cell(op, concurrency, "santap", total, time.perf_counter() - started, latencies, errors)


def run_threads(op: str, concurrency: int, total: int, call: Callable[[int], object]) -> Cell:
    def timed(n: int) -> tuple[float, bool]:
        started = time.perf_counter()
        try:
            call(n)
            ok = True
        except Exception:
            ok = False
        return time.perf_counter() - started, ok

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(timed, range(total)))
    seconds = time.perf_counter() - started
    errors = sum(1 for _, ok in results if not ok)
    latencies = [latency for latency, _ in results]
    return Cell(op, concurrency, "midtransclient", total, seconds, latencies, errors)


async def bench_santap(
    base: str, total: int, status_ids: list[str], max_connections: int
) -> list[Cell]:
    cells = []
    async with MidtransClient(
        server_key=SERVER_KEY,
        snap_base_url=base,
        core_base_url=base,
        max_connections=max_connections,
    ) as client:
        for concurrency in CONCURRENCY:

            async def create(n: int, c: int = concurrency) -> object:
                request = SnapTransactionRequest(
                    order_id=f"S-{c}-{n}",
                    gross_amount=10000,
                    item_details=[ITEM],
                )
                return await client.create_snap_transaction(request)

            async def status(n: int) -> object:
                return await client.get_status(status_ids[n % len(status_ids)])

            cells.append(await run_async("create", concurrency, total, create))
            cells.append(await run_async("status", concurrency, total, status))
    return cells


def bench_official(base: str, total: int, status_ids: list[str]) -> list[Cell]:
    snap = midtransclient.Snap(is_production=False, server_key=SERVER_KEY)
    core = midtransclient.CoreApi(is_production=False, server_key=SERVER_KEY)
    # ApiConfig picks URLs from class constants by is_production; point them at the simulator.
    snap.api_config.SNAP_SANDBOX_BASE_URL = f"{base}/snap/v1"
    core.api_config.CORE_SANDBOX_BASE_URL = base
    cells = []
    for concurrency in CONCURRENCY:

        def create(n: int, c: int = concurrency) -> object:
            return snap.create_transaction(snap_body(f"M-{c}-{n}"))

        def status(n: int) -> object:
            return core.transactions.status(status_ids[n % len(status_ids)])

        cells.append(run_threads("create", concurrency, total, create))
        cells.append(run_threads("status", concurrency, total, status))
    return cells


async def prepare_status_orders(base: str) -> list[str]:
    async with MidtransClient(
        server_key=SERVER_KEY, snap_base_url=base, core_base_url=base
    ) as client:
        ids = [f"Q-{n}" for n in range(STATUS_ORDERS)]
        for order_id in ids:
            await client.charge_qris(QrisChargeRequest(order_id=order_id, gross_amount=10000))
    return ids


def print_table(cells: list[Cell]) -> None:
    print(
        f"{'op':<7}{'conc':>5}  {'client':<15}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    )
    for cell in sorted(cells, key=lambda c: (c.op, c.concurrency, c.client != "santap")):
        print(
            f"{cell.op:<7}{cell.concurrency:>5}  {cell.client:<15}{cell.rps:>9.0f}"
            f"{cell.percentile(50):>9.2f}{cell.percentile(99):>9.2f}{cell.errors:>8}"
        )
    by_key = {(c.op, c.concurrency, c.client): c for c in cells}
    top = CONCURRENCY[-1]
    for op in ("create", "status"):
        ratio = by_key[(op, top, "santap")].rps / by_key[(op, top, "midtransclient")].rps
        print(f"{op} req/s ratio santap/midtransclient at concurrency {top}: {ratio:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per table cell")
    parser.add_argument("--quick", action="store_true", help="200 requests per cell")
    parser.add_argument(
        "--max-connections", type=int, default=16, help="MidtransClient's pool (default 16)"
    )
    args = parser.parse_args()
    total = 200 if args.quick else args.requests
    port = free_port()
    process = start_simulator(port, SERVER_KEY)
    base = f"http://127.0.0.1:{port}"
    try:
        status_ids = asyncio.run(prepare_status_orders(base))
        started = time.perf_counter()
        # uvloop when installed: it is the loop uvicorn gives the app in production.
        cells = run_loop(bench_santap(base, total, status_ids, args.max_connections))
        cells += bench_official(base, total, status_ids)
        elapsed = time.perf_counter() - started
    finally:
        stop(process)
    print(
        f"{total} requests per cell, simulator on {base}, {elapsed:.0f} s in total, "
        f"MidtransClient max_connections={args.max_connections}"
    )
    print_table(cells)


if __name__ == "__main__":
    main()
