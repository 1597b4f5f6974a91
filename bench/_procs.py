"""Subprocesses and databases for benchmarks and the chaos run.

Servers log to files (a full pipe would stall them); every process started here is waited
for after it is killed, so no zombie or ResourceWarning outlives a run."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import asyncpg
import httpx
from sqlalchemy.engine import make_url

# Runs the Typer app without relying on the `santap` script being on PATH.
SANTAP = (sys.executable, "-c", "from santap.cli import app; app()")
# Variables a developer's shell may set that must not leak into the processes of a run.
_OWN_PREFIXES = ("SANTAP_", "MIDTRANS_", "DATABASE_URL", "TEST_DATABASE_URL", "TRUSTED_PROXIES")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.update(values)
    return env


async def run_command(args: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path) -> None:
    """Run a short command to completion; its output goes to ``log``; non-zero exit raises."""

    def run() -> int:
        with log.open("ab") as out:
            return subprocess.run(
                list(args), env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT
            ).returncode

    code = await asyncio.to_thread(run)
    if code != 0:
        raise RuntimeError(f"{' '.join(args[-3:])} exited with {code}; see {log}")


class Server:
    """A long-running HTTP process that can be killed and started again on the same port."""

    def __init__(
        self, name: str, args: Sequence[str], *, env: Mapping[str, str], cwd: Path, port: int
    ) -> None:
        self.name, self.args, self.env, self.cwd, self.port = name, list(args), env, cwd, port
        self.log_path = cwd / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    async def start(self, *, ready_path: str, timeout_s: float = 30.0) -> None:
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            self.args, env=dict(self.env), cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT
        )
        await self._wait_ready(ready_path, timeout_s)

    async def kill(self) -> None:
        """SIGKILL: no shutdown hooks, open transactions and in-flight requests just vanish."""
        await self._stop(graceful=False)

    async def stop(self) -> None:
        await self._stop(graceful=True)

    async def _stop(self, *, graceful: bool) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None and graceful:
                process.terminate()
            elif process.poll() is None:
                process.kill()
            try:
                await asyncio.to_thread(process.wait, 10)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        if self._log is not None:
            self._log.close()
            self._log = None

    async def _wait_ready(self, path: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if not self.running:
                    break
                try:
                    if (await client.get(self.base_url + path)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        await self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{self.name} did not become ready on {self.port}:\n{tail}")


async def recreate_postgres_database(url: str) -> None:
    """Drop and create the database named in ``url`` by way of the server's `postgres` DB."""
    parsed = make_url(url)
    name = parsed.database
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"refusing to recreate database {name!r}")
    conn = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database="postgres",
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def with_database(url: str, name: str) -> str:
    """The same server and credentials as ``url``, another database."""
    rendered: str = make_url(url).set(database=name).render_as_string(hide_password=False)
    return rendered
