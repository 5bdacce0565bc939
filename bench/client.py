"""The cheapest honest client: gRPC straight to the services, as the gateway would call them."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import grpc

from bench.stack import BenchStack
from ticketing.auth.v1 import auth_pb2, auth_pb2_grpc
from ticketing.orders.v1 import orders_pb2, orders_pb2_grpc
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc

T = TypeVar("T")
RPC_TIMEOUT = 10.0


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@dataclass(frozen=True)
class Market:
    """Typed calls on one replica of the stack."""

    stack: BenchStack
    replica: int = 0

    def _tickets(self) -> tickets_pb2_grpc.TicketsServiceStub:
        return tickets_pb2_grpc.TicketsServiceStub(self.stack.channel("tickets", self.replica))

    def _orders(self) -> orders_pb2_grpc.OrdersServiceStub:
        return orders_pb2_grpc.OrdersServiceStub(self.stack.channel("orders", self.replica))

    async def sign_up(self) -> str:
        stub = auth_pb2_grpc.AuthServiceStub(self.stack.channel("auth", self.replica))
        reply = await stub.SignUp(
            auth_pb2.SignUpRequest(
                email=f"bench-{uuid.uuid4().hex[:12]}@example.com", password="bench-password-1"
            ),
            timeout=RPC_TIMEOUT,
        )
        return reply.token

    async def create_ticket(self, token: str, title: str = "Bench", price: str = "20") -> str:
        request = tickets_pb2.CreateTicketRequest(
            title=title, price=price, currency_code="USD", idempotency_key=str(uuid.uuid4())
        )
        reply = await self._tickets().CreateTicket(
            request,
            metadata=bearer(token),
            timeout=RPC_TIMEOUT,
        )
        return reply.ticket.id

    async def create_order(self, token: str, ticket_id: str, key: str) -> orders_pb2.Order:
        """`key`: the order's idempotency key, the same on every try of one order."""
        reply = await self._orders().CreateOrder(
            orders_pb2.CreateOrderRequest(ticket_id=ticket_id, idempotency_key=key),
            metadata=bearer(token),
            timeout=RPC_TIMEOUT,
        )
        return reply.order

    async def cancel_order(self, token: str, order_id: str) -> None:
        await self._orders().CancelOrder(
            orders_pb2.CancelOrderRequest(id=order_id), metadata=bearer(token), timeout=RPC_TIMEOUT
        )


@dataclass
class Orderable:
    """The outcome of ordering a ticket the orders service may not have heard of yet."""

    order: orders_pb2.Order | None
    attempt_started: float  # time.monotonic() when the CreateOrder that succeeded was sent
    not_found: int  # answers that said the ticket is unknown (yet)
    errors: list[str]  # any other failure


async def order_when_orderable(
    market: Market,
    token: str,
    ticket_id: str,
    retry_every: float = 0.005,
    give_up_after: float = 30.0,
) -> Orderable:
    """CreateOrder again every `retry_every` s while the answer is NOT_FOUND (the TicketCreated
    event has not been applied yet); bounded by `give_up_after`."""
    deadline = time.monotonic() + give_up_after
    not_found, errors = 0, []
    key = str(uuid.uuid4())  # one order: a refusal records nothing, so every try keeps the key
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            order = await market.create_order(token, ticket_id, key)
            return Orderable(order, started, not_found, errors)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                not_found += 1
            else:
                errors.append(f"{exc.code().name}: {exc.details()}")
        await asyncio.sleep(retry_every)
    errors.append(f"not orderable after {give_up_after:.0f}s")
    return Orderable(None, time.monotonic(), not_found, errors)


async def bounded(
    jobs: Iterable[Callable[[], Awaitable[T]]], concurrency: int
) -> list[T | BaseException]:
    """Runs the jobs with at most `concurrency` in flight; results (or exceptions) in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[T]]) -> T | BaseException:
        async with gate:
            try:
                return await job()
            except Exception as exc:
                return exc

    return await asyncio.gather(*(one(job) for job in jobs))
