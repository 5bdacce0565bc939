"""The processes that make up the system, in start order. `ticketing serve NAME` runs one;
`ticketing run` runs them all; the gateway's /healthz/deps reports on every gRPC one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str  # has main()
    grpc_service: str | None  # full name of its API, None for the gateway
    # It consumes events from a queue of its name (`ticketing events dead|replay NAME`).
    consumes_events: bool = False
    # The pyproject extra it needs beyond the services' runtime (requirements.lock), if any. It
    # runs in an image built with it: the Dockerfile's target of that name, image
    # `ticketing-<extra>`; every other process runs the target `services`, image `ticketing`.
    extra: str | None = None


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("auth", "svc_auth.__main__", "ticketing.auth.v1.AuthService"),
    ServiceSpec(
        "tickets",
        "svc_tickets.__main__",
        "ticketing.tickets.v1.TicketsService",
        consumes_events=True,
    ),
    ServiceSpec(
        "orders", "svc_orders.__main__", "ticketing.orders.v1.OrdersService", consumes_events=True
    ),
    ServiceSpec(
        "payments",
        "svc_payments.__main__",
        "ticketing.payments.v1.PaymentsService",
        consumes_events=True,
    ),
    ServiceSpec(
        "expiration",
        "svc_expiration.__main__",
        "ticketing.expiration.v1.ExpirationService",
        consumes_events=True,
    ),
    ServiceSpec(
        "insights",
        "svc_insights.__main__",
        "ticketing.insights.v1.InsightsService",
        consumes_events=True,
        extra="insights",  # numpy, SciPy, DuckDB
    ),
    # Events (concerts, games) and their search; its listing summaries hear tickets' events.
    ServiceSpec(
        "catalogue",
        "svc_catalogue.__main__",
        "ticketing.catalogue.v1.CatalogueService",
        consumes_events=True,
    ),
    # Transactional e-mail: hears the events people are told about and sends the mail.
    ServiceSpec(
        "notifications",
        "svc_notifications.__main__",
        "ticketing.notifications.v1.NotificationsService",
        consumes_events=True,
    ),
    # How paid orders' seats reach their buyers (issue 22); its deliveries follow orders' events.
    ServiceSpec(
        "delivery",
        "svc_delivery.__main__",
        "ticketing.delivery.v1.DeliveryService",
        consumes_events=True,
    ),
    # Its ticket cache hears tickets' events.
    ServiceSpec("gateway", "gateway.__main__", None, consumes_events=True),
)

GRPC_SERVICES = tuple(s for s in SERVICES if s.grpc_service)
# Who may hold a service identity (common/service_identity.py): each process, and `cli`, an
# operator's tools (`ticketing service-token`, for grpcurl).
SERVICE_IDENTITIES = (*(s.name for s in SERVICES), "cli")
EVENT_CONSUMERS = tuple(s.name for s in SERVICES if s.consumes_events)


def spec(name: str) -> ServiceSpec:
    for s in SERVICES:
        if s.name == name:
            return s
    raise KeyError(name)
