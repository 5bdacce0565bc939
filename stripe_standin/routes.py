"""Every Stripe endpoint the stand-in answers: its path, verb, the parameters it takes (any other
is refused as Stripe refuses it: 400 `Received unknown parameter`), whether a publishable key
may call it (as Stripe.js does), and what answers it. tests/contract checks each parameter
against the one Stripe's OpenAPI description lists for that endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from stripe_standin.http import listing

if TYPE_CHECKING:
    from stripe_standin.app import StripeStandIn

Handler = Callable[[Request, dict[str, Any]], dict[str, Any]]
PAGING = ("limit", "starting_after", "ending_before", "created")


@dataclass(frozen=True)
class Endpoint:
    path: str
    verb: str
    params: tuple[str, ...]
    handle: Handler
    publishable: bool = False  # Stripe.js may call it with a `pk_` key

    @property
    def known(self) -> frozenset[str]:
        """What it takes: its parameters, and `expand` as every Stripe call but a DELETE."""
        return frozenset((*self.params, *(("expand",) if self.verb != "DELETE" else ())))


def endpoints(standin: StripeStandIn) -> list[Endpoint]:
    payments, connect, disputes, events = (
        standin.payments,
        standin.connect,
        standin.disputes,
        standin.payments.events,
    )

    def at(request: Request) -> str:
        return request.path_params["id"]

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def listed(url: str, page: Callable[[dict[str, Any]], tuple[list, bool]]) -> Handler:
        return lambda r, q: listing(url, *page(q))

    return [
        Endpoint(
            "/v1/payment_intents",
            "POST",
            (
                "amount",
                "currency",
                "payment_method",
                "payment_method_types",
                "confirm",
                "metadata",
                "transfer_group",
                "description",
            ),
            lambda r, f: payments.create_intent(f),
        ),
        Endpoint(
            "/v1/payment_intents/{id}",
            "GET",
            ("client_secret",),
            lambda r, q: payments.intent_for(at(r), q, r.state.publishable),
            publishable=True,
        ),
        Endpoint(
            "/v1/payment_methods",
            "POST",
            ("type", "card", "metadata", "billing_details"),
            lambda r, f: payments.methods.create(f),
            publishable=True,
        ),
        Endpoint(
            "/v1/payment_methods/{id}", "GET", (), lambda r, q: payments.methods.method(at(r))
        ),
        Endpoint("/v1/charges/{id}", "GET", (), lambda r, q: payments.charge(at(r))),
        Endpoint(
            "/v1/refunds",
            "POST",
            ("charge", "payment_intent", "amount", "reason", "metadata"),
            lambda r, f: payments.create_refund(f),
        ),
        Endpoint("/v1/refunds/{id}", "GET", (), lambda r, q: payments.refund(at(r))),
        Endpoint(
            "/v1/accounts",
            "POST",
            ("type", "country", "email", "metadata", "business_type", "capabilities"),
            lambda r, f: connect.create_account(f),
        ),
        Endpoint("/v1/accounts/{id}", "GET", (), lambda r, q: connect.account(at(r))),
        Endpoint(
            "/v1/account_links",
            "POST",
            ("account", "refresh_url", "return_url", "type"),
            lambda r, f: connect.create_account_link(f, base(r)),
        ),
        Endpoint(
            "/v1/transfers",
            "POST",
            (
                "amount",
                "currency",
                "destination",
                "source_transaction",
                "transfer_group",
                "description",
                "metadata",
            ),
            lambda r, f: connect.create_transfer(f, base(r)),
        ),
        Endpoint("/v1/transfers/{id}", "GET", (), lambda r, q: connect.transfer(at(r))),
        Endpoint(
            "/v1/transfers/{id}/reversals",
            "POST",
            ("amount", "metadata", "description"),
            lambda r, f: connect.create_reversal(at(r), f),
        ),
        Endpoint(
            "/v1/balance_transactions",
            "GET",
            (*PAGING, "type", "source", "currency"),
            listed("/v1/balance_transactions", payments.balance_transactions),
        ),
        Endpoint(
            "/v1/disputes",
            "GET",
            (*PAGING, "charge", "payment_intent"),
            listed("/v1/disputes", disputes.list),
        ),
        Endpoint("/v1/disputes/{id}", "GET", (), lambda r, q: disputes.dispute(at(r))),
        Endpoint(
            "/v1/disputes/{id}",
            "POST",
            ("evidence", "metadata", "submit"),
            lambda r, f: disputes.update(at(r), f),
        ),
        Endpoint("/v1/disputes/{id}/close", "POST", (), lambda r, f: disputes.close(at(r))),
        Endpoint(
            "/v1/events",
            "GET",
            (*PAGING, "type", "types"),
            listed("/v1/events", events.list_events),
        ),
        Endpoint("/v1/events/{id}", "GET", (), lambda r, q: events.event(at(r))),
        Endpoint(
            "/v1/webhook_endpoints",
            "POST",
            ("url", "enabled_events", "api_version", "description", "metadata"),
            lambda r, f: events.create_endpoint(f),
        ),
        Endpoint(
            "/v1/webhook_endpoints",
            "GET",
            ("limit", "starting_after", "ending_before"),
            listed("/v1/webhook_endpoints", events.list_endpoints),
        ),
        Endpoint("/v1/webhook_endpoints/{id}", "GET", (), lambda r, q: events.endpoint(at(r))),
        Endpoint(
            "/v1/webhook_endpoints/{id}",
            "POST",
            ("url", "enabled_events", "disabled", "description", "metadata"),
            lambda r, f: events.update_endpoint(at(r), f),
        ),
        Endpoint(
            "/v1/webhook_endpoints/{id}", "DELETE", (), lambda r, f: events.delete_endpoint(at(r))
        ),
    ]
