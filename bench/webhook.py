"""Midtrans notifications through the whole stack vs a bare FastAPI route, in one run.

    .venv/bin/python bench/webhook.py [--orders N] [--quick]

Starts, on this machine: a fresh PostgreSQL database (santap_bench), the standalone simulator
and `santap serve` (uvicorn, one worker, MIDTRANS_VERIFY_STATUS=true). Creates N orders with a
Core-mode QRIS attempt each through the API and pays them at the simulator, whose own
notifications are dropped. Then 32 senders POST each order's signed settlement notification
once ("first": signature, inbox insert, status check at the simulator, row locks, state
machine, commit), then all of them again ("duplicate": signature, inbox upsert, 2xx no-op).
The baseline is a FastAPI POST route returning {} under `uvicorn --workers 1 --log-level
warning`, fed the same bodies by the same senders. A second baseline, the "floor"
(`bench/_floor.py`), does the least any correct webhook must: signature, one status request
at the simulator through Santap's client, one autocommitted INSERT; it shows how much of the
gap to the bare route no webhook implementation in this stack can close.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import time
from typing import Any

from _common import (
    JSON,
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
    start,
    start_bare,
    start_santap,
    start_simulator,
    stop,
    tree,
    verdict,
)
from santap.gateways.midtrans import compute_signature

DATABASE = "santap_bench"
CONCURRENCY = 32
SETUP_CONCURRENCY = 16
WEBHOOK = "/api/v1/webhooks/midtrans"
TARGET_RATIO = 0.5
TARGET_P99_MS = 50.0


async def create_orders(port: int, item_id: int, count: int) -> list[str]:
    created: list[dict[str, Any]] = []
    result = await run_load("setup", port, SETUP_CONCURRENCY, count, order_flow(item_id, created))
    if result.errors:
        raise RuntimeError(f"creating orders failed: {result.labels}")
    return [payment["order_uid"] for payment in created]


async def pay_and_fetch(port: int, order_uids: list[str]) -> list[bytes]:
    """Pay every attempt at the simulator; return each one's settlement notification body."""
    auth = "Basic " + base64.b64encode(f"{SERVER_KEY}:".encode()).decode()
    bodies: dict[int, bytes] = {}

    async def pay(connection: Connection, n: int) -> str:
        uid = order_uids[n]
        status, raw = await connection.request("POST", f"/pay/{uid}/pay")
        if status != 303:
            raise RuntimeError(f"pay: {status}")
        status, raw = await connection.request(
            "GET", f"/v2/{uid}/status", headers=f"Authorization: {auth}\r\n"
        )
        answer = json.loads(raw)
        if answer.get("transaction_status") != "settlement":
            raise RuntimeError(f"status: {status} {raw[:100]!r}")
        bodies[n] = notification(answer)
        return "paid"

    result = await run_load("pay", port, SETUP_CONCURRENCY, len(order_uids), pay)
    if result.errors:
        raise RuntimeError(f"paying at the simulator failed: {result.labels}")
    return [bodies[n] for n in range(len(order_uids))]


def notification(status_answer: dict[str, Any]) -> bytes:
    """What Midtrans would POST: the status fields, signed with the server key."""
    body = {**status_answer, "status_message": "midtrans payment notification"}
    body["signature_key"] = compute_signature(
        body["order_id"], body["status_code"], body["gross_amount"], SERVER_KEY
    )
    return json.dumps(body).encode()


def webhook_caller(bodies: list[bytes]) -> Call:
    async def call(connection: Connection, n: int) -> str:
        status, raw = await connection.request("POST", WEBHOOK, bodies[n % len(bodies)], JSON)
        if status != 200:
            raise RuntimeError(f"webhook answered {status}: {raw[:100]!r}")
        return str(json.loads(raw)["status"])

    return call


def floor_caller(bodies: list[bytes]) -> Call:
    async def call(connection: Connection, n: int) -> str:
        status, raw = await connection.request("POST", "/floor", bodies[n % len(bodies)], JSON)
        if status != 200:
            raise RuntimeError(f"floor route answered {status}: {raw[:100]!r}")
        return str(json.loads(raw)["status"])

    return call


def start_floor(port: int, database_url: str, simulator_port: int) -> subprocess.Popen[bytes]:
    """The floor baseline, under the bare route's uvicorn settings."""
    env = os.environ | {
        "FLOOR_DATABASE_URL": database_url.replace("postgresql://", "postgresql+asyncpg://", 1),
        "FLOOR_SIMULATOR_URL": f"http://127.0.0.1:{simulator_port}",
        "FLOOR_SERVER_KEY": SERVER_KEY,
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "bench._floor:create_floor_app"]
    command += ["--port", str(port), "--log-level", "warning"]
    return start(command, f"http://127.0.0.1:{port}/health", env=env)


async def measure(ports: dict[str, int], bodies: list[bytes], meter: CpuMeter) -> list[Result]:
    count = len(bodies)
    bare = bare_caller(bodies[0])
    # Warm the baselines' connection handling (Santap was warmed by the setup).
    await run_load("warm", ports["bare"], CONCURRENCY, 500, bare)
    await run_load("warm", ports["floor"], CONCURRENCY, 200, floor_caller(bodies))
    santap_port = ports["santap"]
    return [
        await metered(meter, run_load("bare POST {}", ports["bare"], CONCURRENCY, 5000, bare)),
        await metered(
            meter,
            run_load("floor", ports["floor"], CONCURRENCY, count, floor_caller(bodies)),
        ),
        await metered(
            meter,
            run_load("webhook first", santap_port, CONCURRENCY, count, webhook_caller(bodies)),
        ),
        await metered(
            meter,
            run_load("webhook duplicate", santap_port, CONCURRENCY, count, webhook_caller(bodies)),
        ),
    ]


def report(results: list[Result], orders: int, setup_s: float) -> None:
    bare, floor, first, duplicate = results
    print(
        f"\n{orders} orders, {CONCURRENCY} concurrent senders, keep-alive HTTP/1.1; "
        f"setup (orders + QRIS + paying) {setup_s:.0f} s"
    )
    print_table(results, unit="notif/s")
    print(
        f"floor: {floor.rate / bare.rate:.2f}x the bare route's throughput, "
        f"p99 {floor.percentile(99):.1f} ms (what no webhook in this stack can beat)"
    )
    for result in (first, duplicate):
        ratio = result.rate / bare.rate
        p99 = result.percentile(99)
        print(
            f"{result.name}: {ratio:.2f}x the bare route's throughput "
            f"(target >= {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)}); "
            f"p99 {p99:.1f} ms (target < {TARGET_P99_MS:.0f}: {verdict(p99 < TARGET_P99_MS)}); "
            f"{result.rate / floor.rate:.2f}x the floor"
        )


async def set_faults(port: int, faults: dict[str, float]) -> None:
    connection = Connection(port)
    try:
        status, raw = await connection.request(
            "POST", "/_control/faults", json.dumps(faults).encode(), JSON
        )
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"setting faults: {status} {raw!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1500, help="paid orders to notify about")
    parser.add_argument("--quick", action="store_true", help="300 orders")
    args = parser.parse_args()
    orders = 300 if args.quick else args.orders
    database_url = prepare_database(DATABASE)
    sim_port, santap_port, bare_port, floor_port = (free_port() for _ in range(4))
    processes = [start_simulator(sim_port, SERVER_KEY)]
    try:
        processes.append(start_santap(santap_port, santap_env(database_url, sim_port)))
        processes.append(start_bare(bare_port))
        processes.append(start_floor(floor_port, database_url, sim_port))
        started = time.perf_counter()
        item_id = menu_item(santap_port)
        uids = run_loop(create_orders(santap_port, item_id, orders))
        # Drop the simulator's own notifications: the benchmark delivers them.
        run_loop(set_faults(sim_port, {"drop_rate": 1.0}))
        bodies = run_loop(pay_and_fetch(sim_port, uids))
        setup_s = time.perf_counter() - started
        meter = CpuMeter(
            {
                "santap": tree(processes[1]),
                "bare": tree(processes[2]),
                "floor": tree(processes[3]),
                "simulator": tree(processes[0]),
                "postgres": postgres_backends(DATABASE),
                "load": self_pids,
            }
        )
        ports = {"santap": santap_port, "bare": bare_port, "floor": floor_port}
        results = run_loop(measure(ports, bodies, meter))
    finally:
        for process in reversed(processes):
            stop(process)
    report(results, orders, setup_s)


if __name__ == "__main__":
    main()
