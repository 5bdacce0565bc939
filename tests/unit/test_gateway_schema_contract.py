"""What schema.graphql promises clients: one `first` on every connection, and a payment's
status as an enum (the value the payments service reports, in GraphQL's spelling)."""

from __future__ import annotations

from graphql import GraphQLObjectType, get_named_type

from common.pagination import DEFAULT_PAGE_SIZE
from gateway.schema import build_schema
from gateway.types.market import Payment
from ticketing.payments.v1 import payments_pb2


def test_every_first_argument_is_the_same_nullable_int_defaulting_to_twenty():
    schema = build_schema()._schema
    firsts = {
        f"{type_.name}.{name}": (str(field.args["first"].type), field.args["first"].default_value)
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if "first" in field.args
    }
    assert firsts == {
        "Query.tickets": ("Int", DEFAULT_PAGE_SIZE),
        "Query.orders": ("Int", DEFAULT_PAGE_SIZE),
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
        payment = Payment.from_proto(payments_pb2.Payment(id="p", status=reported, amount="1"))
        assert payment.status.name == reported.upper()
