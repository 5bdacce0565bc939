"""A stand-in for the services behind the gateway, for the v1 API tests (test_gateway_v1_*.py):
`Services` answers like them (paging both ways on a newest-first keyset, ids and states,
AppErrors with their fields) and records every request; `run` executes a document as a signed-in
or anonymous caller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from common.errors import (
    AppError,
    NotFound,
    Unavailable,
)
from common.jwt import Claims
from common.pagination import Cursor
from common.protos import from_timestamp, timestamp
from gateway import global_ids
from gateway.context import Context
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from svc_payments.domain.fees import FeeSchedule, QuoteLine
from svc_payments.entrypoints.grpc_api import quote_to_proto
from svc_payments.service_layer.fee_quotes import quote_lines
from ticketing.auth.v1 import auth_pb2
from ticketing.orders.v1 import orders_pb2
from ticketing.payments.v1 import payments_pb2
from ticketing.tickets.v1 import tickets_pb2

START = datetime(2026, 11, 1, tzinfo=UTC)
CALLER = "3f0c6a52-8a4e-4f0b-9c1e-2b7d5e8a9f30"
SELLER = "9b1d3c52-8a4e-4f0b-9c1e-2b7d5e8a9f31"


def tid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def oid(i: int) -> str:
    return f"10000000-0000-4000-8000-{i:012d}"


def gid(type_name: str, raw: str) -> str:
    return global_ids.encode(type_name, raw)


def _page(items: list, request, key) -> tuple[list, bool, bool]:
    """Newest first; forwards after page_token, or backwards before before_page_token."""
    size = request.page_size or 20
    cursors = [key(item) for item in items]
    if request.backward:
        end = cursors.index(request.before_page_token) if request.before_page_token else len(items)
        start = max(0, end - size)
    else:
        start = cursors.index(request.page_token) + 1 if request.page_token else 0
        end = min(len(items), start + size)
    return items[start:end], end < len(items), start > 0


class Services:
    """Tickets t0..t{n-1} (t0 newest) sold by SELLER; the caller's orders o0..o{m-1} on them."""

    def __init__(self, tickets: int = 5, orders: int = 5) -> None:
        self.requests: list[tuple[str, object]] = []
        self.down: set[str] = set()
        self.fail: dict[str, AppError] = {}
        self.tickets_by_id = {
            tid(i): tickets_pb2.Ticket(
                id=tid(i),
                title=f"Show {i}",
                price="20.00",
                currency_code="EUR",
                user_id=SELLER,
                version=1,
                create_time=timestamp(START - timedelta(minutes=i)),
                state=tickets_pb2.TICKET_STATE_HELD,
            )
            for i in range(tickets)
        }
        self.orders_list = [
            orders_pb2.Order(
                id=oid(i),
                status=orders_pb2.ORDER_STATUS_CREATED,
                user_id=CALLER,
                ticket_id=tid(i % tickets),
                price="20.00",
                currency_code="EUR",
                version=0,
                expires_at=timestamp(START),
                create_time=timestamp(START - timedelta(minutes=i)),
            )
            for i in range(orders)
        ]
        self.payments_list = [
            payments_pb2.Payment(
                id="20000000-0000-4000-8000-000000000000",
                order_id=oid(0),
                user_id=CALLER,
                amount="20.00",
                currency_code="EUR",
                status="succeeded",
                create_time=timestamp(START),
            )
        ]
        names = {
            "auth": ["GetUser"],
            "tickets": [
                "GetTicket",
                "BatchGetTickets",
                "ListTickets",
                "CreateTicket",
                "UpdateTicket",
                "WithdrawTicket",
            ],
            "orders": [
                "GetOrder",
                "ListOrders",
                "CreateOrder",
                "CancelOrder",
            ],
            "payments": [
                "BatchGetPayments",
                "CreatePayment",
                "StartSellerOnboarding",
                "GetSellerAccount",
                "QuoteFees",
                "BatchGetOrderCharges",
            ],
            "insights": [],
        }
        for service, methods in names.items():
            setattr(self, service, SimpleNamespace(**{m: f"{service}.{m}" for m in methods}))
        self.payment_timeout = 1
        # The fees payments charges: 10 % + 0.50 per ticket, 5 % commission.
        self.fees = FeeSchedule(
            buyer_fee_percent=Decimal(10),
            buyer_fee_fixed={"EUR": Decimal("0.50"), "USD": Decimal("0.50")},
            seller_commission_percent=Decimal(5),
        )
        # Events with fees of their own, by event id (payments' copy of them).
        self.event_fees: dict[str, FeeSchedule] = {}

    def asked(self, method: str) -> list[object]:
        return [r for m, r in self.requests if m == method]

    async def call(self, method, request, token=None, timeout=None):
        self.requests.append((method, request))
        service, name = method.split(".")
        if service in self.down:
            raise Unavailable("A service is unavailable, try again shortly")
        if name in self.fail:
            raise self.fail[name]
        return getattr(self, name)(request)

    # -- tickets
    def GetTicket(self, r):
        if r.id not in self.tickets_by_id:
            raise NotFound("Ticket not found")
        return tickets_pb2.GetTicketResponse(ticket=self.tickets_by_id[r.id])

    def BatchGetTickets(self, r):
        found = [self.tickets_by_id[i] for i in r.ids if i in self.tickets_by_id]
        return tickets_pb2.BatchGetTicketsResponse(tickets=found)

    def ListTickets(self, r):
        newest = sorted(self.tickets_by_id.values(), key=lambda t: t.id)
        page, has_next, has_previous = _page(newest, r, _ticket_cursor)
        return tickets_pb2.ListTicketsResponse(
            tickets=page,
            next_page_token=_ticket_cursor(page[-1]) if page and has_next else "",
            has_next_page=has_next,
            has_previous_page=has_previous,
        )

    def CreateTicket(self, r):
        ticket = tickets_pb2.Ticket(
            id=tid(99),
            title=r.title,
            price=r.price,
            currency_code=r.currency_code,
            user_id=CALLER,
            create_time=timestamp(START),
        )
        return tickets_pb2.CreateTicketResponse(ticket=ticket)

    def UpdateTicket(self, r):
        ticket = tickets_pb2.Ticket()
        ticket.CopyFrom(self.tickets_by_id[r.id])
        ticket.version += 1
        if r.HasField("title"):
            ticket.title = r.title
        return tickets_pb2.UpdateTicketResponse(ticket=ticket)

    def WithdrawTicket(self, r):
        ticket = tickets_pb2.Ticket()
        ticket.CopyFrom(self.tickets_by_id[r.id])
        ticket.withdrawn, ticket.version = True, ticket.version + 1
        return tickets_pb2.WithdrawTicketResponse(ticket=ticket)

    # -- orders
    def GetOrder(self, r):
        for order in self.orders_list:
            if order.id == r.id:
                return orders_pb2.GetOrderResponse(order=order)
        raise NotFound("Order not found")

    def ListOrders(self, r):
        page, has_next, has_previous = _page(self.orders_list, r, _order_cursor)
        return orders_pb2.ListOrdersResponse(
            orders=page,
            next_page_token=_order_cursor(page[-1]) if page and has_next else "",
            has_next_page=has_next,
            has_previous_page=has_previous,
            total_count=len(self.orders_list) if r.include_total_count else 0,
        )

    def CreateOrder(self, r):
        return orders_pb2.CreateOrderResponse(order=self.orders_list[0])

    def CancelOrder(self, r):
        return orders_pb2.CancelOrderResponse(order=self.orders_list[0])

    # -- payments
    def BatchGetPayments(self, r):
        found = [p for p in self.payments_list if p.id in r.ids or p.order_id in r.order_ids]
        return payments_pb2.BatchGetPaymentsResponse(payments=found)

    def CreatePayment(self, r):
        return payments_pb2.CreatePaymentResponse(payment=self.payments_list[0])

    # The caller's seller account, as payments answers it (NOT_ONBOARDED until started).
    seller_account = payments_pb2.SellerAccount(
        user_id=CALLER, status=payments_pb2.SELLER_ACCOUNT_STATUS_NOT_ONBOARDED
    )

    def StartSellerOnboarding(self, r):
        self.seller_account = payments_pb2.SellerAccount(
            user_id=CALLER,
            status=payments_pb2.SELLER_ACCOUNT_STATUS_PENDING,
            requirements_due=["external_account"],
            disabled_reason="requirements.past_due",
        )
        return payments_pb2.StartSellerOnboardingResponse(
            seller_account=self.seller_account,
            onboarding_url="https://connect.stripe.test/setup/acct_1",
        )

    def GetSellerAccount(self, r):
        return payments_pb2.GetSellerAccountResponse(seller_account=self.seller_account)

    def QuoteFees(self, r):
        # payments' own arithmetic (svc_payments/domain/fees.py), as the service answers it.
        lines = [QuoteLine(x.price, x.currency_code, x.quantity, x.event_id) for x in r.lines]
        quotes = quote_lines(self.fees, lines, self.event_fees)
        return payments_pb2.QuoteFeesResponse(quotes=[quote_to_proto(q) for q in quotes])

    def BatchGetOrderCharges(self, r):
        charges = [
            payments_pb2.OrderCharges(
                order_id=o.id,
                quote=quote_to_proto(
                    self.fees.quote(Decimal(o.price), o.currency_code, o.quantity or 1)
                ),
            )
            for o in self.orders_list
            if o.id in r.order_ids and o.user_id == CALLER
        ]
        return payments_pb2.BatchGetOrderChargesResponse(charges=charges)

    # -- auth
    def GetUser(self, r):
        return auth_pb2.GetUserResponse(user=auth_pb2.User(id=r.id, email="me@example.com"))


def _ticket_cursor(t) -> str:
    return Cursor(from_timestamp(t.create_time), t.id).encode()


def _order_cursor(o) -> str:
    return Cursor(from_timestamp(o.create_time), o.id).encode()


class SignedIn(Context):
    async def user(self):
        return Claims(sub=CALLER, email="me@example.com", iat=0, exp=2**31, jti="j")


class Anonymous(Context):
    async def user(self):
        return None


async def run(services: Services, query: str, variables: dict | None = None, *, signed_in=True):
    reads = TicketReads(services, cache=None)
    kind = SignedIn if signed_in else Anonymous
    context = kind(
        request=None,
        response=None,
        clients=services,
        accounts=None,
        token="token" if signed_in else None,
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(services, "token"),
    )
    return await build_schema().execute(query, variable_values=variables, context_value=context)


def errors(result) -> list[tuple[list, str]]:
    return [(e.path, e.extensions["code"]) for e in result.errors or []]
