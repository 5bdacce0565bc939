"""Runs one service process: settings from the environment, JSON logs, stop on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import TypeVar

from common.config import CommonSettings
from common.logging import configure_logging
from common.metrics import MetricsServer, serve_metrics
from common.ports import PortInUse, port_in_use_message, port_is_free
from common.service import ServiceProcess, run_until_signalled
from common.settings import ConfigError
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
    metrics_port = settings.metrics_port_of(name)
    metrics_setting = f"{name.upper()}_METRICS_PORT"
    # Said before connecting to anything; the bind itself says it again if the port is taken
    # in between.
    for taken, setting in ((port, port_setting), (metrics_port, metrics_setting)):
        if taken and not port_is_free(taken, settings.bind_host):
            sys.exit(f"{name}: {port_in_use_message(taken, setting)}")

    async def main() -> None:
        process = bootstrap(settings)
        metrics: MetricsServer | None = None

        async def start() -> None:
            nonlocal metrics
            try:
                metrics = serve_metrics(settings.bind_host, metrics_port, metrics_setting)
                await process.start(settings.bind_host, port)
            except PortInUse:
                await stop()
                raise

        async def stop() -> None:
            await process.stop()
            if metrics is not None:
                await asyncio.to_thread(metrics.close)  # waits for its thread's poll (0.5 s)

        await run_until_signalled(start, stop)

    try:
        asyncio.run(main())
    except PortInUse as exc:
        sys.exit(f"{name}: {port_in_use_message(exc.port, exc.setting or port_setting)}")
    except ConfigError as exc:
        logging.getLogger(name).error("configuration error", extra={"error": str(exc)})
        sys.exit(f"{name}: configuration error: {exc}")
