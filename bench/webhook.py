"""Midtrans notifications: the acknowledgement, and applying them end to end, in one run.

    .venv/bin/python bench/webhook.py [--orders N] [--quick]

Starts, on this machine: a fresh PostgreSQL database (santap_bench), the standalone simulator
and `santap serve` (uvicorn, one worker, MIDTRANS_VERIFY_STATUS=true, its background applier
on). Creates N orders with a Core-mode QRIS attempt each through the API and pays them at the
simulator, whose own notifications are dropped. Then 32 senders POST each order's signed
settlement notification once ("first": signature, one INSERT ... ON CONFLICT, 2xx), then all
of them again ("duplicate"). Meanwhile the applier asks the simulator for each status and
applies it; the bench waits until every notification is applied and reads from the inbox
when each was acknowledged and applied. The baseline is a FastAPI POST route returning {}
under `uvicorn --workers 1 --log-level warning`, fed the same bodies by the same senders.

Then, with the simulator's status API answering in 3 s, another N/5 notifications: their
acknowledgements must stay fast, and every one is applied once Midtrans answers.

Round trips are counted by a proxy between Santap and PostgreSQL that reads the wire
protocol (bench/_roundtrips.py), on a second, smaller run: first the acknowledgements alone
(applier off), then the applier alone applying them.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any

import asyncpg

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
    start_bare,
    start_santap,
    start_simulator,
    stop,
    tree,
    verdict,
)
from _roundtrips import RoundTripProxy, through
from santap.gateways.midtrans import compute_signature

DATABASE = "santap_bench"
CONCURRENCY = 32
SETUP_CONCURRENCY = 16
WEBHOOK = "/api/v1/webhooks/midtrans"
ACK_RATIO = 0.40
ACK_P99_MS = 50.0
APPLIED_RATIO = 0.12
SLOW_STATUS_S = 3.0
SLOW_ORDERS = 100
COUNTED_ORDERS = 200


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


@dataclass
class Applied:
    """How a set of acknowledged notifications got applied, read from the inbox."""

    name: str
    count: int
    seconds: float  # from the first acknowledgement to the last application
    delays: list[float]  # acknowledgement to application, per notification
    outcomes: dict[str, int]

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.delays, n=100, method="inclusive")[q - 1] * 1000


async def last_id(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval("SELECT coalesce(max(id), 0) FROM notification"))
    finally:
        await connection.close()


async def wait_applied(
    name: str, database_url: str, after_id: int, expected: int, timeout_s: float
) -> Applied:
    """Wait until ``expected`` notifications with ids above ``after_id`` are applied."""
    connection = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout_s
        query = "SELECT count(*) FROM notification WHERE id > $1 AND applied_at IS NOT NULL"
        while (done := await connection.fetchval(query, after_id)) < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: only {done} of {expected} applied in {timeout_s} s")
            await asyncio.sleep(0.05)
        rows = await connection.fetch(
            "SELECT received_at, applied_at, outcome FROM notification WHERE id > $1", after_id
        )
    finally:
        await connection.close()
    first = min(row["received_at"] for row in rows)
    last = max(row["applied_at"] for row in rows)
    outcomes: dict[str, int] = {}
    for row in rows:
        outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + 1
    delays = [(row["applied_at"] - row["received_at"]).total_seconds() for row in rows]
    return Applied(name, len(rows), (last - first).total_seconds(), delays, outcomes)


async def measure(
    ports: dict[str, int], bodies: dict[str, list[bytes]], meter: CpuMeter, database_url: str
) -> tuple[list[Result], list[Applied]]:
    bare = bare_caller(bodies["main"][0])
    await run_load("warm", ports["bare"], CONCURRENCY, 500, bare)
    santap_port = ports["santap"]
    results = [
        await metered(meter, run_load("bare POST {}", ports["bare"], CONCURRENCY, 5000, bare))
    ]
    before = await last_id(database_url)
    first = run_load(
        "webhook first",
        santap_port,
        CONCURRENCY,
        len(bodies["main"]),
        webhook_caller(bodies["main"]),
    )
    results.append(await metered(meter, first))
    count = len(bodies["main"])
    applied = [await wait_applied("applied, status verified", database_url, before, count, 300)]
    duplicate = run_load(
        "webhook duplicate", santap_port, CONCURRENCY, count, webhook_caller(bodies["main"])
    )
    results.append(await metered(meter, duplicate))
    await set_faults(ports["simulator"], {"drop_rate": 1.0, "latency_s": SLOW_STATUS_S})
    before = await last_id(database_url)
    slow = bodies["slow"]
    results.append(
        await run_load(
            f"webhook, status API {SLOW_STATUS_S:.0f} s",
            santap_port,
            CONCURRENCY,
            len(slow),
            webhook_caller(slow),
        )
    )
    applied.append(
        await wait_applied(
            f"applied, status API {SLOW_STATUS_S:.0f} s", database_url, before, len(slow), 300
        )
    )
    await set_faults(ports["simulator"], {"drop_rate": 1.0, "latency_s": 0.0})
    return results, applied


def count_round_trips(database_url: str, sim_port: int, bodies: list[bytes]) -> dict[str, float]:
    """Round trips per acknowledgement (applier off), then per application (applier alone)."""
    proxy = RoundTripProxy().start()
    proxied = through(proxy, database_url)
    port = free_port()
    env = santap_env(proxied, sim_port) | {"SANTAP_APPLIER": "false"}
    server = start_santap(port, env)
    try:
        proxy.reset()
        result = run_loop(run_load("count acks", port, 8, len(bodies), webhook_caller(bodies)))
        acks = proxy.counts.round_trips / result.requests
    finally:
        stop(server)
    before = run_loop(last_id(database_url)) - len(bodies)
    proxy.reset()
    server = start_santap(port, santap_env(proxied, sim_port))
    try:
        run_loop(wait_applied("count", database_url, before, len(bodies), 120))
        applies = proxy.counts.round_trips / len(bodies)
    finally:
        stop(server)
    return {"acknowledgement": acks, "application (incl. the batch's claim)": applies}


def report(results: list[Result], applied: list[Applied], orders: int, setup_s: float) -> None:
    bare, first, duplicate, slow = results
    print(
        f"\n{orders} orders, {CONCURRENCY} concurrent senders, keep-alive HTTP/1.1; "
        f"setup (orders + QRIS + paying) {setup_s:.0f} s"
    )
    print_table(results, unit="notif/s")
    print("\nApplied by the background applier (ack = acknowledgement):")
    print(f"{'':<34}{'n':>7}{'applied/s':>11}{'ack->applied p50 ms':>21}{'p99 ms':>9}")
    for a in applied:
        print(
            f"{a.name:<34}{a.count:>7}{a.rate:>11.0f}{a.percentile(50):>21.0f}"
            f"{a.percentile(99):>9.0f}"
        )
        print(f"  outcomes: {dict(sorted(a.outcomes.items()))}")
    print()
    ratio, p99 = first.rate / bare.rate, first.percentile(99)
    print(
        f"acknowledgement: {ratio:.2f}x the bare route (target >= {ACK_RATIO}: "
        f"{verdict(ratio >= ACK_RATIO)}), p99 {p99:.1f} ms (target < {ACK_P99_MS:.0f}: "
        f"{verdict(p99 < ACK_P99_MS)})"
    )
    verified = applied[0]
    ratio = verified.rate / bare.rate
    p99 = verified.percentile(99)
    print(
        f"applied end to end: {ratio:.2f}x the bare route (target >= {APPLIED_RATIO}: "
        f"{verdict(ratio >= APPLIED_RATIO)}), ack->applied p99 {p99:.0f} ms "
        f"(target < 1000: {verdict(p99 < 1000)})"
    )
    p99 = slow.percentile(99)
    print(
        f"status API at {SLOW_STATUS_S:.0f} s: acknowledgement p99 {p99:.1f} ms (target < "
        f"{ACK_P99_MS:.0f}: {verdict(p99 < ACK_P99_MS)}); all {applied[1].count} applied: "
        f"{verdict(applied[1].count == slow.requests and slow.errors == 0)}"
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
    sizes = {"main": orders, "slow": SLOW_ORDERS, "count": COUNTED_ORDERS}
    database_url = prepare_database(DATABASE)
    sim_port, santap_port, bare_port = (free_port() for _ in range(3))
    processes = [start_simulator(sim_port, SERVER_KEY)]
    try:
        processes.append(start_santap(santap_port, santap_env(database_url, sim_port)))
        processes.append(start_bare(bare_port))
        started = time.perf_counter()
        item_id = menu_item(santap_port)
        uids = run_loop(create_orders(santap_port, item_id, sum(sizes.values())))
        # Drop the simulator's own notifications: the benchmark delivers them.
        run_loop(set_faults(sim_port, {"drop_rate": 1.0}))
        every = run_loop(pay_and_fetch(sim_port, uids))
        bodies = {"main": every[:orders], "slow": every[orders : orders + SLOW_ORDERS]}
        setup_s = time.perf_counter() - started
        meter = CpuMeter(
            {
                "santap": tree(processes[1]),
                "bare": tree(processes[2]),
                "simulator": tree(processes[0]),
                "postgres": postgres_backends(DATABASE),
                "load": self_pids,
            }
        )
        ports = {"santap": santap_port, "bare": bare_port, "simulator": sim_port}
        results, applied = run_loop(measure(ports, bodies, meter, database_url))
        stop(processes.pop(1))
        report(results, applied, orders, setup_s)
        trips = count_round_trips(database_url, sim_port, every[-COUNTED_ORDERS:])
    finally:
        for process in reversed(processes):
            stop(process)
    print("\nDatabase round trips per notification (counted on the wire):")
    for name, value in trips.items():
        print(f"  {name}: {value:.2f}")


if __name__ == "__main__":
    main()
