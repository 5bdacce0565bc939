"""Wires the catalogue service."""

from __future__ import annotations

from common.grpc_server import GrpcServer
from common.service import Infrastructure, ServiceProcess
from svc_catalogue.adapters.repository import ensure_indexes
from svc_catalogue.adapters.search_feed import MongoSearchFeed
from svc_catalogue.adapters.tantivy_index import TantivyEventIndex
from svc_catalogue.adapters.unit_of_work import MongoCatalogueUnitOfWork
from svc_catalogue.config import CatalogueSettings
from svc_catalogue.domain.search import EventSearchIndex
from svc_catalogue.entrypoints.access import ACCESS
from svc_catalogue.entrypoints.grpc_api import CatalogueServicer
from svc_catalogue.service_layer.handlers import CatalogueHandlers
from svc_catalogue.service_layer.imports import ImportHandlers
from svc_catalogue.service_layer.listing_summaries import ListingSummaryHandlers
from svc_catalogue.service_layer.search_sync import SearchSync
from ticketing.catalogue.v1 import catalogue_pb2, catalogue_pb2_grpc

NAME = "catalogue"


def search_index() -> EventSearchIndex:
    """The replica's search index: tantivy, in RAM (docs/design/marketplace.md, decision 4)."""
    return TantivyEventIndex()


def bootstrap(settings: CatalogueSettings) -> ServiceProcess:
    infra = Infrastructure.from_settings(NAME, settings)
    assert infra.db is not None
    db = infra.db
    uow = infra.unit_of_work(MongoCatalogueUnitOfWork)
    index = search_index()
    sync = SearchSync(MongoSearchFeed(db), index, settings.search_poll_seconds)
    handlers = CatalogueHandlers(uow=uow, clock=infra.clock, index=index, copies=sync.copies)
    server = GrpcServer(
        infra.verifier,
        settings.shutdown_grace_seconds,
        settings.grpc_max_connection_age_seconds,
        services=infra.services,
    )
    server.add(
        catalogue_pb2_grpc.add_CatalogueServiceServicer_to_server,
        CatalogueServicer(handlers, ImportHandlers(uow=uow, clock=infra.clock)),
        catalogue_pb2.DESCRIPTOR.services_by_name["CatalogueService"].full_name,
        ACCESS,
    )
    consumer = infra.consumer(ListingSummaryHandlers(uow).event_handlers)

    async def prepare() -> None:
        await ensure_indexes(db)
        # Before the gRPC server listens: the replica reports SERVING (its readiness) only with
        # a searchable index.
        await sync.build()

    return ServiceProcess(
        NAME,
        server,
        infra,
        consumers=[consumer],
        loops=[sync.run],
        on_start=[prepare],
    )
