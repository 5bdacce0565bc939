"""The gRPC server every service runs: its servicers plus the standard health and reflection
services, one interceptor that authenticates the caller (the calling service's token against
the RPC's access table, and the user's token), maps `AppError`s to statuses (and a
dependency that is down to UNAVAILABLE) and logs each call, and a graceful stop (health goes
NOT_SERVING, in-flight calls get a grace period)."""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from common import tracing
from common.errors import AppError, Unauthenticated
from common.grpc_errors import grpc_status_of, to_grpc_status
from common.jwt import Claims, TokenVerifier, bearer_token
from common.metrics import series
from common.outages import dependency_unavailable
from common.ports import PortInUse, port_is_free
from common.retries import is_outage
from common.service_identity import (
    METADATA_KEY,
    Access,
    ServiceTokenVerifier,
    check_table,
    set_current_service,
)

log = logging.getLogger(__name__)

_caller: contextvars.ContextVar[Claims | AppError | None] = contextvars.ContextVar(
    "caller", default=None
)


def current_user() -> Claims:
    """The verified caller of this RPC; UNAUTHENTICATED without a valid token."""
    caller = _caller.get()
    if isinstance(caller, Claims):
        return caller
    if isinstance(caller, AppError):
        raise caller
    raise Unauthenticated("Authentication required")


def _code_name(code: Any) -> str:
    """The status an RPC ended with (None: the handler returned, OK)."""
    if code is None:
        return "OK"
    return code.name if isinstance(code, grpc.StatusCode) else str(code)


# Statuses that are the server's failure rather than the caller's (OpenTelemetry's convention).
_OUR_FAULTS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        verifier: TokenVerifier | None,
        services: ServiceTokenVerifier | None = None,
        policies: Mapping[str, Access] | None = None,
    ) -> None:
        self.verifier = verifier
        self.services = services
        # Access per method path (/ticketing.tickets.v1.TicketsService/GetTicket); a method
        # without one (a test's servicer, health, reflection) checks no calling service.
        self.policies: Mapping[str, Access] = policies if policies is not None else {}

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        if method.startswith(("/grpc.health.", "/grpc.reflection.")):
            return handler
        inner = handler.unary_unary
        verifier = self.verifier
        policy = self.policies.get(method)
        services = self.services
        metadata = dict(handler_call_details.invocation_metadata or ())

        async def behaviour(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            outcome = "OK"
            service, refused = _calling_service(services, metadata.get(METADATA_KEY))
            set_current_service(service)
            try:
                # The calling service first: a caller it refuses costs no user-token check (a
                # Redis read).
                if policy is not None:
                    if refused is not None:
                        raise refused
                    policy.check(service)
                token = bearer_token(metadata.get("authorization"))
                if token is not None and verifier is not None:
                    try:
                        _caller.set(await verifier.verify(token))
                    except AppError as exc:
                        _caller.set(exc)
                if policy is not None and policy.user:
                    current_user()
                return await inner(request, context)
            except AppError as exc:
                outcome = exc.code.value
                status = grpc_status_of(exc)
                tracing.rpc_failed(status, server_fault=status in _OUR_FAULTS)
                await context.abort_with_status(to_grpc_status(exc))
            except grpc.aio.AbortError:
                outcome = "ABORTED_BY_HANDLER"
                raise
            except Exception as exc:
                if is_outage(exc):
                    # A dependency down or reconnecting, or a conflict that outlasted the
                    # retries: the caller may try again; it is not a bug.
                    outcome = "UNAVAILABLE"
                    tracing.rpc_failed(grpc.StatusCode.UNAVAILABLE, server_fault=True)
                    log.warning(
                        "dependency unavailable", extra={"method": method, "error": repr(exc)}
                    )
                    await context.abort_with_status(to_grpc_status(dependency_unavailable()))
                outcome = "INTERNAL"
                tracing.rpc_failed(grpc.StatusCode.INTERNAL, server_fault=True)
                log.exception("unhandled error", extra={"method": method})
                await context.abort(grpc.StatusCode.INTERNAL, "Internal server error")
            finally:
                elapsed = time.perf_counter() - started
                series.rpc_handled(method, _code_name(context.code()), elapsed)
                log.info(
                    "rpc",
                    extra={
                        "method": method,
                        "outcome": outcome,
                        "ms": round(elapsed * 1000, 1),
                        "caller": service,
                    },
                )

        async def traced(request: Any, context: grpc.aio.ServicerContext) -> Any:
            # In the call's span (the caller's trace): its log lines carry the trace id.
            with tracing.incoming_call(method, metadata):
                return await behaviour(request, context)

        return grpc.unary_unary_rpc_method_handler(
            traced,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _calling_service(
    services: ServiceTokenVerifier | None, token: object
) -> tuple[str | None, AppError | None]:
    """The verified calling service of a call, or the reason its token was refused."""
    if services is None or not isinstance(token, str) or not token:
        return None, None
    try:
        return services.verify(token), None
    except AppError as exc:
        return None, exc


# How long a connection closed for its age may keep its calls in flight: longer than the longest
# deadline a caller gives (the gateway's createPayment, 45 s). New calls go to a new connection
# at once; this only lets the old one finish.
MAX_CONNECTION_AGE_GRACE_SECONDS = 60.0


class GrpcServer:
    def __init__(
        self,
        verifier: TokenVerifier | None,
        grace_seconds: float = 10.0,
        max_connection_age_seconds: float = 30.0,
        services: ServiceTokenVerifier | None = None,
        max_message_bytes: int | None = None,
    ) -> None:
        self._policies: dict[str, Access] = {}
        # gRPC's default (4 MiB) unless a service takes larger messages (delivery's files).
        sizes = (
            [
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", max_message_bytes),
            ]
            if max_message_bytes
            else []
        )
        self.server = grpc.aio.server(
            interceptors=[ServiceInterceptor(verifier, services, self._policies)],
            options=[
                # A client's connection is closed (GOAWAY) after this long, give or take 10 %:
                # its channel resolves the name again, and round_robin spreads its calls over
                # the replicas there are now, those added since it connected too
                # (GRPC_MAX_CONNECTION_AGE_SECONDS; common/grpc_client.py).
                ("grpc.max_connection_age_ms", int(max_connection_age_seconds * 1000)),
                ("grpc.max_connection_age_grace_ms", int(MAX_CONNECTION_AGE_GRACE_SECONDS * 1000)),
                # grpc's default (SO_REUSEPORT) lets a second server on the same port take a
                # share of its calls; a port is one server's, and a taken one is an error.
                ("grpc.so_reuseport", 0),
                *sizes,
            ],
        )
        self.health = HealthServicer()
        self.grace = grace_seconds
        self._names: list[str] = []
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)

    def add(
        self,
        register: Callable[[Any, grpc.aio.Server], None],
        servicer: Any,
        full_name: str,
        access: Mapping[str, Access] | None = None,
    ) -> None:
        """Serves `servicer`; `access` (svc_*/entrypoints/access.py) says who may call each of
        its methods, and must name every one (checked here, at start)."""
        if access is not None:
            check_table(descriptor_pool.Default().FindServiceByName(full_name), access)
            self._policies.update({f"/{full_name}/{m}": rule for m, rule in access.items()})
        register(servicer, self.server)
        self._names.append(full_name)

    async def start(self, host: str, port: int) -> int:
        names = [*self._names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], self.server)
        try:
            bound = self.server.add_insecure_port(f"{host}:{port}")
        except RuntimeError:  # grpc says "Failed to bind", without the reason
            bound = 0
        if bound == 0:
            if port and not port_is_free(port, host):
                raise PortInUse(port)
            raise OSError(f"cannot listen on {host}:{port}")
        await self.server.start()
        for name in ["", *self._names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return bound

    async def stop(self) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.grace)
