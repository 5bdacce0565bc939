"""`ticketing serve gateway`: the Starlette app under uvicorn, stopping gracefully on SIGTERM."""

from __future__ import annotations

import sys

import uvicorn

from common.config import ConfigError
from common.logging import configure_logging
from common.ports import PortInUse, listening_socket
from gateway.app import create_app
from gateway.config import GatewaySettings


def main() -> None:
    try:
        settings = GatewaySettings.from_env()
        app = create_app(settings)
    except ConfigError as exc:
        sys.exit(f"gateway: configuration error: {exc}")
    configure_logging("gateway", settings.log_level)
    # Bound here rather than by uvicorn, so a taken port is named by its setting.
    try:
        sock = listening_socket(settings.bind_host, settings.gateway_port, "GATEWAY_PORT")
    except PortInUse as exc:
        sys.exit(f"gateway: {exc}")
    config = uvicorn.Config(
        app,
        host=settings.bind_host,
        port=settings.gateway_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        proxy_headers=True,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE: the app's lifespan startup failed


if __name__ == "__main__":
    main()
