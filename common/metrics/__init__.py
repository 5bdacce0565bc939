"""Prometheus metrics (prometheus-client): the series every process exports (`series`, the one
catalogue), the outbox backlog read at scrape time (`outbox`), and serving them (`exposition`):
each gRPC service on `<SERVICE>_METRICS_PORT`, the gateway at /metrics on its admin port, its
workers adding up through prometheus-client's multiprocess mode.

The code records through the small functions and objects of `series`; nothing here connects to
anything at import time.
"""

from common.metrics import series
from common.metrics.exposition import (
    CONTENT_TYPE,
    MetricsServer,
    MultiprocessDir,
    exposition,
    forget_dead_workers,
    serve_metrics,
)

__all__ = [
    "CONTENT_TYPE",
    "MetricsServer",
    "MultiprocessDir",
    "exposition",
    "forget_dead_workers",
    "series",
    "serve_metrics",
]
