"""The README's story runs as written, in order, against a fresh ``santap serve``: on SQLite and
on PostgreSQL. Any answer outside 2xx/3xx must be one the text announces (``! curl ...`` then
``# → 4xx``); the figures the text shows for the report and the change are the ones served."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path

from tests.fixtures.database import _worker_database
from tests.fixtures.server import BIN, served, server_env

ROOT = Path(__file__).resolve().parents[1]
_STORY = re.compile(r"<!-- story:start -->(.*?)<!-- story:end -->", re.S)
_SH = re.compile(r"```sh\n(.*?)```", re.S)
_ANNOUNCED = re.compile(r"^# → ([45]\d\d)\b", re.M)
_SEEN = re.compile(r"^README-HTTP (\d{3}) (\S+) (\S+)$", re.M)


def story() -> str:
    found = _STORY.search((ROOT / "README.md").read_text())
    assert found, "the README has no story markers"
    return "\n".join(_SH.findall(found.group(1)))


def test_the_story_is_found_and_announces_its_refusals() -> None:
    script = story()
    assert script.count("```") == 0
    refusals = [line for line in script.splitlines() if line.startswith("! ")]
    assert len(refusals) == len(_ANNOUNCED.findall(script)) == 2
    assert "santap create-staff" in script
    assert "source .venv/bin/activate" in script


def _curl_that_reports(shim: Path) -> None:
    """A ``curl`` first on PATH that runs the real one and tells stderr each answer's status."""
    real = shutil.which("curl")
    assert real, "curl is needed to run the README"
    shim.mkdir()
    (shim / "curl").write_text(
        "#!/bin/sh\n"
        f'exec {real} -w "%{{stderr}}README-HTTP %{{http_code}} %{{method}} %{{url_effective}}\\n"'
        ' "$@"\n'
    )
    (shim / "curl").chmod(0o755)


def _database(tmp_path: Path, database_url: str) -> str:
    """A fresh database: the story's ids are a fresh database's (order 1, payment 1, ...)."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'story.db'}"  # santap serve migrates and seeds it
    url = asyncio.run(_worker_database(database_url, "story"))
    env = server_env(tmp_path, {"DATABASE_URL": url})
    for command in (["db", "upgrade"], ["seed-demo"]):  # as the README says for PostgreSQL
        subprocess.run([str(BIN / "santap"), *command], env=env, check=True, capture_output=True)
    return url


def _objects(output: str) -> list[dict[str, object]]:
    """The JSON objects the story printed (curl adds no newline, so some run together)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := output.find("{", at)) != -1:
        try:
            value, end = decoder.raw_decode(output, at)
        except json.JSONDecodeError:
            at += 1
            continue
        if isinstance(value, dict):
            found.append(value)
        at = end
    return found


def test_the_readme_story_runs_in_order(tmp_path: Path, database_url: str) -> None:
    database = _database(tmp_path, database_url)
    _curl_that_reports(tmp_path / "shim")
    clone = tmp_path / "clone"  # the clone's folder, as the story expects (its .venv)
    clone.mkdir()
    (clone / ".venv").symlink_to(ROOT / ".venv")
    with served(tmp_path, {"DATABASE_URL": database}) as server:
        env = server_env(tmp_path, {"DATABASE_URL": database, "API": server.url})
        env["PATH"] = f"{tmp_path / 'shim'}:{env['PATH']}"
        ran = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + story()],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert ran.returncode == 0, f"{ran.stdout[-3000:]}\n{ran.stderr[-3000:]}"

    seen = _SEEN.findall(ran.stderr)
    assert len(seen) > 25  # every request was counted
    refused = [(int(code), method, url) for code, method, url in seen if int(code) >= 400]
    announced = [int(code) for code in _ANNOUNCED.findall(story())]
    assert [code for code, _, _ in refused] == announced, refused

    answers = _objects(ran.stdout)
    [report] = [a for a in answers if "net" in a]
    assert (report["gross"], report["refunds"]["cash"], report["net"]) == (
        {"cash": 50000, "qris": 80000},
        25000,
        105000,
    )
    [cash] = [a for a in answers if "change" in a]
    assert (cash["payment_id"], cash["amount"], cash["change"]) == (2, 50000, 50000)
    assert list(clone.glob("santap-*.csv")), "the report's CSV was saved"
