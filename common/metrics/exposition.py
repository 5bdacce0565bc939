"""Serving the metrics: each gRPC service on a port of its own (`<SERVICE>_METRICS_PORT`), the
gateway on its admin port (GATEWAY_ADMIN_PORT) at /metrics.

The gateway with several workers (GATEWAY_WORKERS > 1) is several processes behind one port, and a
scrape reaches one of them: prometheus-client's multiprocess mode has every worker write its
values to files in PROMETHEUS_MULTIPROC_DIR, and whichever worker answers /metrics adds up all of
them. The supervisor prepares that directory before it starts the workers (the mode is chosen
when prometheus-client is first imported, from the environment the workers inherit).
"""

from __future__ import annotations

import errno
import glob
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    start_http_server,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from common.ports import PortInUse

MULTIPROC_DIR_VAR = "PROMETHEUS_MULTIPROC_DIR"


@dataclass
class MetricsServer:
    """A service's metrics endpoint: GET /metrics on `port`, served from a thread of its own, so
    a scrape never waits for the service's event loop (only the outbox collector asks it)."""

    server: WSGIServer
    port: int

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_metrics(host: str, port: int, setting: str) -> MetricsServer | None:
    """Starts the metrics endpoint; None when `port` is 0 (turned off)."""
    if not port:
        return None
    try:
        server, _thread = start_http_server(port, host)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(port, setting) from None
        raise
    return MetricsServer(server, server.server_port)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_DIR_VAR) or None


def exposition() -> bytes:
    """The text Prometheus scrapes, of this process or, in multiprocess mode, of every worker."""
    path = multiprocess_dir()
    if path is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)
    return generate_latest(registry)


CONTENT_TYPE = CONTENT_TYPE_LATEST


class MultiprocessDir:
    """The directory the gateway's workers share their values through, fresh for each start: values
    a previous run left would be added to this one's. Given (PROMETHEUS_MULTIPROC_DIR set), it is
    emptied of them; otherwise one is made under the temporary directory and removed on close."""

    def __init__(self) -> None:
        given = multiprocess_dir()
        self.owned = given is None
        self.path = Path(given or tempfile.mkdtemp(prefix="ticketing-metrics-"))
        self.path.mkdir(parents=True, exist_ok=True)
        for stale in self.path.glob("*.db"):
            stale.unlink(missing_ok=True)
        os.environ[MULTIPROC_DIR_VAR] = str(self.path)

    def close(self) -> None:
        if self.owned:
            shutil.rmtree(self.path, ignore_errors=True)


_LIVE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db$")


def forget_dead_workers() -> None:
    """Drops the live gauges (requests in flight) of workers that are gone: a worker killed in the
    middle of a request would otherwise count as in flight for ever. Called as a worker starts,
    which is when the supervisor has just replaced one."""
    path = multiprocess_dir()
    if path is None:
        return
    for name in glob.glob(os.path.join(path, "gauge_live*.db")):
        found = _LIVE_FILE.search(name)
        if found and not _alive(int(found.group(1))):
            mark_process_dead(int(found.group(1)), path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
