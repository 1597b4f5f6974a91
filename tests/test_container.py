"""The container files keep their promises without Docker: compose.yaml (read with PyYAML,
its ``${VAR:-default}`` defaults applied), deploy/Caddyfile, the Dockerfile and .dockerignore.
CI also runs ``docker compose config`` where Docker Compose is installed, and `make lint` runs
hadolint on the Dockerfile."""

from __future__ import annotations

import ipaddress
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from santap.config import Settings

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "santap:local"
_VARIABLE = re.compile(r"\$\{(\w+)(:?[-?])([^}]*)\}")


def _defaults(value: Any) -> Any:
    """Compose's interpolation with nothing set: ``${X:-d}`` and ``${X-d}`` give d, and a
    required ``${X:?message}`` gives a stand-in."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: m[3] if m[2].endswith("-") else f"<{m[1]}>", value)
    if isinstance(value, list):
        return [_defaults(item) for item in value]
    if isinstance(value, dict):
        return {key: _defaults(item) for key, item in value.items()}
    return value


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = _defaults(yaml.safe_load((ROOT / "compose.yaml").read_text()))
    return loaded


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def _replicas(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Santap's image with its own command: `santap serve`."""
    return {
        name: service
        for name, service in _services(compose).items()
        if service.get("image") == IMAGE and "command" not in service
    }


def _proxy_address(compose: dict[str, Any]) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(_services(compose)["proxy"]["networks"]["santap"]["ipv4_address"])


def test_two_replicas_start_only_after_the_one_shot_migration(compose: dict[str, Any]) -> None:
    replicas = _replicas(compose)
    assert len(replicas) == 2
    migrate = _services(compose)["migrate"]
    assert migrate["command"] == ["santap", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    for replica in replicas.values():
        assert replica["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert replica["environment"] == migrate["environment"]


def test_the_proxy_is_the_only_published_port_and_the_only_trusted_proxy(
    compose: dict[str, Any],
) -> None:
    published = {name for name, service in _services(compose).items() if "ports" in service}
    assert published == {"proxy"}
    [subnet] = [
        ipaddress.IPv4Network(c["subnet"]) for c in compose["networks"]["santap"]["ipam"]["config"]
    ]
    proxy = _proxy_address(compose)
    assert proxy in subnet
    for replica in _replicas(compose).values():
        assert replica["environment"]["TRUSTED_PROXIES"] == f"{proxy}/32"


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name in ("db", "simulator", "proxy"):
        assert services[name]["healthcheck"]["test"], name
    # The replicas use the image's own HEALTHCHECK on /ready; the proxy waits for it.
    [(_, healthcheck)] = [(op, arg) for op, arg in _instructions() if op == "HEALTHCHECK"]
    assert "/ready" in healthcheck
    for name in _replicas(compose):
        assert services["proxy"]["depends_on"][name]["condition"] == "service_healthy"
    assert services["migrate"]["healthcheck"] == {"disable": True}
    [volume] = services["db"]["volumes"]
    assert volume.split(":")[0] in compose["volumes"]  # a named volume, not a bind mount


def test_the_replicas_settings_are_valid_and_use_the_standalone_simulator(
    compose: dict[str, Any],
) -> None:
    [environment, *_] = [replica["environment"] for replica in _replicas(compose).values()]
    values = {**environment, "SANTAP_SECRET_KEY": "x" * 48}
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    assert not settings.simulator_mode  # one simulator for both replicas, not one inside each
    simulator = _services(compose)["simulator"]
    port = next(arg for arg in simulator["command"] if arg.startswith("--port=")).split("=")[1]
    assert settings.snap_base_url == settings.core_base_url == f"http://simulator:{port}"
    assert settings.trusted_proxies == [ipaddress.IPv4Network(f"{_proxy_address(compose)}/32")]
    # Production refuses the simulator's published key, so the default must not be production.
    with pytest.raises(ValidationError, match="known placeholder"):
        Settings(_env_file=None, **{**values, "SANTAP_ENV": "production"})  # type: ignore[call-arg]
    assert "environment" not in simulator  # never handed a real MIDTRANS_SERVER_KEY


def test_the_caddyfile_proxies_to_both_replicas_and_sets_x_forwarded_for(
    compose: dict[str, Any],
) -> None:
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert any(
        volume.startswith("./deploy/Caddyfile:")
        for volume in _services(compose)["proxy"]["volumes"]
    )
    upstreams = re.findall(r"^\s*reverse_proxy (santap\S+) (santap\S+) \{", caddyfile, re.MULTILINE)
    assert upstreams == [tuple(f"{name}:8000" for name in _replicas(compose))]
    assert re.search(r"^\s*header_up X-Forwarded-For \{remote_host\}$", caddyfile, re.MULTILINE)


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", _dockerfile())
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_image_is_multi_stage_hash_checked_and_not_root() -> None:
    instructions = _instructions()
    assert sum(1 for op, _ in instructions if op == "FROM") >= 2
    runs = [shlex.split(arg) for op, arg in instructions if op == "RUN"]
    lock_install = next(run for run in runs if "requirements.lock" in run)
    assert "--require-hashes" in lock_install
    project_install = next(run for run in runs if run[-1] in (".", "./"))
    assert "--no-deps" in project_install
    [*_, (_, user)] = [(op, arg) for op, arg in instructions if op == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    [(_, command)] = [(op, arg) for op, arg in instructions if op == "CMD"]
    assert "serve" in command
    assert "upgrade" not in command  # migrations are their own step


def test_the_build_context_holds_what_the_image_copies_and_no_secrets() -> None:
    ignored = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and line[0] != "#"
    ]
    assert ignored[0] == "*"  # everything is left out unless listed
    allowed = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    copied = {
        source.rstrip("/")
        for op, arg in _instructions()
        if op == "COPY" and not arg.startswith("--from")
        for source in arg.split()[:-1]
    }
    assert copied == allowed
    assert not allowed & {".env", ".git", ".venv"}
