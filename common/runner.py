"""Runs one service process: settings from the environment, JSON logs, stop on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import TypeVar

from common.config import CommonSettings, ConfigError
from common.logging import configure_logging
from common.ports import PortInUse, port_in_use_message, port_is_free
from common.service import ServiceProcess, run_until_signalled
from common.tracing import configure_tracing

S = TypeVar("S", bound=CommonSettings)


def serve_service(
    name: str, settings_type: type[S], bootstrap: Callable[[S], ServiceProcess]
) -> None:
    try:
        settings = settings_type.from_env()
    except ConfigError as exc:
        sys.exit(f"{name}: configuration error: {exc}")
    configure_logging(name, settings.log_level)
    configure_tracing(name, settings)
    port, port_setting = settings.port_of(name), f"{name.upper()}_PORT"
    # Said before connecting to anything; the bind itself says it again if the port is taken
    # in between.
    if port and not port_is_free(port, settings.bind_host):
        sys.exit(f"{name}: {port_in_use_message(port, port_setting)}")

    async def main() -> None:
        process = bootstrap(settings)

        async def start() -> None:
            try:
                await process.start(settings.bind_host, port)
            except PortInUse:
                await process.stop()
                raise

        await run_until_signalled(start, process.stop)

    try:
        asyncio.run(main())
    except PortInUse:
        sys.exit(f"{name}: {port_in_use_message(port, port_setting)}")
    except ConfigError as exc:
        logging.getLogger(name).error("configuration error", extra={"error": str(exc)})
        sys.exit(f"{name}: configuration error: {exc}")
