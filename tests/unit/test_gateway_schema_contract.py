"""What schema.graphql promises clients: the same four paging arguments on every connection, and
a payment's and a payout's status as an enum (the value the payments service reports, in GraphQL's
spelling)."""

from __future__ import annotations

from graphql import GraphQLObjectType, get_named_type

from common.pagination import DEFAULT_PAGE_SIZE
from gateway.resolvers.recommendations import DEFAULT_FIRST as RECOMMENDATIONS_DEFAULT_FIRST
from gateway.schema import build_schema
from gateway.types.disputes import EVIDENCE_NAMES
from gateway.types.orders import Payment
from svc_payments.domain import disputes
from svc_payments.domain.payouts import PayoutStatus
from ticketing.payments.v1 import payments_pb2


def test_every_connection_takes_first_after_last_before():
    schema = build_schema()._schema
    paged = {
        f"{type_.name}.{name}": {a: str(arg.type) for a, arg in field.args.items() if a != "id"}
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if str(get_named_type(field.type)).endswith("Connection")
    }
    four = {"first": "Int", "after": "String", "last": "Int", "before": "String"}
    assert paged == {
        "Query.tickets": {**four, "includeUnavailable": "Boolean"},
        "Query.orders": four,
        "Query.recommendedTickets": four,
        "Query.similarTickets": four,
        "Query.recommendedEvents": four,
        "Query.similarEvents": four,
        "Query.events": {**four, "query": "String", "filter": "EventFilter", "sort": "EventSort"},
        "Query.myListings": four,
        "Event.listings": four,
        "Query.payouts": four,
        "Query.allPayouts": {**four, "status": "PayoutStatus"},
        "Query.disputes": {**four, "status": "DisputeStatus"},
        # Forwards only (the delivery service pages by token): last/before are BAD_USER_INPUT.
        "Query.deliveries": {**four, "role": "DeliveryRole!", "statuses": "[DeliveryStatus!]"},
        "Query.myPasses": {**four, "eventId": "ID"},  # forwards only, as deliveries
    }


def test_every_first_argument_is_the_same_nullable_int():
    schema = build_schema()._schema
    firsts = {
        f"{type_.name}.{name}": (str(field.args["first"].type), field.args["first"].default_value)
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if "first" in field.args
    }
    # A page of a connection is 20 by default; a list of recommendations, 10.
    assert firsts == {
        "Query.tickets": ("Int", DEFAULT_PAGE_SIZE),
        "Query.orders": ("Int", DEFAULT_PAGE_SIZE),
        "Query.recommendedTickets": ("Int", RECOMMENDATIONS_DEFAULT_FIRST),
        "Query.similarTickets": ("Int", RECOMMENDATIONS_DEFAULT_FIRST),
        "Query.recommendedEvents": ("Int", RECOMMENDATIONS_DEFAULT_FIRST),
        "Query.similarEvents": ("Int", RECOMMENDATIONS_DEFAULT_FIRST),
        "Query.events": ("Int", DEFAULT_PAGE_SIZE),
        "Query.myListings": ("Int", DEFAULT_PAGE_SIZE),
        "Event.listings": ("Int", DEFAULT_PAGE_SIZE),
        "Query.payouts": ("Int", DEFAULT_PAGE_SIZE),
        "Query.allPayouts": ("Int", DEFAULT_PAGE_SIZE),
        "Query.disputes": ("Int", DEFAULT_PAGE_SIZE),
        "Query.deliveries": ("Int", DEFAULT_PAGE_SIZE),
        "Query.myPasses": ("Int", DEFAULT_PAGE_SIZE),
        # Top-N lists of a report: no next page.
        "SellerReport.mostViewedTickets": ("Int", 10),
        "MarketReport.topSellers": ("Int", 10),
        # Admins' lists of refunds, newest first (bounded: at most 200).
        "Query.refundRequests": ("Int", 50),
        "Query.refundRuns": ("Int", 50),
    }


def test_a_payments_status_is_an_enum_of_what_the_service_reports():
    status = get_named_type(build_schema()._schema.type_map["Payment"].fields["status"].type)
    assert list(status.values) == [
        "SUCCEEDED",
        "PROCESSING",
        "REQUIRES_ACTION",
        "FAILED",
        "REFUNDED",
    ]
    for reported in ("succeeded", "processing", "requires_action", "failed", "refunded"):
        payment = Payment.from_proto(
            payments_pb2.Payment(id="p", status=reported, amount="1", currency_code="EUR")
        )
        assert payment.status.name == reported.upper()


def test_a_payouts_status_is_every_status_the_payments_service_has():
    status = get_named_type(build_schema()._schema.type_map["Payout"].fields["status"].type)
    assert list(status.values) == [s.value for s in PayoutStatus]


def test_a_disputes_status_and_evidence_names_are_what_payments_knows():
    schema = build_schema()._schema
    status = schema.type_map["DisputeStatus"]
    assert {v.value for v in status.values.values()} == {s.value for s in disputes.DisputeStatus}
    assert set(EVIDENCE_NAMES) == disputes.EVIDENCE_FIELDS
    # Not disputed: null; a status Stripe adds later: null too, not an error.
    for reported, shown in (("", None), ("under_review", "UNDER_REVIEW"), ("prevented", None)):
        payment = Payment.from_proto(
            payments_pb2.Payment(id="p", status="succeeded", dispute_status=reported)
        )
        assert (payment.dispute_status and payment.dispute_status.name) == shown
