"""Per-request DataLoaders: the tickets, payments, deliveries and catalogue events a response
needs, in one call each per batch."""

from __future__ import annotations

import asyncio

from strawberry.dataloader import DataLoader

from common.errors import NotFound
from gateway.clients import ServiceClients
from gateway.ticket_cache.reads import TicketReads
from ticketing.catalogue.v1 import catalogue_pb2
from ticketing.delivery.v1 import delivery_pb2
from ticketing.payments.v1 import payments_pb2
from ticketing.tickets.v1 import tickets_pb2


def tickets_loader(
    reads: TicketReads, *, cache: bool = True
) -> DataLoader[str, tickets_pb2.Ticket | None]:
    """The cached ones from the cache, the others in one BatchGetTickets. `cache=False`: each
    load reads again (batched all the same), for a context that outlives one answer."""
    return DataLoader(load_fn=reads.get_many, max_batch_size=500, cache=cache)


def payments_loader(
    clients: ServiceClients, token: str | None, *, cache: bool = True
) -> DataLoader[str, payments_pb2.Payment | None]:
    async def load(order_ids: list[str]) -> list[payments_pb2.Payment | None]:
        reply = await clients.call(
            clients.payments.BatchGetPayments,
            payments_pb2.BatchGetPaymentsRequest(order_ids=order_ids),
            token,
        )
        by_order = {p.order_id: p for p in reply.payments}
        return [by_order.get(i) for i in order_ids]

    return DataLoader(load_fn=load, max_batch_size=500, cache=cache)


def payments_by_id_loader(
    clients: ServiceClients, token: str | None, *, cache: bool = True
) -> DataLoader[str, payments_pb2.Payment | None]:
    """Payments by their own ids, the caller's only (None for another's or an unknown one)."""

    async def load(payment_ids: list[str]) -> list[payments_pb2.Payment | None]:
        reply = await clients.call(
            clients.payments.BatchGetPayments,
            payments_pb2.BatchGetPaymentsRequest(ids=payment_ids),
            token,
        )
        by_id = {p.id: p for p in reply.payments}
        return [by_id.get(i) for i in payment_ids]

    return DataLoader(load_fn=load, max_batch_size=500, cache=cache)


def payouts_loader(
    clients: ServiceClients, token: str | None, *, cache: bool = True
) -> DataLoader[str, payments_pb2.Payout | None]:
    """Payouts by id, as payments lets the caller read them (a seller their own, an operator
    anyone's; None for another's or an unknown one), in one BatchGetPayouts per batch of at most
    100 (payments' limit per call): a page of disputes asks once for all their payouts."""

    async def load(payout_ids: list[str]) -> list[payments_pb2.Payout | None]:
        reply = await clients.call(
            clients.payments.BatchGetPayouts,
            payments_pb2.BatchGetPayoutsRequest(ids=payout_ids),
            token,
        )
        by_id = {p.id: p for p in reply.payouts}
        return [by_id.get(i) for i in payout_ids]

    return DataLoader(load_fn=load, max_batch_size=100, cache=cache)


def refunds_loader(
    clients: ServiceClients, token: str | None, *, cache: bool = True
) -> DataLoader[str, list[payments_pb2.Refund]]:
    """The refunds of the caller's orders, by order id (none for another's), in one ListRefunds
    per batch (the caller's own, as payments shows them: an admin's too)."""

    async def load(order_ids: list[str]) -> list[list[payments_pb2.Refund]]:
        reply = await clients.call(
            clients.payments.ListRefunds,
            payments_pb2.ListRefundsRequest(order_ids=order_ids, limit=200),
            token,
        )
        by_order: dict[str, list[payments_pb2.Refund]] = {i: [] for i in order_ids}
        for refund in reply.refunds:
            by_order.setdefault(refund.order_id, []).append(refund)
        return [by_order[i] for i in order_ids]

    return DataLoader(load_fn=load, max_batch_size=200, cache=cache)


def events_loader(
    clients: ServiceClients, *, cache: bool = True
) -> DataLoader[str, catalogue_pb2.Event | None]:
    """Catalogue events by id (public: no token), in one BatchGetEvents per batch; None for an
    unknown one. A page of listings asks for its events once, not once per listing."""

    async def load(event_ids: list[str]) -> list[catalogue_pb2.Event | None]:
        reply = await clients.call(
            clients.catalogue.BatchGetEvents,
            catalogue_pb2.BatchGetEventsRequest(ids=event_ids),
            None,
        )
        by_id = {e.id: e for e in reply.events}
        return [by_id.get(i) for i in event_ids]

    return DataLoader(load_fn=load, max_batch_size=500, cache=cache)


# A quote's line: the price per ticket (a decimal string), its currency, a quantity and the
# catalogue event the tickets are for ("" for none: the standard fees).
QuoteKey = tuple[str, str, int, str]


def fee_quotes_loader(
    clients: ServiceClients, *, cache: bool = True
) -> DataLoader[QuoteKey, payments_pb2.FeeQuote]:
    """Fee quotes from payments (public: no token), one QuoteFees per batch: a page of listings
    asks once for all its all-in prices, the same price of the same event only once (an event
    may have fees of its own). The gateway computes no fee itself: payments is the one place
    they are computed."""

    async def load(lines: list[QuoteKey]) -> list[payments_pb2.FeeQuote]:
        request = payments_pb2.QuoteFeesRequest(
            lines=[
                payments_pb2.QuoteLine(
                    price=price, currency_code=currency, quantity=quantity, event_id=event_id
                )
                for price, currency, quantity, event_id in lines
            ]
        )
        reply = await clients.call(clients.payments.QuoteFees, request, None)
        return list(reply.quotes)

    return DataLoader(load_fn=load, max_batch_size=500, cache=cache)


def order_charges_loader(
    clients: ServiceClients, token: str | None, *, cache: bool = True
) -> DataLoader[str, payments_pb2.FeeQuote | None]:
    """Orders' fixed fee breakdowns (the caller's only; None for another's or an unknown one),
    in one BatchGetOrderCharges per batch."""

    async def load(order_ids: list[str]) -> list[payments_pb2.FeeQuote | None]:
        reply = await clients.call(
            clients.payments.BatchGetOrderCharges,
            payments_pb2.BatchGetOrderChargesRequest(order_ids=order_ids),
            token,
        )
        by_order = {c.order_id: c.quote for c in reply.charges}
        return [by_order.get(i) for i in order_ids]

    return DataLoader(load_fn=load, max_batch_size=500, cache=cache)


def deliveries_loader(
    clients: ServiceClients, token: str | None, *, cache: bool = True
) -> DataLoader[str, delivery_pb2.Delivery | None]:
    """Orders' deliveries (those the caller may see: None for another's or an unknown one), in
    one BatchGetDeliveries per batch."""

    async def load(order_ids: list[str]) -> list[delivery_pb2.Delivery | None]:
        reply = await clients.call(
            clients.delivery.BatchGetDeliveries,
            delivery_pb2.BatchGetDeliveriesRequest(order_ids=order_ids),
            token,
        )
        by_order = {d.order_id: d for d in reply.deliveries}
        return [by_order.get(i) for i in order_ids]

    return DataLoader(load_fn=load, max_batch_size=500, cache=cache)


def seller_records_loader(
    clients: ServiceClients, *, cache: bool = True
) -> DataLoader[str, delivery_pb2.GetSellerRecordResponse]:
    """Sellers' public delivery records (User.deliveryRecord): one GetSellerRecord per seller of
    a batch, at once (the API has no batch read), so a page of one seller's listings asks once."""

    async def load(seller_ids: list[str]) -> list[delivery_pb2.GetSellerRecordResponse]:
        return list(
            await asyncio.gather(
                *(
                    clients.call(
                        clients.delivery.GetSellerRecord,
                        delivery_pb2.GetSellerRecordRequest(seller_id=seller_id),
                        None,
                    )
                    for seller_id in seller_ids
                )
            )
        )

    return DataLoader(load_fn=load, max_batch_size=100, cache=cache)


def order_passes_loader(
    clients: ServiceClients, token: str | None, *, cache: bool = True
) -> DataLoader[str, list[delivery_pb2.Pass] | None]:
    """Orders' passes (Order.passes): one ListOrderPasses per order of a batch, at once (the API
    has no batch read), so a page of orders waits for one round trip. None for an order the
    caller may not see (NOT_FOUND)."""

    async def one(order_id: str) -> list[delivery_pb2.Pass] | None:
        try:
            reply = await clients.call(
                clients.delivery.ListOrderPasses,
                delivery_pb2.ListOrderPassesRequest(order_id=order_id),
                token,
            )
        except NotFound:
            return None
        return list(reply.passes)

    async def load(order_ids: list[str]) -> list[list[delivery_pb2.Pass] | None]:
        return list(await asyncio.gather(*(one(order_id) for order_id in order_ids)))

    return DataLoader(load_fn=load, max_batch_size=100, cache=cache)
