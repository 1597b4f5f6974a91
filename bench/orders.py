"""Order + QRIS creation through the whole stack vs a bare FastAPI route, with 1, 2 and 4 workers.

    .venv/bin/python bench/orders.py [--flows N] [--workers 1 2 4] [--quick]

Starts a fresh PostgreSQL database (santap_bench) and the standalone simulator, then for each
worker count `santap serve --workers W` (Core-mode QRIS, log level warning) and the bare
baseline under `uvicorn --workers W`. 32 senders each repeat one customer's path: POST
/api/v1/orders, then POST /api/v1/payments/qris for it (a Core charge at the simulator). The
baseline flow is two POSTs to a route returning {}. Throughput is in flows (2 requests) per s.
Round trips per flow are counted on a separate, smaller run through a proxy between Santap
and PostgreSQL that reads the wire protocol (bench/_roundtrips.py).
"""

from __future__ import annotations

import argparse
import time
from subprocess import Popen

from _common import (
    SERVER_KEY,
    Call,
    Connection,
    CpuMeter,
    Result,
    bare_caller,
    free_port,
    menu_item,
    metered,
    order_flow,
    postgres_backends,
    prepare_database,
    print_table,
    run_load,
    run_loop,
    santap_env,
    self_pids,
    start_bare,
    start_santap,
    start_simulator,
    stop,
    tree,
    verdict,
)
from _roundtrips import RoundTripProxy, through

DATABASE = "santap_bench"
CONCURRENCY = 32
BARE_FLOWS = 4000
CELL_SECONDS = 20.0  # a cell ends after --flows flows or this long, whichever comes first
TARGET_RATIO = 0.12  # one worker, against the bare route's two POSTs
COUNTED_FLOWS = 200


def bare_flow() -> Call:
    bare = bare_caller(b'{"items": [{"menu_item_id": 1, "quantity": 2}]}')

    async def call(connection: Connection, n: int) -> str:
        await bare(connection, n)
        return await bare(connection, n)

    return call


async def measure(
    santap_port: int, bare_port: int, item_id: int, flows: int, workers: int, meter: CpuMeter
) -> list[Result]:
    await run_load("warm", bare_port, CONCURRENCY, 500, bare_flow())
    await run_load("warm", santap_port, CONCURRENCY, 100, order_flow(item_id))
    bare = await metered(
        meter, run_load(f"bare, {workers}w", bare_port, CONCURRENCY, BARE_FLOWS, bare_flow())
    )
    flow = order_flow(item_id)
    santap = await metered(
        meter,
        run_load(
            f"order+QRIS, {workers}w", santap_port, CONCURRENCY, flows, flow, seconds=CELL_SECONDS
        ),
    )
    return [bare, santap]


def run_workers(
    database_url: str, simulator: Popen[bytes], sim_port: int, workers: int, flows: int
) -> list[Result]:
    santap_port, bare_port = free_port(), free_port()
    env = santap_env(database_url, sim_port)
    processes = [
        start_santap(santap_port, env, workers=workers),
        start_bare(bare_port, workers=workers),
    ]
    try:
        meter = CpuMeter(
            {
                "santap": tree(processes[0]),
                "bare": tree(processes[1]),
                "simulator": tree(simulator),
                "postgres": postgres_backends(DATABASE),
                "load": self_pids,
            }
        )
        return run_loop(
            measure(santap_port, bare_port, menu_item(santap_port), flows, workers, meter)
        )
    finally:
        for process in processes:
            stop(process)


def count_round_trips(database_url: str, sim_port: int) -> float:
    """Database round trips per order + QRIS flow, one worker, applier and all."""
    proxy = RoundTripProxy().start()
    port = free_port()
    server = start_santap(port, santap_env(through(proxy, database_url), sim_port))
    try:
        item_id = menu_item(port)
        proxy.reset()
        result = run_loop(run_load("count", port, 8, COUNTED_FLOWS, order_flow(item_id)))
        if result.errors:
            raise RuntimeError(f"counting round trips: {result.labels}")
        return proxy.counts.round_trips / result.requests
    finally:
        stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--flows", type=int, default=3000, help="order+QRIS flows per cell (at most 20 s)"
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--quick", action="store_true", help="200 flows, 1 worker")
    args = parser.parse_args()
    flows, worker_counts = (200, [1]) if args.quick else (args.flows, args.workers)
    database_url = prepare_database(DATABASE)
    sim_port = free_port()
    simulator = start_simulator(sim_port, SERVER_KEY)
    results: list[Result] = []
    started = time.perf_counter()
    try:
        for workers in worker_counts:
            results += run_workers(database_url, simulator, sim_port, workers, flows)
        trips = count_round_trips(database_url, sim_port)
    finally:
        stop(simulator)
    print(
        f"\n{CONCURRENCY} concurrent senders, keep-alive HTTP/1.1, "
        f"{time.perf_counter() - started:.0f} s in total; 1 flow = 2 requests"
    )
    print_table(results, unit="flows/s")
    for bare, santap in zip(results[::2], results[1::2], strict=True):
        print(f"{santap.name}: {santap.rate / bare.rate:.2f}x the bare route ({bare.name})")
    ratio = results[1].rate / results[0].rate
    print(f"one worker: target >= {TARGET_RATIO}x: {verdict(ratio >= TARGET_RATIO)}")
    print(f"database round trips per flow (order + QRIS, counted on the wire): {trips:.1f}")
    one = results[1].rate
    for santap in results[3::2]:
        print(f"{santap.name}: {santap.rate / one:.2f}x the 1-worker order+QRIS throughput")


if __name__ == "__main__":
    main()
