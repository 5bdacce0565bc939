"""The settings `ticketing run` gives its processes where the environment says nothing: those of
one developer's machine, not of a deployment (docker compose and Kubernetes keep every
production default).

Limits: every client of a stack on a laptop is 127.0.0.1, so a limit per client address is one
limit for everyone: ten sign-ups an hour and the developer (their browser, the tests, a script)
is locked out. Those limits are off here; the ones per account, device, user and visitor (auth's
sign-in throttling among them), which still tell clients apart, keep their production values.
Each is printed in the ready banner.
"""

from __future__ import annotations

from collections.abc import Mapping


def address_limits() -> list[str]:
    """The settings of every limit per client address: each per-address rate limit's
    <NAME>_LIMIT, and the open WebSockets per address (0 turns each off)."""
    from gateway.config import RATE_LIMITS

    names = [f"{name.upper()}_LIMIT" for name in RATE_LIMITS if name.endswith("_address")]
    return [*names, "SUBSCRIPTION_CONNECTIONS_PER_ADDRESS"]


def dev_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ`, with the development defaults for what it leaves unset."""
    env = dict(environ)
    env.setdefault("BIND_HOST", "127.0.0.1")
    env.setdefault("COOKIE_SECURE", "false")  # plain http on localhost
    # GraphiQL on http://localhost:8000/graphql, with the schema in its docs pane.
    env.setdefault("GRAPHQL_INTROSPECTION", "true")
    env.setdefault("GRAPHQL_IDE", "true")
    env.setdefault("PYTHONUNBUFFERED", "1")
    # One gateway process: the gateway and the five services take 440-530 MiB after load, and
    # a second gateway worker adds ~130 MiB (itself, its supervisor and multiprocessing's
    # resource tracker), past the 600 MiB a laptop should spare. GATEWAY_WORKERS=0: one per CPU.
    env.setdefault("GATEWAY_WORKERS", "1")
    for name in address_limits():
        env.setdefault(name, "0")
    return env


_WHAT = {"signin": "sign-in", "signup": "sign-up", "graphql": "GraphQL"}


def limits_banner(env: Mapping[str, str]) -> str:
    """The limits the gateway and auth run with, as the ready banner says them: `sign-in per
    account 10/900s, sign-in per device 10/900s, ..., sign-up per address off, ...`."""
    from gateway.config import RATE_LIMITS, GatewaySettings
    from svc_auth.config import SIGNIN_LIMITS, AuthSettings

    settings = GatewaySettings.from_env(env)
    auth = AuthSettings.from_env(env)
    parts = []
    for owner, names in ((auth, SIGNIN_LIMITS), (settings, RATE_LIMITS)):
        for name in names:
            what, per = name.split("_", 1)
            limit = getattr(owner, f"{name}_limit")
            window = getattr(owner, f"{name}_window_seconds")
            rate = f"{limit}/{window}s" if limit else "off"
            parts.append(f"{_WHAT[what]} per {per} {rate}")
    sockets = settings.subscription_connections_per_address
    parts.append(f"WebSockets per address {sockets or 'off'}")
    return ", ".join(parts) + " (every client here is 127.0.0.1; docs/limits.md)"
