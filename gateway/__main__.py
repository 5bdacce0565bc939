"""`ticketing serve gateway`: the Starlette app under uvicorn, stopping gracefully on SIGTERM, on
two ports: the public one (GATEWAY_PORT) and the admin one (GATEWAY_ADMIN_PORT: probes, /metrics).

With GATEWAY_WORKERS above one (by default: one per CPU the pod may use) this process binds the
ports and supervises that many worker processes serving it (uvicorn's Multiprocess: a worker that
dies is replaced). SIGTERM reaches the supervisor, which passes it on to every worker; each lets
its in-flight requests finish within SHUTDOWN_GRACE_SECONDS, as a single process does. The workers
share their metrics through files in PROMETHEUS_MULTIPROC_DIR (a fresh temporary directory unless
it is set), so /metrics, whichever worker answers it, counts the requests of all of them.
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing
import os
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from common.logging import configure_logging
from common.metrics import MultiprocessDir, forget_dead_workers
from common.parent_death import die_with_parent
from common.ports import PortInUse, listening_socket
from common.settings import ConfigError
from common.tracing import configure_tracing
from gateway.config import GatewaySettings
from gateway.edge import EdgeWebSocketProtocol, http_protocol

log = logging.getLogger("gateway")


def _server_config(settings: GatewaySettings, app: Any, workers: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        workers=workers,
        host=settings.bind_host,
        port=settings.gateway_port,
        # The C event loop and HTTP parser (less CPU per request than asyncio's and h11), the
        # parser's protocol with our timeouts and per-address cap (gateway/edge.py).
        loop="uvloop",
        http=http_protocol(settings),
        timeout_keep_alive=settings.http_keepalive_seconds,
        log_config=None,
        access_log=False,
        # Whole seconds for uvicorn, rounded up: 0.5 must not become 0, which cuts off at once.
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
        # The client address is the app's to decide, from TRUSTED_PROXIES
        # (gateway/rate_limits/client_address.py), not uvicorn's FORWARDED_ALLOW_IPS.
        proxy_headers=False,
        # Subscriptions (graphql-transport-ws on /graphql): websockets' sans-I/O protocol. A
        # client message over SUBSCRIPTION_MAX_MESSAGE_BYTES is closed with 1009; pings keep
        # proxies from closing a quiet connection and find dead peers; no per-message
        # compression (messages are small, and each connection would keep its own zlib state,
        # ~300 KiB).
        # Denial responses log no ERROR (gateway/websocket_protocol.py); a WebSocket holds its
        # client address's place until it ends (gateway/edge.py).
        ws=EdgeWebSocketProtocol,
        ws_max_size=settings.subscription_max_message_bytes,
        ws_ping_interval=settings.subscription_ping_seconds,
        ws_ping_timeout=settings.subscription_ping_seconds,
        ws_per_message_deflate=False,
    )


def freeze_startup_heap() -> None:
    """Leaves what the process holds once its app is made out of the cyclic garbage collector
    from then on: the modules, the schema, the generated messages (nearly all of the heap) live
    as long as the process, yet every full collection walked them all again: a pause of every
    request in flight (bench/README.md, "Gateway cost per search": p99 of a search). Reference
    counting still frees them; only cycles among them would now outlive their use."""
    gc.collect()  # the garbage of start-up, not to be frozen with the rest
    gc.freeze()


def worker_app() -> Any:
    """The app of one worker process (uvicorn calls it there, by its import string)."""
    # A worker must not outlive its supervisor: it would keep the port, and a restarted gateway
    # could not bind it. Linux SIGTERMs it when the supervisor dies, even by SIGKILL.
    die_with_parent()
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        sys.exit(STARTUP_FAILURE)  # it died before we asked
    # A worker that cannot start exits as uvicorn's STARTUP_FAILURE: every worker would fail
    # alike, and that code stops the supervisor instead of having it restart workers for ever.
    try:
        settings = GatewaySettings.from_env()
        configure_logging("gateway", settings.log_level)
        forget_dead_workers()
        configure_tracing("gateway", settings)
        from gateway.app import create_app

        app = create_app(settings)
        freeze_startup_heap()
        return app
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        sys.exit(STARTUP_FAILURE)
    except Exception:
        log.exception("the gateway cannot start")
        sys.exit(STARTUP_FAILURE)


def main() -> None:
    try:
        settings = GatewaySettings.from_env()
        # Every call to a service carries the gateway's service token: its key is required.
        settings.service_private_key_of("gateway")
        workers = settings.workers()
        # Several workers: each one makes the app (uvicorn imports it there by this string).
        app: Any = "gateway.__main__:worker_app"
        if workers == 1:  # one process: made here, so a bad setting is reported as such
            from gateway.app import create_app

            app = create_app(settings)
            freeze_startup_heap()
    except ConfigError as exc:
        sys.exit(f"gateway: configuration error: {exc}")
    configure_logging("gateway", settings.log_level)
    # Bound here rather than by uvicorn, so a taken port is named by its setting. Every worker
    # serves both sockets; the app tells them apart by port (gateway/admin.py).
    try:
        sockets = [
            listening_socket(settings.bind_host, settings.gateway_port, "GATEWAY_PORT"),
            listening_socket(settings.bind_host, settings.gateway_admin_port, "GATEWAY_ADMIN_PORT"),
        ]
    except PortInUse as exc:
        sys.exit(f"gateway: {exc}")
    config = _server_config(settings, app, workers)
    if workers == 1:
        configure_tracing("gateway", settings)  # several: each worker configures its own
        server = uvicorn.Server(config)
        server.run(sockets=sockets)
        if not server.started:
            sys.exit(STARTUP_FAILURE)  # the app's lifespan startup failed
        return
    log.info("starting %d workers", workers)
    metrics_dir = MultiprocessDir()  # before the workers start: they inherit it
    try:
        supervisor = Multiprocess(config, sockets=sockets)
        supervisor.run()
    finally:
        metrics_dir.close()
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        sys.exit(STARTUP_FAILURE)


if __name__ == "__main__":
    main()
