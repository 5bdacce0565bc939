"""The processes that make up the system, in start order. `ticketing serve NAME` runs one;
`ticketing run` runs them all; the gateway's /healthz/deps reports on every gRPC one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str  # has main()
    grpc_service: str | None  # full name of its API, None for the gateway


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("auth", "svc_auth.__main__", "ticketing.auth.v1.AuthService"),
    ServiceSpec("tickets", "svc_tickets.__main__", "ticketing.tickets.v1.TicketsService"),
    ServiceSpec("orders", "svc_orders.__main__", "ticketing.orders.v1.OrdersService"),
    ServiceSpec("payments", "svc_payments.__main__", "ticketing.payments.v1.PaymentsService"),
    ServiceSpec(
        "expiration", "svc_expiration.__main__", "ticketing.expiration.v1.ExpirationService"
    ),
    ServiceSpec("insights", "svc_insights.__main__", "ticketing.insights.v1.InsightsService"),
    ServiceSpec("gateway", "gateway.__main__", None),
)

GRPC_SERVICES = tuple(s for s in SERVICES if s.grpc_service)


def spec(name: str) -> ServiceSpec:
    for s in SERVICES:
        if s.name == name:
            return s
    raise KeyError(name)
