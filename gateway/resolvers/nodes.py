"""`node(id:)` and `nodes(ids:)` (docs/api.md ID-4): any object by its global id.

The id's type says which service to ask. What the caller may not see is NOT_FOUND, exactly like
an unknown id or one that does not decode (ID-3: no oracle):
- Ticket: public (through the ticket cache);
- Event: public (the catalogue's BatchGetEvents, one call for every event of a request);
- Order: the caller's own (orders' GetOrder with the caller's token);
- Payment: the caller's own (payments' BatchGetPayments by id, which leaves out anyone else's);
- Payout: the caller's own as a seller, an operator's anyone's (payments' BatchGetPayouts);
- Dispute: operators only (payments' GetDispute); anyone else: NOT_FOUND;
- Pass: as the delivery service's GetPass shows it (its holder, the order's buyer and seller,
  operators; the code for its holder only);
- User: the caller's own profile only. Auth's GetUser answers for the caller's own account and
  nothing else, and the gateway holds no other authority on which accounts exist, so another
  user's id is NOT_FOUND rather than a profile made up from any well-formed id. (Other users are
  reached through links: `Ticket.seller`, `Order.buyer`, `TopSeller.seller`.)
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry

from common.errors import InvalidInput, NotFound
from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.types.common import Node, list_size
from gateway.types.disputes import Dispute
from gateway.types.events import Event, Listing
from gateway.types.orders import Order, Payment
from gateway.types.passes import Pass
from gateway.types.payouts import Payout
from gateway.types.refunds import Refund
from gateway.types.tickets import Ticket
from gateway.types.user import User
from ticketing.auth.v1 import auth_pb2
from ticketing.delivery.v1 import delivery_pb2
from ticketing.orders.v1 import orders_pb2
from ticketing.payments.v1 import payments_pb2

MAX_IDS = 100


async def resolve_node(info: Info, global_id: str) -> Node:
    parsed = global_ids.parse(global_id)
    if parsed is None:
        raise NotFound("No such object")
    type_name, raw_id = parsed
    ctx = info.context
    if type_name == "Ticket":
        return Ticket.from_proto(await ctx.ticket_reads.get(raw_id))
    if type_name == "Listing":
        return Listing.from_proto(await ctx.ticket_reads.get(raw_id))
    if type_name == "Order":
        reply = await ctx.call(ctx.clients.orders.GetOrder, orders_pb2.GetOrderRequest(id=raw_id))
        return Order.from_proto(reply.order)
    if type_name == "Event":  # public; batched: nodes(ids:) asks the catalogue once
        event = await ctx.events.load(raw_id)
        if event is None:
            raise NotFound("Event not found")  # as GetEvent answers
        return Event.from_proto(event)
    if type_name == "Refund":  # the caller's own orders', or any for an admin (payments says)
        await ctx.require_user()
        reply = await ctx.call(
            ctx.clients.payments.ListRefunds, payments_pb2.ListRefundsRequest(ids=[raw_id])
        )
        if not reply.refunds:
            raise NotFound("No such refund")
        return Refund.from_proto(reply.refunds[0])
    if type_name == "Payment":
        await ctx.require_user()
        payment = await ctx.payments_by_id.load(raw_id)
        if payment is None:
            raise NotFound("No such payment")
        return Payment.from_proto(payment)
    if type_name == "Payout":
        await ctx.require_user()
        request = payments_pb2.BatchGetPayoutsRequest(ids=[raw_id])
        reply = await ctx.call(ctx.clients.payments.BatchGetPayouts, request)
        if not reply.payouts:
            raise NotFound("No such payout")
        return Payout.from_proto(reply.payouts[0])
    if type_name == "Dispute":
        claims = await ctx.user()
        if claims is None or not claims.is_admin:
            raise NotFound("No such object")
        request = payments_pb2.GetDisputeRequest(dispute_id=raw_id)
        return Dispute.from_proto(
            (await ctx.call(ctx.clients.payments.GetDispute, request)).dispute
        )
    if type_name == "Pass":
        await ctx.require_user()
        request = delivery_pb2.GetPassRequest(pass_id=raw_id)
        return Pass.from_proto(
            getattr(await ctx.call(ctx.clients.delivery.GetPass, request), "pass")
        )
    # User
    claims = await ctx.user()
    if claims is None or claims.sub != raw_id:
        raise NotFound("No such user")
    reply = await ctx.call(ctx.clients.auth.GetUser, auth_pb2.GetUserRequest(id=raw_id))
    return User.of(reply.user.id, own_email=reply.user.email)


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Any object by its id (User, Ticket, Order, Payment, Event, Listing, Payout, "
        "Refund, Dispute, Pass); null with a NOT_FOUND error for an unknown one, one the caller "
        "may not see (another's order, payment, payout, refund or pass, another user, a dispute "
        "unless an operator) or an id that does not "
        "decode.",
        directives=[Cost(weight=1)],
    )
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(
        description=f"Objects by id, in the order asked: at most {MAX_IDS} ids (BAD_USER_INPUT "
        'beyond). One item per id; null (with its own NOT_FOUND error, path ["nodes", i]) where '
        "that one is unknown or hidden from the caller.",
        directives=[Cost(weight=1), list_size(slicing_arguments=["ids"])],
    )
    def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description=f"Global ids, at most {MAX_IDS}."),
        ],
    ) -> list[Node | None]:
        if len(ids) > MAX_IDS:
            raise InvalidInput(f"ids takes at most {MAX_IDS} ids", field="ids")
        # One awaitable per id: graphql-core resolves each on its own, so one that fails is null
        # with its error at ["nodes", i], and the others stand.
        items: list[Awaitable[Node]] = [resolve_node(info, i) for i in ids]
        return items  # type: ignore[return-value]
