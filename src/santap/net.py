"""Who the client is: Santap alone decides, trusting ``X-Forwarded-For`` only from the
proxies in ``TRUSTED_PROXIES``, whatever server runs the app.

An ASGI server may rewrite the peer address from ``X-Forwarded-For`` before the app sees it
(uvicorn does by default for requests from loopback, gunicorn's uvicorn worker likewise). Then
a forged header from any local process would become "the client". ``santap serve`` turns that
off; under another server, a peer address that is one of the request's own forwarded hops is
taken as such a rewrite and the client is :data:`UNVERIFIED`, which no allowlist admits and
which shares one login budget, and an error says how to turn the server's rewriting off."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import Request

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

UNVERIFIED = "unverified"
_SCOPE_KEY = "santap.client_ip"
_rewrite_reported = False


def client_ip(request: Request, trusted_proxies: Sequence[Network]) -> str:
    """The client's address, resolved once per request (the access log, the allowlist and
    the login limiter all ask)."""
    scope = request.scope
    cached: str | None = scope.get(_SCOPE_KEY)
    if cached is None:
        cached = scope[_SCOPE_KEY] = _resolve(request, trusted_proxies)
    return cached


def _resolve(request: Request, trusted_proxies: Sequence[Network]) -> str:
    peer = request.client.host if request.client else "unknown"
    hops = _forwarded_hops(request)
    if hops and peer in hops:
        _report_rewrite()
        return UNVERIFIED
    if not _is_trusted(peer, trusted_proxies):
        return peer  # an untrusted peer's X-Forwarded-For is ignored: anyone can send one
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def _forwarded_hops(request: Request) -> list[str]:
    hops: list[str] = []
    for value in request.headers.getlist("x-forwarded-for"):
        hops.extend(_host_only(hop.strip()) for hop in value.split(",") if hop.strip())
    return hops


def _host_only(hop: str) -> str:
    """``1.2.3.4:80`` and ``[::1]:80`` name a host with a port, as servers parse them."""
    if hop.startswith("["):
        return hop[1:].partition("]")[0]
    host, sep, port = hop.rpartition(":")
    if sep and port.isdigit() and "." in host:
        return host
    return hop


def _report_rewrite() -> None:
    global _rewrite_reported
    if _rewrite_reported:
        return
    _rewrite_reported = True
    logger.error(
        "the server rewrote the client address from X-Forwarded-For before Santap saw it; "
        "such requests are treated as coming from an unverified client. Santap decides "
        "this itself from TRUSTED_PROXIES: run `santap serve`, or start uvicorn with "
        "--no-proxy-headers (gunicorn: FORWARDED_ALLOW_IPS='' or --forwarded-allow-ips '')"
    )


@lru_cache(maxsize=4096)
def _parse(address: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _is_trusted(address: str, networks: Sequence[Network]) -> bool:
    ip = _parse(address)
    return ip is not None and any(ip in network for network in networks)


def ip_allowed(address: str, allowed: Sequence[Network]) -> bool:
    """True when no allowlist is configured, or the address is inside one of its networks."""
    return not allowed or _is_trusted(address, allowed)
