"""gRPC channels to the services, and the one way the gateway calls them: with the caller's
token and the gateway's service token (common/service_identity.py) in the metadata, a deadline,
and failures turned back into `AppError`s."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import descriptor_pool

from common import tracing
from common.grpc_client import channel_options
from common.grpc_errors import from_rpc_error
from common.processes import GRPC_SERVICES
from common.service_identity import (
    GATEWAY,
    ServiceTokens,
    audience_of,
    has_private_key,
    tokens_from_settings,
)
from gateway.config import GatewaySettings
from ticketing.auth.v1 import auth_pb2_grpc
from ticketing.catalogue.v1 import catalogue_pb2_grpc
from ticketing.delivery.v1 import delivery_pb2_grpc
from ticketing.expiration.v1 import expiration_pb2_grpc
from ticketing.insights.v1 import insights_pb2_grpc
from ticketing.notifications.v1 import notifications_pb2_grpc
from ticketing.orders.v1 import orders_pb2_grpc
from ticketing.payments.v1 import payments_pb2_grpc
from ticketing.tickets.v1 import tickets_pb2_grpc

R = TypeVar("R")

# Methods that only read: sending one again changes nothing, so a call that found its service
# restarting (UNAVAILABLE: refused, reset, draining) is retried by gRPC itself within its
# deadline. Commands (CreateOrder, CreatePayment, SignUp...) are not: a second CreateTicket
# would list a second ticket. gRPC still retries any call that never reached a server.
_IDEMPOTENT_PREFIXES = ("Get", "List", "BatchGet")
_RETRY_POLICY = {
    "maxAttempts": 5,
    "initialBackoff": "0.1s",
    "maxBackoff": "1s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


def _method_config(service: str) -> list[dict[str, Any]]:
    """The retry policy for the read methods of `service`."""
    methods = descriptor_pool.Default().FindServiceByName(service).methods
    names = [
        {"service": service, "method": m.name}
        for m in methods
        if m.name.startswith(_IDEMPOTENT_PREFIXES)
    ]
    names.append({"service": "grpc.health.v1.Health", "method": "Check"})
    return [{"name": names, "retryPolicy": _RETRY_POLICY}]


def _channel_options(service: str) -> list[tuple[str, int | str]]:
    return [
        # Balanced per call (round_robin), the read methods retried: common/grpc_client.py.
        *channel_options(_method_config(service)),
        # A service that went away is dialled again after 0.1 s, then at most every second
        # (gRPC's default starts at 1 s and grows to 120 s): one that is back gets traffic within
        # a second, and until then calls fail fast or are retried, never queued for minutes.
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 1_000),
        ("grpc.enable_retries", 1),
        *_LARGE_MESSAGES.get(service, []),
    ]


# Delivery's e-ticket files travel in its messages (DeliverFiles, GetDeliveryFile): up to its
# DELIVERY_MAX_REQUEST_BYTES default, past gRPC's 4 MiB receive limit.
_LARGE_MESSAGES: dict[str, list[tuple[str, int | str]]] = {
    "delivery": [
        ("grpc.max_receive_message_length", 32 * 1024 * 1024),
        ("grpc.max_send_message_length", 32 * 1024 * 1024),
    ]
}


class ServiceClients:
    """Channels are opened on first use, inside the server's event loop (grpc.aio binds a
    channel to the loop it was created in)."""

    def __init__(self, settings: GatewaySettings, identity: ServiceTokens | None = None) -> None:
        # The gateway's service identity: given, or from its settings (create_app requires it).
        if identity is None and has_private_key(settings):
            identity = tokens_from_settings(GATEWAY, settings)
        self.identity = identity
        self.timeout = settings.rpc_timeout_seconds
        self.payment_timeout = settings.payment_rpc_timeout_seconds
        self.addresses = {spec.name: settings.addr_of(spec.name) for spec in GRPC_SERVICES}
        self.services = {spec.name: str(spec.grpc_service) for spec in GRPC_SERVICES}
        self._channels: dict[str, grpc.aio.Channel] = {}

    def channel(self, name: str) -> grpc.aio.Channel:
        if name not in self._channels:
            self._channels[name] = grpc.aio.insecure_channel(
                self.addresses[name], _channel_options(self.services[name])
            )
        return self._channels[name]

    def open(self) -> None:
        """Creates every channel now (they connect on first use), from the server's loop."""
        for name in self.addresses:
            self.channel(name)

    @property
    def is_open(self) -> bool:
        return self._channels.keys() == self.addresses.keys()

    @functools.cached_property
    def auth(self) -> auth_pb2_grpc.AuthServiceStub:
        return auth_pb2_grpc.AuthServiceStub(self.channel("auth"))

    @functools.cached_property
    def tickets(self) -> tickets_pb2_grpc.TicketsServiceStub:
        return tickets_pb2_grpc.TicketsServiceStub(self.channel("tickets"))

    @functools.cached_property
    def orders(self) -> orders_pb2_grpc.OrdersServiceStub:
        return orders_pb2_grpc.OrdersServiceStub(self.channel("orders"))

    @functools.cached_property
    def payments(self) -> payments_pb2_grpc.PaymentsServiceStub:
        return payments_pb2_grpc.PaymentsServiceStub(self.channel("payments"))

    @functools.cached_property
    def catalogue(self) -> catalogue_pb2_grpc.CatalogueServiceStub:
        return catalogue_pb2_grpc.CatalogueServiceStub(self.channel("catalogue"))

    @functools.cached_property
    def delivery(self) -> delivery_pb2_grpc.DeliveryServiceStub:
        return delivery_pb2_grpc.DeliveryServiceStub(self.channel("delivery"))

    @functools.cached_property
    def expiration(self) -> expiration_pb2_grpc.ExpirationServiceStub:
        return expiration_pb2_grpc.ExpirationServiceStub(self.channel("expiration"))

    @functools.cached_property
    def insights(self) -> insights_pb2_grpc.InsightsServiceStub:
        return insights_pb2_grpc.InsightsServiceStub(self.channel("insights"))

    @functools.cached_property
    def notifications(self) -> notifications_pb2_grpc.NotificationsServiceStub:
        # Its health only (/healthz/deps): no RPC of it admits the gateway.
        return notifications_pb2_grpc.NotificationsServiceStub(self.channel("notifications"))

    async def call(
        self,
        method: Callable[..., Awaitable[R]],
        request: Any,
        token: str | None = None,
        timeout: float | None = None,
    ) -> R:
        metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ()
        )
        if self.identity is not None:
            metadata = (
                *metadata,
                self.identity.metadata_for(audience_of(getattr(method, "_method", b""))),
            )
        with tracing.outgoing_call(method, metadata) as metadata:
            try:
                return await method(request, metadata=metadata, timeout=timeout or self.timeout)
            except grpc.aio.AioRpcError as exc:
                tracing.call_failed(exc.code())
                raise from_rpc_error(exc) from None

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
