"""The client's address, trusting ``X-Forwarded-For`` only from configured proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: Request, trusted_proxies: Sequence[Network]) -> str:
    """The peer address, or, when the peer is a trusted proxy, the nearest untrusted hop it
    forwarded for. An untrusted peer's ``X-Forwarded-For`` is ignored: anyone can send one."""
    peer = request.client.host if request.client else "unknown"
    if not _is_trusted(peer, trusted_proxies):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted_proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted_proxies)


def ip_allowed(address: str, allowed: Sequence[Network]) -> bool:
    """True when no allowlist is configured, or the address is inside one of its networks."""
    return not allowed or _is_trusted(address, allowed)
