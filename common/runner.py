"""Runs one service process: settings from the environment, JSON logs, stop on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import TypeVar

from common.config import CommonSettings, ConfigError
from common.logging import configure_logging
from common.service import ServiceProcess, run_until_signalled

S = TypeVar("S", bound=CommonSettings)


def serve_service(
    name: str, settings_type: type[S], bootstrap: Callable[[S], ServiceProcess]
) -> None:
    try:
        settings = settings_type.from_env()
    except ConfigError as exc:
        sys.exit(f"{name}: configuration error: {exc}")
    configure_logging(name, settings.log_level)

    async def main() -> None:
        process = bootstrap(settings)
        await run_until_signalled(
            lambda: process.start(settings.bind_host, settings.port_of(name)), process.stop
        )

    try:
        asyncio.run(main())
    except ConfigError as exc:
        logging.getLogger(name).error("configuration error", extra={"error": str(exc)})
        sys.exit(f"{name}: configuration error: {exc}")
