"""`ticketing migrate [--dry-run]`: the one-off migration of the tickets stored before listings
of several seats (svc_tickets/service_layer/migration.py), run once per upgrade by an operator,
beside the running services: where the tickets database (MONGO_URL, TICKETING_NAMESPACE) and
the orders service (ORDERS_ADDR) are reachable, with the operators' `cli` service key
(SERVICE_PRIVATE_KEY(_FILE), else the key a `ticketing run` beside it made).

Prints one line per change (what it would change, with --dry-run, which writes nothing), then a
summary. Running it again changes nothing. Exit status: 0 done, 1 the database or the orders
service could not be reached, 2 the configuration is unusable."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from typing import TextIO

from common.clock import SystemClock
from common.config import CommonSettings
from common.errors import AppError
from common.grpc_client import ServiceChannel
from common.mongo import database_name, mongo_client
from common.retries import is_outage
from common.service_identity import CLI, tokens_from_settings
from common.settings import ConfigError
from svc_tickets.adapters.legacy import MongoLegacyListings
from svc_tickets.adapters.orders_statuses import GrpcOrderStatuses
from svc_tickets.adapters.unit_of_work import MongoTicketsUnitOfWork
from svc_tickets.bootstrap import NAME
from svc_tickets.service_layer.migration import MigrationReport, migrate

PROGRAM = "ticketing migrate"
ORDERS = "orders"


async def _migrate(settings: CommonSettings, dry_run: bool) -> MigrationReport:
    # Both settings read (ConfigError) before anything is opened.
    identity, url = tokens_from_settings(CLI, settings), settings.require_mongo_url()
    client = mongo_client(url)
    orders = ServiceChannel(settings.addr_of(ORDERS), identity=identity, audience=ORDERS)
    try:
        db = client[database_name(settings.namespace, NAME)]
        clock = SystemClock()
        return await migrate(
            MongoLegacyListings(db),
            GrpcOrderStatuses(orders),
            lambda: MongoTicketsUnitOfWork(client, db, NAME, clock),
            dry_run=dry_run,
        )
    finally:
        await orders.close()
        await client.close()


def run_migration(env: Mapping[str, str], dry_run: bool, out: TextIO = sys.stdout) -> int:
    err = sys.stderr
    try:
        settings = CommonSettings.from_env(env)
        report = asyncio.run(_migrate(settings, dry_run))
    except ConfigError as exc:
        print(f"{PROGRAM}: configuration error: {exc}", file=err)
        return 2
    except AppError as exc:  # the orders service refused or could not be reached
        print(
            f"{PROGRAM}: the orders service at {settings.addr_of(ORDERS)}: {exc.message}", file=err
        )
        return 1
    except Exception as exc:
        if not is_outage(exc):
            raise
        print(f"{PROGRAM}: cannot reach the tickets database: {exc}", file=err)
        return 1
    for line in report.lines:
        print(line, file=out)
    print(report.summary(), file=out)
    return 0
