"""A catalogue gRPC server as `ticketing serve` runs it for searches, without its databases: the
real GrpcServer (interceptor: service token, tracing with sampling off, metrics, the JSON access
line on stderr), CatalogueServicer and tantivy index over the bench's generated catalogue, every
event in the replica's copy (as the search sync keeps it), so a search reads no MongoDB.

`python -m bench.callcost.server KEYS_DIR PORT [EVENTS]`: generates the service keys into
KEYS_DIR if absent, prints `READY <pid>` on stdout once serving."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from bench.search.catalogue import CatalogueSpec, documents, generate
from bench.search.seeding import import_rows
from common import tracing
from common.clock import SystemClock
from common.grpc_server import GrpcServer
from common.jwt import Claims, TokenVerifier, generate_key_pair
from common.logging import configure_logging
from common.service_identity import generate_keys, verifier_from
from svc_catalogue.adapters.tantivy_index import TantivyEventIndex
from svc_catalogue.domain.listings import ListingSummary
from svc_catalogue.domain.model import Event
from svc_catalogue.entrypoints.access import ACCESS
from svc_catalogue.entrypoints.grpc_api import CatalogueServicer
from svc_catalogue.entrypoints.proto_mapping import import_row
from svc_catalogue.service_layer.handlers import CatalogueHandlers
from svc_catalogue.service_layer.imports import ImportHandlers, row_details
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.catalogue.v1 import catalogue_pb2_grpc

SERVICE = pb.DESCRIPTOR.services_by_name["CatalogueService"].full_name


class NoRevocations:
    """SearchEvents acts for no user: no user token is checked."""

    async def is_revoked(self, claims: Claims) -> bool:
        return False


def copies_of(events: int) -> dict[str, Event]:
    """The generated catalogue's events, each with its listings' summary."""
    catalogue = generate(CatalogueSpec(events=events, listings=events * 10))
    docs = {doc.event_id: doc for doc in documents(catalogue)}
    now = datetime.now(UTC)
    copies = {}
    for row in import_rows(catalogue):
        ref = row["external_ref"]
        event = Event.create(ref, row_details(import_row(pb.ImportRow(**row))), now, ref)
        doc = docs[ref]
        summary = ListingSummary(doc.lowest_price, doc.currency_code, doc.tickets_for_sale)
        copies[ref] = event.with_summary(summary)
        copies[ref].events.clear()
    return copies


async def serve(keys: Path, port: int, events: int) -> None:
    configure_logging("catalogue", "INFO")
    tracing.install(TracerProvider(sampler=ALWAYS_OFF), trace_mongo=False)  # no OTLP endpoint
    generate_keys(keys)
    copies = copies_of(events)
    index = TantivyEventIndex()
    index.upsert([event.search_document() for event in copies.values()])
    index.refresh()
    clock = SystemClock()
    handlers = CatalogueHandlers(uow=None, clock=clock, index=index, copies=copies)  # type: ignore[arg-type]
    server = GrpcServer(
        TokenVerifier(generate_key_pair()[1], NoRevocations()),
        grace_seconds=0,
        max_connection_age_seconds=3600,
        services=verifier_from("catalogue", str(keys / "public")),
    )
    servicer = CatalogueServicer(handlers, ImportHandlers(uow=None, clock=clock))  # type: ignore[arg-type]
    server.add(catalogue_pb2_grpc.add_CatalogueServiceServicer_to_server, servicer, SERVICE, ACCESS)
    await server.start("127.0.0.1", port)
    print(f"READY {os.getpid()}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    keys_dir, port_text, *rest = sys.argv[1:]
    asyncio.run(serve(Path(keys_dir), int(port_text), int(rest[0]) if rest else 10_000))
