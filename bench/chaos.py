"""Chaos run: two Santap instances on one database, a faulty Midtrans, a SIGKILL, forgeries.

    .venv/bin/python -m bench.chaos                     # 10,000 orders on PostgreSQL
    .venv/bin/python -m bench.chaos --orders 300 --sqlite

A standalone simulator (30% duplicated, 20% reordered, 10% dropped notifications, each sent to
both instances) plays Midtrans; the driver places orders through the instances' public API,
then pays, expires or cancels each at the simulator and forges 5% more notifications. One
instance is SIGKILLed mid-run and restarted. Once the simulator has drained and reconciliation
has caught up, the database must agree with the simulator's truth. Exit 1 if it does not.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench._chaos_checks import Forgery, Verdict, check, figures, read_snapshot, unsettled
from bench._forgery import FORGERIES, forged_body
from bench._procs import (
    SANTAP,
    Server,
    clean_env,
    free_port,
    recreate_postgres_database,
    run_command,
    with_database,
)
from santap.config import to_async_url

logger = logging.getLogger("bench.chaos")

SERVER_KEY = "SB-Mid-server-CHAOS"
CHAOS_DATABASE = "santap_chaos"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
WEBHOOK = "/api/v1/webhooks/midtrans"
FATES = ("pay", "expire", "cancel")


@dataclass(frozen=True)
class ChaosConfig:
    orders: int = 300
    # A PostgreSQL URL (its database is replaced by santap_chaos) or None for SQLite.
    postgres_url: str | None = DEFAULT_POSTGRES
    concurrency: int = 32
    fate_weights: tuple[float, float, float] = (0.70, 0.15, 0.15)
    duplicate_rate: float = 0.30
    reorder_rate: float = 0.20
    drop_rate: float = 0.10
    forge_rate: float = 0.05
    time_factor: float = 1 / 120  # Midtrans' 2-minute first retry becomes 1 s
    reconcile_interval_s: float = 2.0
    reconcile_min_age_s: float = 5.0
    kill_at: float = 0.4  # fraction of orders placed when one instance is killed
    downtime_s: float = 3.0
    settle_timeout_s: float = 180.0
    seed: int = 20261126
    workdir: Path | None = None


@dataclass
class ChaosResult:
    config: ChaosConfig
    verdict: Verdict
    figures: dict[str, int]
    planned: dict[str, int]
    kills: int
    restarts: int
    interrupted: int
    errors: list[str]
    seconds: float
    phases: dict[str, float]
    workdir: Path

    @property
    def ok(self) -> bool:
        return not self.verdict.failures and not self.errors

    def summary(self) -> str:
        return _render(self)


@dataclass
class Instance:
    server: Server
    alive: bool = True


@dataclass
class Cluster:
    simulator: Server
    instances: list[Instance]

    async def start(self) -> None:
        await self.simulator.start(ready_path="/_control/faults")
        await asyncio.gather(*(i.server.start(ready_path="/health") for i in self.instances))

    async def stop(self) -> None:
        await asyncio.gather(*(i.server.stop() for i in self.instances), return_exceptions=True)
        await self.simulator.stop()


async def run_chaos(config: ChaosConfig | None = None, **overrides: Any) -> ChaosResult:
    """Run the whole scenario once; never raises for a failed check, only for broken setup."""
    config = dataclasses.replace(config or ChaosConfig(), **overrides)
    workdir = config.workdir or Path(tempfile.mkdtemp(prefix="santap-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    phases: dict[str, float] = {}
    clock = _Clock(phases)
    database_url = await _prepare_database(config, workdir)
    clock.lap("setup")
    cluster = _cluster(config, database_url, workdir)
    # Only reads, so no pool tuning or SQLite write serialization needed.
    engine = create_async_engine(to_async_url(database_url))
    workload = Workload(config, cluster)
    try:
        await cluster.start()
        clock.lap("start")
        await workload.run()
        clock.lap("workload")
        await _settle(config, cluster, engine, workload.errors)
        clock.lap("settle")
        truth, deliveries = await _simulator_state(workload.http, cluster.simulator.base_url)
        _keep(workdir, truth, deliveries)
        snapshot = await read_snapshot(engine, truth, deliveries)
    finally:
        await workload.http.aclose()
        await cluster.stop()
        await engine.dispose()
    return ChaosResult(
        config=config,
        verdict=check(snapshot, workload.planned, workload.forged),
        figures=figures(snapshot, workload.forged),
        planned={fate: list(workload.planned.values()).count(fate) for fate in FATES},
        kills=workload.kills,
        restarts=workload.restarts,
        interrupted=workload.interrupted,
        errors=workload.errors,
        seconds=time.monotonic() - started,
        phases=phases,
        workdir=workdir,
    )


async def _prepare_database(config: ChaosConfig, workdir: Path) -> str:
    if config.postgres_url is None:
        for leftover in workdir.glob("chaos.db*"):
            leftover.unlink()
        url = f"sqlite:///{workdir / 'chaos.db'}"
    else:
        url = with_database(config.postgres_url, CHAOS_DATABASE)
        await recreate_postgres_database(url)
    env = clean_env(DATABASE_URL=url, SANTAP_SECRET_KEY="chaos-" + "x" * 40)
    log = workdir / "setup.log"
    await run_command([*SANTAP, "db", "upgrade"], env=env, cwd=workdir, log=log)
    await run_command([*SANTAP, "seed-demo"], env=env, cwd=workdir, log=log)
    return url


def _cluster(config: ChaosConfig, database_url: str, workdir: Path) -> Cluster:
    sim_port, ports = free_port(), [free_port(), free_port()]
    sim_url = f"http://127.0.0.1:{sim_port}"
    notify = ",".join(f"http://127.0.0.1:{port}{WEBHOOK}" for port in ports)
    simulator = Server(
        "simulator",
        [sys.executable, "-m", "santap.simulator", "--port", str(sim_port)]
        + ["--server-key", SERVER_KEY, "--time-factor", str(config.time_factor)]
        + ["--notify-url", notify, "--log-level", "warning"],
        env=clean_env(),
        cwd=workdir,
        port=sim_port,
    )
    env = clean_env(
        DATABASE_URL=database_url,
        SANTAP_SECRET_KEY="chaos-" + "x" * 40,
        SANTAP_LOG_LEVEL="WARNING",
        SANTAP_RECONCILE_INTERVAL_S=str(config.reconcile_interval_s),
        SANTAP_RECONCILE_MIN_AGE_S=str(config.reconcile_min_age_s),
        # Every forgery comes from this one host: the run checks each is judged 401 and kept,
        # not the per-source cap on them (tests/payments/test_rejected_notifications.py).
        SANTAP_REJECTED_NOTIFICATIONS_PER_MINUTE="1000000",
        MIDTRANS_SERVER_KEY=SERVER_KEY,
        MIDTRANS_IS_PRODUCTION="false",
        MIDTRANS_SNAP_BASE_URL=sim_url,
        MIDTRANS_CORE_BASE_URL=sim_url,
        MIDTRANS_QRIS_MODE="core",
    )
    instances = [
        Instance(
            Server(
                f"santap-{name}",
                [*SANTAP, "serve", "--port", str(port)],
                env=env,
                cwd=workdir,
                port=port,
            )
        )
        for name, port in zip("ab", ports, strict=True)
    ]
    return Cluster(simulator, instances)


class ChaosError(Exception):
    pass


class _Clock:
    def __init__(self, phases: dict[str, float]) -> None:
        self.phases, self.last = phases, time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name], self.last = now - self.last, now


@dataclass
class Workload:
    config: ChaosConfig
    cluster: Cluster
    planned: dict[str, str] = field(default_factory=dict)  # order_uid -> fate
    forged: list[Forgery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    kills: int = 0
    restarts: int = 0
    interrupted: int = 0  # API calls cut off by the kill and retried elsewhere

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)
        limits = httpx.Limits(max_connections=self.config.concurrency * 3)
        self.http = httpx.AsyncClient(timeout=30.0, limits=limits)
        self._placed = 0
        self._kill_now = asyncio.Event()

    async def run(self) -> None:
        faults = {
            "duplicate_rate": self.config.duplicate_rate,
            "reorder_rate": self.config.reorder_rate,
            "drop_rate": self.config.drop_rate,
            "seed": self.config.seed,
        }
        sim = self.cluster.simulator.base_url
        (await self.http.post(f"{sim}/_control/faults", json=faults)).raise_for_status()
        menu = await self._menu()
        indices = iter(range(self.config.orders))
        monkey = asyncio.create_task(self._monkey())
        try:
            workers = (self._worker(indices, menu) for _ in range(self.config.concurrency))
            await asyncio.gather(*workers)
        finally:
            self._kill_now.set()
            await monkey

    async def _menu(self) -> list[tuple[int, int]]:
        response = await self.http.get(self.cluster.instances[0].server.base_url + "/api/v1/menu")
        response.raise_for_status()
        return [
            (item["id"], item["price"])
            for category in response.json()["categories"]
            for item in category["items"]
            if item.get("is_available", True)
        ]

    async def _worker(self, indices: Any, menu: list[tuple[int, int]]) -> None:
        for index in indices:
            try:
                await self._one(index, menu)
            except (ChaosError, httpx.HTTPError) as exc:
                self.errors.append(f"order #{index}: {exc!r}"[:300])

    async def _one(self, index: int, menu: list[tuple[int, int]]) -> None:
        fate = self.rng.choices(FATES, weights=self.config.fate_weights)[0]
        items = [
            {"menu_item_id": item_id, "quantity": self.rng.randint(1, 3)}
            for item_id, _ in self.rng.sample(menu, self.rng.randint(1, 3))
        ]
        order = await self._api("/api/v1/orders", {"items": items}, index, expect=(201,))
        body = {"order_id": order["id"], "amount": order["total_amount"], "customer_details": {}}
        proof = {"X-Order-Token": str(order["access_token"])}
        payment = await self._api(
            "/api/v1/payments/qris", body, index, expect=(200, 201), headers=proof
        )
        uid = str(payment["order_uid"])
        self.planned[uid] = fate
        self._placed += 1
        if self._placed % 500 == 0:
            logger.info("%d orders placed", self._placed)
        if self._placed >= self.config.orders * self.config.kill_at:
            self._kill_now.set()
        await self._act(uid, fate)
        if self.rng.random() < self.config.forge_rate:
            await self._forge(uid, fate, int(order["total_amount"]))

    async def _api(
        self,
        path: str,
        body: dict[str, Any],
        index: int,
        *,
        expect: tuple[int, ...],
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST to the instance whose turn it is; a call cut off by the kill goes elsewhere."""
        for attempt in range(30):
            instance = self._pick(index + attempt)
            try:
                response = await self.http.post(
                    instance.server.base_url + path, json=body, headers=headers
                )
            except httpx.TransportError:
                self.interrupted += 1
                await asyncio.sleep(0.2)
                continue
            if response.status_code in expect:
                answer: dict[str, Any] = response.json()
                return answer
            if response.status_code < 500:
                raise ChaosError(f"POST {path}: {response.status_code} {response.text[:200]}")
            await asyncio.sleep(0.2)
        raise ChaosError(f"POST {path}: no instance answered")

    def _pick(self, turn: int) -> Instance:
        live = [i for i in self.cluster.instances if i.alive] or self.cluster.instances
        return live[turn % len(live)]

    async def _act(self, uid: str, fate: str) -> None:
        """The payer pays on the simulator's page, or the merchant expires/cancels at Midtrans."""
        sim = self.cluster.simulator.base_url
        if fate == "pay":
            response = await self.http.post(f"{sim}/pay/{uid}/pay")
            ok = response.status_code == 303 and "error=" not in response.headers["location"]
        else:
            response = await self.http.post(f"{sim}/v2/{uid}/{fate}", auth=(SERVER_KEY, ""))
            ok = response.status_code == 200 and response.json().get("transaction_status") == fate
        if not ok:
            raise ChaosError(f"{fate} {uid}: {response.status_code} {response.text[:200]}")

    async def _forge(self, uid: str, fate: str, amount: int) -> None:
        """Claim the opposite of what happened, so a forgery that got through would show."""
        kind = self.rng.choice(FORGERIES)
        claim = "expire" if fate == "pay" else "settlement"
        raw = json.dumps(forged_body(kind, uid, claim, amount, server_key=SERVER_KEY))
        for attempt in range(30):
            instance = self._pick(self.rng.randrange(2) + attempt)
            try:
                response = await self.http.post(
                    instance.server.base_url + WEBHOOK,
                    content=raw,
                    headers={"Content-Type": "application/json"},
                )
            except httpx.TransportError:
                await asyncio.sleep(0.2)
                continue
            self.forged.append(Forgery(kind, uid, raw, response.status_code))
            return
        self.forged.append(Forgery(kind, uid, raw, None))

    async def _monkey(self) -> None:
        """SIGKILL instance b once enough orders are placed; bring it back on the same port."""
        await self._kill_now.wait()
        victim = self.cluster.instances[1]
        victim.alive = False
        await victim.server.kill()
        self.kills += 1
        await asyncio.sleep(self.config.downtime_s)
        await victim.server.start(ready_path="/health")
        victim.alive = True
        self.restarts += 1


async def _settle(
    config: ChaosConfig, cluster: Cluster, engine: AsyncEngine, errors: list[str]
) -> None:
    """Wait for the simulator to finish delivering and for the database to catch up."""
    sim = cluster.simulator.base_url
    deadline = time.monotonic() + config.settle_timeout_s
    async with httpx.AsyncClient(timeout=30.0) as http:
        while True:
            notifier = (await http.get(f"{sim}/_control/deliveries?log=0")).json()
            truth = (await http.get(f"{sim}/_control/transactions")).json()
            behind = await unsettled(engine, truth)
            if notifier["in_flight"] == 0 and not any(behind.values()):
                return
            logger.info("settling: %d deliveries in flight, %s", notifier["in_flight"], behind)
            if time.monotonic() > deadline:
                errors.append(
                    f"not settled after {config.settle_timeout_s:.0f} s: "
                    f"{notifier['in_flight']} deliveries in flight, {behind}"
                )
                return
            await asyncio.sleep(1.0)


async def _simulator_state(
    http: httpx.AsyncClient, sim: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    truth = (await http.get(f"{sim}/_control/transactions")).json()
    deliveries = (await http.get(f"{sim}/_control/deliveries")).json()
    return truth, deliveries


def _keep(workdir: Path, truth: list[dict[str, Any]], deliveries: dict[str, Any]) -> None:
    """The simulator's view, for a post-mortem beside the process logs."""
    (workdir / "simulator-truth.json").write_text(json.dumps(truth))
    (workdir / "simulator-deliveries.json").write_text(json.dumps(deliveries))


def _render(result: ChaosResult) -> str:
    f, c = result.figures, result.config
    phases = ", ".join(f"{name} {seconds:.1f}" for name, seconds in result.phases.items())
    backend = "PostgreSQL" if c.postgres_url else "SQLite"
    rows = [
        ("database", f"{backend}, 2 instances, reconcile every {c.reconcile_interval_s:g} s"),
        ("orders placed / in DB", f"{sum(result.planned.values())} / {f['orders_in_db']}"),
        ("planned pay/expire/cancel", "/".join(str(result.planned[x]) for x in FATES)),
        (
            "simulator settled/expired/cancelled",
            f"{f['sim_settlement']}/{f['sim_expire']}/{f['sim_cancel']}",
        ),
        ("orders paid in DB", f"{f['orders_paid']}"),
        (
            "ghost charges (cut by kill) / failed / pending",
            f"{f['ghosts']} / {f['failed_charges']} / {f['sim_pending']}",
        ),
        ("notifications dispatched", f"{f['dispatched']} (x2 instances)"),
        (
            "  dropped / duplicated / reordered",
            f"{f['dropped']} / {f['duplicated']} / {f['reordered']}",
        ),
        (
            "delivery attempts / 2xx / failed",
            f"{f['attempts']} / {f['delivered_2xx']} / {f['failed_attempts']}",
        ),
        ("inbox rows genuine / forged", f"{f['inbox_valid']} / {f['inbox_invalid']}"),
        ("forged sent / rejected 401", f"{f['forged_sent']} / {f['forged_rejected']}"),
        (
            "SIGKILLs / restarts / API calls retried",
            f"{result.kills} / {result.restarts} / {result.interrupted}",
        ),
        ("reconciler recoveries", f"{f['reconciler_changes']}"),
        ("needs_refund flags", f"{f['needs_refund']}"),
    ]
    rows += [(name, str(count)) for name, count in result.verdict.numbers.items()]
    rows += [
        ("driver errors", str(len(result.errors))),
        ("duration", f"{result.seconds:.1f} s ({phases})"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"Santap chaos run: {c.orders} orders, seed {c.seed}"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    lines += [f"FAIL {failure}" for failure in result.verdict.failures]
    lines += [f"ERROR {error}" for error in result.errors[:10]]
    lines.append("PASS" if result.ok else f"FAILED (logs in {result.workdir})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        default=DEFAULT_POSTGRES,
        help="PostgreSQL server to use (its database becomes santap_chaos)",
    )
    parser.add_argument("--sqlite", action="store_true", help="one SQLite file instead")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=ChaosConfig.seed)
    parser.add_argument("--settle-timeout", type=float, default=600.0)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    config = ChaosConfig(
        orders=args.orders,
        postgres_url=None if args.sqlite else args.database_url,
        concurrency=args.concurrency,
        seed=args.seed,
        settle_timeout_s=args.settle_timeout,
        workdir=args.workdir,
    )
    result = asyncio.run(run_chaos(config))
    print(result.summary())  # noqa: T201
    raise SystemExit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
