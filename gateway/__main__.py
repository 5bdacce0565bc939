"""`ticketing serve gateway`: the Starlette app under uvicorn, stopping gracefully on SIGTERM."""

from __future__ import annotations

import sys

import uvicorn

from common.config import ConfigError
from common.logging import configure_logging
from gateway.app import create_app
from gateway.config import GatewaySettings


def main() -> None:
    try:
        settings = GatewaySettings.from_env()
        app = create_app(settings)
    except ConfigError as exc:
        sys.exit(f"gateway: configuration error: {exc}")
    configure_logging("gateway", settings.log_level)
    uvicorn.run(
        app,
        host=settings.bind_host,
        port=settings.gateway_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
