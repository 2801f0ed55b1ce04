"""The client's network address, for per-address sign-in limits (catalog A20).

``X-Forwarded-For`` is a list to which each proxy appends the address it received the request
from; the client can write anything before the first proxy sees it. So only hops appended by
proxies named in ``TOKENPATH_TRUSTED_PROXIES`` are believed: starting from the TCP peer, walk
the list from the right while the current address is a trusted proxy; the first address that is
not one is the client (the "rightmost untrusted hop"). With no trusted proxies the header is
ignored entirely and the peer is the client. A malformed hop stops the walk at the proxy that
passed it on, so garbage can only make clients share that proxy's bucket, never escape it.

IPv6 clients are grouped by their /64: one subscriber usually holds a whole /64, and per-address
buckets must not be escapable by picking another address from it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from starlette.requests import Request

__all__ = ["Network", "client_address", "forwarded_client", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """IPs and CIDRs (``10.0.0.1``, ``10.0.0.0/8``, ``::1``); a ValueError names a bad one."""
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _address(value: str | None) -> Address | None:
    if value is None:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forwarded_client(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> Address | None:
    """The rightmost address that is not a trusted proxy (None when the peer is not an IP)."""
    address = _address(peer)
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    while address is not None and hops and any(address in net for net in trusted):
        hop = _address(hops.pop())
        if hop is None:
            break
        address = hop
    return address


def client_address(request: Request, trusted: tuple[Network, ...]) -> str | None:
    """The bucket name of the request's client: its IPv4 address or its IPv6 /64."""
    client = request.scope.get("client")  # (host, port); cheaper than ``request.client``
    peer = client[0] if client else None
    forwarded = tuple(request.headers.getlist("x-forwarded-for")) if trusted else ()
    return _bucket(peer, forwarded, trusted)


@lru_cache(maxsize=4096)
def _bucket(
    peer: str | None, forwarded: tuple[str, ...], trusted: tuple[Network, ...]
) -> str | None:
    """Memoised: every request asks, and parsing addresses cost more than the rest of a
    client-credentials grant's web layer (measured in ``bench/``); bounded, so varied
    ``X-Forwarded-For`` values only evict older entries."""
    address = forwarded_client(peer, forwarded, trusted)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
