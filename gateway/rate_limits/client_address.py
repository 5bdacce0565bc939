"""Who the client is, by address: the one authority for it in the gateway.

The peer of the connection, unless that peer is a trusted proxy (TRUSTED_PROXIES): then the
rightmost address in `X-Forwarded-For` that is not a trusted proxy, the last hop a proxy of ours
saw (anything to its left the client wrote itself). uvicorn's ProxyHeadersMiddleware does exactly
that; it runs inside the app, set from our setting, and uvicorn's own copy of it is off
(gateway/__main__.py), so FORWARDED_ALLOW_IPS and its default change nothing.

Rate limits key an IPv6 client by its /64: one host usually has the whole /64 to pick from.
"""

from __future__ import annotations

import hashlib
import ipaddress

from starlette.middleware import Middleware
from starlette.requests import HTTPConnection
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway.config import GatewaySettings

IPV6_CLIENT_PREFIX = 64


def trusted_proxies(settings: GatewaySettings) -> Middleware:
    networks = [str(network) for network in settings.trusted_proxy_networks()]
    return Middleware(ProxyHeadersMiddleware, trusted_hosts=networks)


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else ""


def address_key(address: str) -> str:
    """The rate-limit key of a client address: the address, an IPv6 one's /64, and anything that
    is not an address (a test client, a unix socket) hashed to a bounded length."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "other-" + hashlib.sha256(address.encode()).hexdigest()[:32]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        network = ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False)
        return str(network).replace("/", "_")
    return str(ip)
