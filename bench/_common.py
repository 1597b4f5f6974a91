"""What the benchmarks share: processes, a cheap HTTP/1.1 load generator, stats and tables.

The load generator speaks raw HTTP/1.1 over keep-alive asyncio streams instead of httpx: it
runs on the same two cores as the servers, and httpx's per-request cost would cap the bare
route well below what uvicorn can serve, flattering every ratio against it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    command: Sequence[str], ready_url: str, *, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a server and wait until ``ready_url`` answers (any status)."""
    process = subprocess.Popen(list(command), env=env, cwd=ROOT)
    deadline = time.monotonic() + 90  # workers start slowly on a busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {process.returncode}")
        try:
            httpx.get(ready_url, timeout=0.5)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"{' '.join(command)} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_simulator(port: int, server_key: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "santap.simulator", "--port", str(port)]
    command += ["--server-key", server_key, "--log-level", "warning"]
    return start(command, f"http://127.0.0.1:{port}/_control/faults")


def start_bare(port: int, *, workers: int = 1) -> subprocess.Popen[bytes]:
    """The baseline: uvicorn's defaults as ``santap serve`` uses them (auto loop and HTTP
    implementation, i.e. uvloop and httptools), log level warning."""
    command = [sys.executable, "-m", "uvicorn", "--factory", "bench._common:create_bare_app"]
    command += ["--port", str(port), "--log-level", "warning", "--workers", str(workers)]
    return start(command, f"http://127.0.0.1:{port}/health")


def create_bare_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/bare")
    async def bare() -> dict[str, str]:
        return {}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {}

    return app


def santap(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "santap"), *args], env=env, cwd=ROOT, check=True)


async def recreate_database(name: str) -> str:
    """Drop and create ``name`` on the local server; returns its URL. Never the test database."""
    import asyncpg

    if name in ("test", "postgres") or not name.replace("_", "").isalnum():
        raise ValueError(f"refusing to recreate database {name!r}")
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"


# --- the Santap stack -----------------------------------------------------------------------

SERVER_KEY = "SB-Mid-server-BENCH"  # sandbox-shaped, known only to the simulator


def santap_env(
    database_url: str, simulator_port: int, *, qris_mode: str = "core"
) -> dict[str, str]:
    """Environment for ``santap`` commands: PostgreSQL, the standalone simulator as Midtrans,
    status verification on, no background reconciler, log level warning."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANTAP_", "MIDTRANS_"))}
    simulator = f"http://127.0.0.1:{simulator_port}"
    env |= {
        "DATABASE_URL": database_url,
        "MIDTRANS_SERVER_KEY": SERVER_KEY,
        "MIDTRANS_SNAP_BASE_URL": simulator,
        "MIDTRANS_CORE_BASE_URL": simulator,
        "MIDTRANS_QRIS_MODE": qris_mode,
        "MIDTRANS_VERIFY_STATUS": "true",
        "SANTAP_RECONCILE_INTERVAL_S": "0",
        "SANTAP_LOG_LEVEL": "WARNING",
        # Not a secret: set so that Santap does not write a generated key into the work tree.
        "SANTAP_SECRET_KEY": "bench-signing-key-not-secret-0123456789abcdef",
    }
    return env


def prepare_database(name: str) -> str:
    """A fresh database with the schema and the demo menu; returns its URL."""
    url = asyncio.run(recreate_database(name))
    env = {**os.environ, "DATABASE_URL": url, "SANTAP_LOG_LEVEL": "WARNING"}
    santap("db", "upgrade", env=env)
    santap("seed-demo", env=env)
    return url


def start_santap(port: int, env: dict[str, str], *, workers: int = 1) -> subprocess.Popen[bytes]:
    command = [str(BIN / "santap"), "serve", "--port", str(port), "--workers", str(workers)]
    return start(command, f"http://127.0.0.1:{port}/health", env=env)


def menu_item(port: int) -> int:
    """An available item of the demo menu."""
    menu = httpx.get(f"http://127.0.0.1:{port}/api/v1/menu", timeout=5).json()
    for category in menu["categories"]:
        for item in category["items"]:
            if item["is_available"]:
                return int(item["id"])
    raise RuntimeError("the demo menu has no available item")


def order_flow(
    item_id: int,
    created: list[dict[str, Any]] | None = None,
    orders: list[dict[str, Any]] | None = None,
) -> Call:
    """A customer's path to a QR code: POST an order, then POST a QRIS payment for it. Each
    QRIS answer is appended to ``created``, and its order to ``orders``, at the same index."""
    order_body = json.dumps({"items": [{"menu_item_id": item_id, "quantity": 2}]}).encode()

    async def call(connection: Connection, _n: int) -> str:
        status, raw = await connection.request("POST", "/api/v1/orders", order_body, JSON)
        if status != 201:
            raise RuntimeError(f"order: {status} {raw[:100]!r}")
        order = json.loads(raw)
        qris = json.dumps({"order_id": order["id"], "amount": order["total_amount"]}).encode()
        proof = f"{JSON}X-Order-Token: {order['access_token']}\r\n"
        status, raw = await connection.request("POST", "/api/v1/payments/qris", qris, proof)
        if status != 201:
            raise RuntimeError(f"qris: {status} {raw[:100]!r}")
        if created is not None:
            created.append(json.loads(raw))
        if orders is not None:
            orders.append(order)
        return str(status)

    return call


# --- load generation ------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; answers must carry Content-Length (Starlette's do)."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: str = ""
    ) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self._port)
        assert self._reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self._port}\r\n"
            f"Content-Length: {len(body)}\r\n{headers}\r\n"
        )
        self._writer.write(head.encode() + body)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self._reader.readexactly(length) if length else b""

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


JSON = "Content-Type: application/json\r\n"

# A call gets the sender's connection and a sequence number; it returns a label for the
# answer (e.g. the webhook's outcome) or raises on a failure.
Call = Callable[[Connection, int], Awaitable[str]]


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    labels: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    note: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] * 1000


async def run_load(
    name: str, port: int, concurrency: int, total: int, call: Call, *, seconds: float = 1e9
) -> Result:
    """``total`` calls from ``concurrency`` senders, each on its own keep-alive connection;
    senders start no new call after ``seconds`` (keeps a run short on a slow machine)."""
    counter = itertools.count()
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    labels: dict[str, int] = {}
    errors = 0

    async def sender() -> None:
        nonlocal errors
        connection = Connection(port)
        try:
            while (n := next(counter)) < total and time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    label = await call(connection, n)
                except Exception as exc:
                    errors += 1
                    label = f"error: {type(exc).__name__}: {exc}"[:80]
                    connection.close()
                    connection = Connection(port)
                latencies.append(time.perf_counter() - started)
                labels[label] = labels.get(label, 0) + 1
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return Result(name, len(latencies), time.perf_counter() - started, latencies, labels, errors)


def bare_caller(body: bytes) -> Call:
    """POSTs ``body`` to the bare route."""

    async def call(connection: Connection, _n: int) -> str:
        status, _ = await connection.request("POST", "/bare", body, JSON)
        if status != 200:
            raise RuntimeError(f"bare route answered {status}")
        return "200"

    return call


def run_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """uvloop when installed, like uvicorn gives the servers."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


class CpuMeter:
    """CPU seconds used by groups of processes (Linux /proc), to show who the bottleneck is."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]]) -> None:
        self._groups = groups
        self._ticks = os.sysconf("SC_CLK_TCK")
        # Last reading per process, so one that exits (a pooled DB connection) still counts.
        self._seen: dict[tuple[str, int], float] = {}

    def sample(self) -> dict[str, float]:
        for name, pids in self._groups.items():
            for pid in pids():
                self._seen[name, pid] = self._cpu(pid)
        totals = dict.fromkeys(self._groups, 0.0)
        for (name, _), cpu in self._seen.items():
            totals[name] += cpu
        return totals

    def _cpu(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self._ticks  # utime + stime


def tree(process: subprocess.Popen[bytes] | int) -> Callable[[], list[int]]:
    """The process and its descendants (uvicorn workers are children)."""
    root = process if isinstance(process, int) else process.pid

    def pids() -> list[int]:
        found, frontier = [root], [root]
        while frontier:
            pid = frontier.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            found += map(int, children)
            frontier += map(int, children)
        return found

    return pids


def postgres_backends(database: str) -> Callable[[], list[int]]:
    """The server processes serving ``database`` (not other users of the same server)."""
    marker = f" {database} ".encode()

    def pids() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if marker in (entry / "cmdline").read_bytes():
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    return pids


def self_pids() -> list[int]:
    return [os.getpid()]


async def metered(meter: CpuMeter, load: Coroutine[Any, Any, Result]) -> Result:
    """Run a load and note the CPU milliseconds per request each process group used."""
    before = meter.sample()
    result = await load
    after = meter.sample()
    used = {name: (after[name] - before[name]) * 1000 / result.requests for name in after}
    result.note = "  ".join(f"{name} {ms:.2f}" for name, ms in used.items())
    return result


# --- output ---------------------------------------------------------------------------------


def print_table(results: Sequence[Result], unit: str = "req/s") -> None:
    width = max(len(r.name) for r in results) + 2
    print(f"{'':<{width}}{'n':>7}{unit:>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for r in results:
        print(
            f"{r.name:<{width}}{r.requests:>7}{r.rate:>10.0f}{r.percentile(50):>9.1f}"
            f"{r.percentile(99):>9.1f}{max(r.latencies) * 1000:>9.1f}{r.errors:>8}"
        )
    for r in results:
        print(f"  {r.name} answers: {dict(sorted(r.labels.items()))}")
    if any(r.note for r in results):
        print("CPU ms per request (all of the machine's processes in a group, 2 cores):")
        for r in results:
            if r.note:
                print(f"  {r.name:<{width}}{r.note}")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"
