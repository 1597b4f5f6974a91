"""Live event streams under load: fan-out latency, lost events, memory, and their cost to the
webhook, in one run.

    .venv/bin/python bench/streams.py [--paid N] [--streams N] [--quick]

Starts, on this machine: a fresh PostgreSQL database (santap_streams), the standalone
simulator and `santap serve` (one worker, status verification on, its applier on). Creates
2 x N orders with a QRIS attempt each and pays them all at the simulator, whose own
notifications are dropped. Then:

1. 32 senders POST the first N orders' settlement notifications with no stream open (the
   webhook's throughput without streams), and the bench waits until they are applied.
   (A warm-up of N/5 notifications, at least 50, goes first.)
2. It opens one order stream (`?access_token=`, as a browser's EventSource does) for each of
   `--streams` orders, the other N paid orders among them, plus 10 staff streams, and reads
   the server's memory once they are all open and idle.
3. The same senders POST the other N orders' notifications, at full speed, with every stream
   open. Each order's stream must receive its order's `order_status: paid`, and each staff
   stream every one of the N; the bench measures from the webhook's 2xx to the event's
   arrival at the subscriber, and from the database's commit of the change to its arrival.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from httpx_sse import aconnect_sse

from _common import (
    JSON,
    SERVER_KEY,
    Connection,
    Result,
    free_port,
    menu_item,
    order_flow,
    prepare_database,
    print_table,
    run_load,
    run_loop,
    santap,
    santap_env,
    start_santap,
    start_simulator,
    stop,
    verdict,
)
from webhook import WEBHOOK, last_id, pay_and_fetch, set_faults, wait_applied

DATABASE = "santap_streams"
CONCURRENCY = 32
SETUP_CONCURRENCY = 16
STAFF_STREAMS = 10
STAFF_PASSWORD = "bench-cashier-password"
P99_MS = 250.0
KB_PER_STREAM = 50.0
COST = 0.20


@dataclass(frozen=True)
class Placed:
    order_id: int
    token: str
    order_uid: str


@dataclass
class Arrivals:
    """When each subscriber saw each order paid (time.time(), so it compares with the DB)."""

    opened: int = 0
    orders: dict[int, float] = field(default_factory=dict)  # order stream: order id -> time
    staff: list[dict[int, float]] = field(default_factory=list)  # per staff stream
    ended: int = 0


async def place(port: int, item_id: int, count: int) -> list[Placed]:
    payments: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    flow = order_flow(item_id, payments, orders)
    result = await run_load("setup", port, SETUP_CONCURRENCY, count, flow)
    if result.errors:
        raise RuntimeError(f"creating orders failed: {result.labels}")
    return [
        Placed(order["id"], order["access_token"], payment["order_uid"])
        for order, payment in zip(orders, payments, strict=True)
    ]


def sender(bodies: list[bytes], acked: dict[str, float]) -> Any:
    async def call(connection: Connection, n: int) -> str:
        body = bodies[n]
        status, raw = await connection.request("POST", WEBHOOK, body, JSON)
        if status != 200:
            raise RuntimeError(f"webhook answered {status}: {raw[:100]!r}")
        acked[json.loads(body)["order_id"]] = time.time()
        return str(json.loads(raw)["status"])

    return call


async def follow(
    http: httpx.AsyncClient, path: str, params: dict[str, str], arrivals: Arrivals, seen: Any
) -> None:
    """One subscriber: counts itself open at the snapshot, then notes each order paid."""
    async with aconnect_sse(http, "GET", path, params=params) as source:
        if source.response.status_code != 200:
            raise RuntimeError(f"stream answered {source.response.status_code}")
        async for event in source.aiter_sse():
            if event.event == "snapshot":
                arrivals.opened += 1
            elif event.event == "order_status" and json.loads(event.data)["status"] == "paid":
                seen(int(json.loads(event.data).get("order_id", 0)), time.time())
    arrivals.ended += 1


async def staff_token(port: int) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        answer = await http.post(
            "/api/v1/auth/login", json={"username": "bench-kasir", "password": STAFF_PASSWORD}
        )
        answer.raise_for_status()
        return str(answer.json()["access_token"])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def applied_at(database_url: str, order_uids: list[str]) -> dict[str, datetime]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT order_uid, applied_at FROM notification WHERE order_uid = any($1::text[])",
            order_uids,
        )
    finally:
        await connection.close()
    return {row["order_uid"]: row["applied_at"] for row in rows}


def percentiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000, max(values) * 1000


async def scenario(
    port: int, server_pid: int, database_url: str, streamed: list[Placed], bodies: dict[str, Any]
) -> None:
    acked: dict[str, float] = {}
    before = await last_id(database_url)
    warm = bodies["warm"]
    await run_load("warm-up", port, CONCURRENCY, len(warm), sender(warm, acked))
    await wait_applied("warm-up", database_url, before, len(warm), 300)
    before = await last_id(database_url)
    alone = await run_load(
        "webhook, no stream open",
        port,
        CONCURRENCY,
        len(bodies["alone"]),
        sender(bodies["alone"], acked),
    )
    await wait_applied("alone", database_url, before, len(bodies["alone"]), 300)
    await asyncio.sleep(1)
    idle_kb = rss_kb(server_pid)

    arrivals = Arrivals(staff=[{} for _ in range(STAFF_STREAMS)])
    uid_of = {p.order_id: p.order_uid for p in streamed}
    token = await staff_token(port)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=0)
    timeout = httpx.Timeout(30, read=None)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=timeout
    ) as http:
        tasks = [
            asyncio.create_task(
                follow(
                    http,
                    f"/api/v1/orders/{p.order_id}/events",
                    {"access_token": p.token},
                    arrivals,
                    lambda _id, at, order_id=p.order_id: arrivals.orders.setdefault(order_id, at),
                )
            )
            for p in streamed
        ]
        tasks += [
            asyncio.create_task(
                follow(
                    http,
                    "/api/v1/staff/events",
                    {"access_token": token},
                    arrivals,
                    lambda order_id, at, mine=mine: mine.setdefault(order_id, at),
                )
            )
            for mine in arrivals.staff
        ]
        total = len(tasks)
        deadline = time.monotonic() + 120
        while arrivals.opened < total:
            if time.monotonic() > deadline or any(t.done() for t in tasks):
                raise RuntimeError(f"only {arrivals.opened} of {total} streams opened")
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        open_kb = rss_kb(server_pid)

        before = await last_id(database_url)
        acked.clear()
        loaded = await run_load(
            f"webhook, {total} streams open",
            port,
            CONCURRENCY,
            len(bodies["streamed"]),
            sender(bodies["streamed"], acked),
        )
        paid_ids = [p.order_id for p in streamed if p.order_uid in acked]
        await wait_applied("streamed", database_url, before, len(paid_ids), 300)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _all_seen(arrivals, paid_ids):
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    commits = await applied_at(database_url, [uid_of[i] for i in paid_ids])
    from_ack, from_commit = [], []
    applying = [commits[uid_of[i]].timestamp() - acked[uid_of[i]] for i in paid_ids]
    lost = 0
    for order_id in paid_ids:
        uid = uid_of[order_id]
        for seen in (arrivals.orders, *arrivals.staff):
            if order_id not in seen:
                lost += 1
                continue
            from_ack.append(seen[order_id] - acked[uid])
            from_commit.append(seen[order_id] - commits[uid].timestamp())
    delays = {
        "webhook 2xx -> subscriber": from_ack,
        "  of which 2xx -> applied (commit)": applying,
        "  and commit -> subscriber": from_commit,
    }
    report(alone, loaded, total, len(paid_ids), delays, lost, idle_kb, open_kb)


def _all_seen(arrivals: Arrivals, order_ids: list[int]) -> bool:
    return all(
        order_id in seen for seen in (arrivals.orders, *arrivals.staff) for order_id in order_ids
    )


def report(
    alone: Result,
    loaded: Result,
    streams: int,
    paid: int,
    delays: dict[str, list[float]],
    lost: int,
    idle_kb: int,
    open_kb: int,
) -> None:
    print(
        f"\n{streams} streams ({streams - STAFF_STREAMS} order + {STAFF_STREAMS} staff); "
        f"{paid} payments applied while they were open; one worker, PostgreSQL"
    )
    print_table([alone, loaded], unit="notif/s")
    expected = paid * (1 + STAFF_STREAMS)
    from_ack = delays["webhook 2xx -> subscriber"]
    print(
        f"\nDeliveries of 'order_status: paid' (each order's stream + every staff stream): "
        f"{len(from_ack)} of {expected}"
    )
    print(f"{'':<34}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, values in delays.items():
        p50, p99, top = percentiles(values)
        print(f"{name:<34}{p50:>9.0f}{p99:>9.0f}{top:>9.0f}")
    per_stream = (open_kb - idle_kb) / streams
    ratio = loaded.rate / alone.rate
    cost = 1 - ratio
    p99 = percentiles(from_ack)[1]
    print(
        f"\nserver RSS: {idle_kb / 1024:.1f} MB idle, {open_kb / 1024:.1f} MB with the streams "
        f"open: {per_stream:.1f} KB per idle stream"
    )
    print(
        f"fan-out p99 (2xx -> subscriber) {p99:.0f} ms (target < {P99_MS:.0f}: "
        f"{verdict(p99 < P99_MS)})"
    )
    print(f"events lost: {lost} (target 0: {verdict(lost == 0)})")
    print(
        f"memory per idle stream: {per_stream:.1f} KB (target < {KB_PER_STREAM:.0f}: "
        f"{verdict(per_stream < KB_PER_STREAM)})"
    )
    print(
        f"webhook with the streams open: {ratio:.2f}x its throughput without (cost "
        f"{cost:.0%}, target <= {COST:.0%}: {verdict(cost <= COST)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paid", type=int, default=500, help="payments per phase")
    parser.add_argument("--streams", type=int, default=1000, help="order streams held open")
    parser.add_argument("--quick", action="store_true", help="100 payments, 200 streams")
    args = parser.parse_args()
    paid, streams = (100, 200) if args.quick else (args.paid, args.streams)
    if streams < paid:
        parser.error("--streams must be at least --paid: each paid order has its stream")
    # Every stream is a socket here and in the server (a child: it inherits the limit).
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    database_url = prepare_database(DATABASE)
    sim_port, santap_port = free_port(), free_port()
    processes = [start_simulator(sim_port, SERVER_KEY)]
    try:
        env = santap_env(database_url, sim_port)
        santap(
            "create-staff",
            "--username",
            "bench-kasir",
            "--role",
            "cashier",
            env=env | {"SANTAP_STAFF_PASSWORD": STAFF_PASSWORD},
        )
        server = start_santap(santap_port, env)
        processes.append(server)
        item_id = menu_item(santap_port)
        warm = max(50, paid // 5)
        placed = run_loop(place(santap_port, item_id, warm + paid + streams))
        run_loop(set_faults(sim_port, {"drop_rate": 1.0}))
        unstreamed, streamed = placed[: warm + paid], placed[warm + paid :]
        to_pay = unstreamed + streamed[:paid]
        every = run_loop(pay_and_fetch(sim_port, [p.order_uid for p in to_pay]))
        bodies = {
            "warm": every[:warm],
            "alone": every[warm : warm + paid],
            "streamed": every[warm + paid :],
        }
        run_loop(scenario(santap_port, server.pid, database_url, streamed, bodies))
    finally:
        for process in reversed(processes):
            stop(process)


if __name__ == "__main__":
    main()
