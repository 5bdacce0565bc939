"""Which web origins may use the gateway from a browser with the user's cookie: its own (the
origin whose host is the request's Host) and those in CORS_ALLOWED_ORIGINS. The CORS middleware
(gateway/app.py) answers preflights for the listed ones; the GraphQL WebSocket checks a
handshake's Origin with `origin_allowed`."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from common.settings import ConfigError

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def normalized_origin(text: str) -> str | None:
    """`scheme://host[:port]` lower-cased, the default port dropped; None for anything else
    (a path, credentials, a query, another scheme, the opaque origin "null")."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6
    if port is not None and str(port) != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}"


def parse_origins(
    origins: Collection[str], setting: str = "CORS_ALLOWED_ORIGINS"
) -> tuple[str, ...]:
    """The configured origins, normalized; a malformed one is a ConfigError naming it."""
    parsed = []
    for origin in origins:
        normalized = normalized_origin(origin)
        if normalized is None:
            raise ConfigError(
                f"{setting} must be origins like https://app.example.com (scheme, host and port"
                f" only), comma-separated; got {origin!r}"
            )
        parsed.append(normalized)
    return tuple(dict.fromkeys(parsed))


def _host_of(origin: str) -> str:
    """host[:port] of a normalized origin, as a Host header names it."""
    return origin.split("://", 1)[1]


def origin_allowed(
    origin: str | None, request_host: str | None, allowed: Collection[str] = ()
) -> bool:
    """Whether a request that says it comes from `origin` may go on with the user's cookie.

    No Origin: not a cross-origin request from a browser (browsers send it on every cross-origin
    request and WebSocket handshake), so allowed. Otherwise allowed when it is the gateway's own
    (its host and port are the request's Host header) or one of `allowed` (normalized, as
    GatewaySettings.cors_allowed_origins holds them).
    """
    if origin is None:
        return True
    normalized = normalized_origin(origin)
    if normalized is None:
        return False  # "null" (a sandboxed frame, a file: page) or garbage
    if normalized in allowed:
        return True
    if not request_host:
        return False
    host = request_host.strip().lower()
    scheme = normalized.split("://", 1)[0]
    default = f":{_DEFAULT_PORTS[scheme]}"
    if host.endswith(default):
        host = host.removesuffix(default)
    return _host_of(normalized) == host
