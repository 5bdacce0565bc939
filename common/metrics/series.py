"""Every Prometheus series the system exports, in one place: the catalogue the dashboard
(deploy/grafana/ticketing.json) is checked against, and the small functions the code calls to
record them. Label values come from closed sets (event types of the catalogue, status codes,
operation names bounded per process), never from unchecked input.

Recording is a dictionary lookup and an add under a lock (or an mmap write in the gateway's
multiprocess mode): cheap enough for every request and every event.
"""

from __future__ import annotations

import re
import threading

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

from common import events

# No `<name>_created` series beside every counter and histogram: each would double the series
# scraped for a timestamp the dashboards never use (and multiprocess mode has none anyway).
disable_created_metrics()

# Request latencies: from a cached ticket read (a few ms) to a createPayment waiting on Stripe.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# How late an order was cancelled after its expiresAt: the target is within a second.
LATENESS_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)

# ---------------------------------------------------------------- the gateway (GraphQL)

GRAPHQL_REQUESTS = Counter(
    "ticketing_graphql_requests",
    "GraphQL operations answered, by operation name and type, and status: ok or the first "
    "error's extensions.code",
    ["operation", "type", "status"],
)
GRAPHQL_DURATION = Histogram(
    "ticketing_graphql_request_duration_seconds",
    "Time to answer a GraphQL operation (parse, validate, execute)",
    ["operation", "type"],
    buckets=REQUEST_BUCKETS,
)
GRAPHQL_IN_FLIGHT = Gauge(
    "ticketing_graphql_requests_in_flight",
    "GraphQL operations being answered now (summed over the gateway's workers)",
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS_OPEN = Gauge(
    "ticketing_graphql_subscriptions_open",
    "GraphQL subscriptions open now, by field (summed over the gateway's workers)",
    ["field"],
    multiprocess_mode="livesum",
)
SUBSCRIPTION_MESSAGES = Counter(
    "ticketing_graphql_subscription_messages",
    "Messages pushed to subscribers (the first, current state included), by field",
    ["field"],
)
TICKET_CACHE_READS = Counter(
    "ticketing_ticket_cache_reads",
    "The gateway's ticket reads by kind (ticket, batch: per id; page: first pages) and result "
    "(hit: from Redis, miss: asked tickets)",
    ["read", "result"],
)
BEHAVIOUR_EVENTS = Counter(
    "ticketing_behaviour_events",
    "Behaviour events (ticket viewed, event viewed, tickets browsed, order started) by type and "
    "outcome: accepted (in the gateway's Redis stream, to be relayed) or dropped (Redis failed "
    "or was skipped after a failure within the last second; the request was answered anyway)",
    ["type", "outcome"],
)
CONNECTIONS_CLOSED = Counter(
    "ticketing_gateway_connections_closed",
    "Connections the gateway closed at its edge (gateway/edge.py), by reason: header_timeout "
    "(request headers not complete in time), body_timeout (a request body not complete in "
    "time), address_cap (over CONNECTIONS_PER_ADDRESS open from one client address)",
    ["reason"],
)
TICKET_CACHE_BYPASSED = Counter(
    "ticketing_ticket_cache_bypassed",
    "Cache commands not done: skipped (Redis failed within the last second) or failed",
    ["reason"],
)

# ---------------------------------------------------------------- every gRPC service
# Named as go-grpc-prometheus and the gRPC ecosystem's dashboards name them.

GRPC_HANDLED = Counter(
    "grpc_server_handled",
    "RPCs completed on the server, by method and status code",
    ["grpc_service", "grpc_method", "grpc_code"],
)
GRPC_HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time the server took to answer an RPC",
    ["grpc_service", "grpc_method"],
    buckets=REQUEST_BUCKETS,
)

# ---------------------------------------------------------------- events

EVENTS_PUBLISHED = Counter(
    "ticketing_events_published",
    "Events the broker confirmed, by the service that published them and event type",
    ["service", "type"],
)
EVENTS_CONSUMED = Counter(
    "ticketing_events_consumed",
    "Events a consumer handled and acked, by consuming service (its queue) and event type",
    ["service", "type"],
)
EVENTS_RETRIED = Counter(
    "ticketing_events_retried",
    "Events sent to a retry queue: waiting (for a predecessor or a dependency) or failed",
    ["service", "type", "reason"],
)
EVENTS_DEAD_LETTERED = Counter(
    "ticketing_events_dead_lettered",
    "Events moved to the dead-letter queue: unreadable, waited_too_long or failed",
    ["service", "type", "reason"],
)
EVENT_HANDLING_SECONDS = Histogram(
    "ticketing_event_handling_seconds",
    "Time a handler took on one delivery of an event, whatever its outcome",
    ["service", "type"],
    buckets=REQUEST_BUCKETS,
)
EVENTS_IN_FLIGHT = Gauge(
    "ticketing_events_in_flight",
    "Deliveries being handled now (at most EVENT_PREFETCH per consumer)",
    ["service"],
    multiprocess_mode="livesum",
)

# The outbox's backlog is read from MongoDB when Prometheus scrapes (common.metrics.outbox):
OUTBOX_UNSENT = "ticketing_outbox_unsent_events"
OUTBOX_OLDEST_AGE = "ticketing_outbox_oldest_unsent_age_seconds"

# ---------------------------------------------------------------- orders and payments

ORDER_STATUS_CHANGES = Counter(
    "ticketing_order_status_changes",
    "Orders that reached a status (CREATED: placed), with the reason of a cancellation",
    ["status", "reason"],
)
ORDER_EXPIRY_LATENESS = Histogram(
    "ticketing_order_expiry_lateness_seconds",
    "How long after its expiresAt an order was cancelled as expired, by path: order_expired "
    "(the expiration service's event) or sweep (orders' own sweep)",
    ["path"],
    buckets=LATENESS_BUCKETS,
)
PAYOUT_OUTCOMES = Counter(
    "ticketing_payout_outcomes",
    "What the payout sweep did with a due payout: paid, waiting_for_onboarding (the seller "
    "cannot be paid yet), retry (Stripe unreachable), failed (Stripe refused for good), or "
    "unrecorded (Stripe answered, recording it failed; replayed with its idempotency key)",
    ["outcome"],
)
PAYOUT_LATENESS = Histogram(
    "ticketing_payout_lateness_seconds",
    "How long after its due time a payout was paid (the sweep's interval, retries, a seller's "
    "onboarding)",
    buckets=(1.0, 5.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 6 * 3600.0, 86400.0, 7 * 86400.0),
)
STRIPE_REQUESTS = Counter(
    "ticketing_stripe_requests",
    "Calls to Stripe by operation (charge, retrieve, retrieve_charge, refund, refund_part, "
    "transfer_reversal, transfer, create_account, create_account_link, retrieve_account, "
    "retrieve_dispute, update_dispute, reverse_transfer; balance_transactions: one listing, "
    "every page) and outcome",
    ["operation", "outcome"],
)
STRIPE_DURATION = Histogram(
    "ticketing_stripe_request_duration_seconds",
    "Time a call to Stripe took, whatever its outcome",
    ["operation"],
    buckets=REQUEST_BUCKETS,
)

RECONCILIATION_RUNS = Counter(
    "ticketing_payments_reconciliation_runs",
    "Runs of the ledger's reconciliation with Stripe, by trigger (schedule: payments' own, "
    "on_demand: ReconcileLedger) and outcome (reported: a report was written; failed: Stripe or "
    "the database failed, no report, the cursor not moved)",
    ["trigger", "outcome"],
)
RECONCILIATION_DIFFERENCES = Gauge(
    "ticketing_payments_reconciliation_differences",
    "Differences between the ledger and Stripe's balance transactions the last report found, "
    "by kind (MISSING_IN_LEDGER, MISSING_AT_STRIPE, AMOUNT_MISMATCH, CURRENCY_MISMATCH, "
    "FEE_MISMATCH); each report judges only what is new since the one before",
    ["kind"],
)

MAIL_OUTCOMES = Counter(
    "ticketing_notifications_mails",
    "What the notifications sender did with a mail, by kind (order_confirmed, refund_issued...) "
    "and outcome: sent (the server accepted it), retry (a temporary failure or no address yet; "
    "tried again later), failed (refused for good, or NOTIFICATIONS_MAX_ATTEMPTS temporary "
    "failures), no_address (given up: no address known for the user)",
    ["kind", "outcome"],
)

# ---------------------------------------------------------------- label values


def event_label(type_name: str) -> str:
    """An event's short name (OrderCreated) if it is one of the catalogue's, else `unknown`: a
    message of any type can be put on a queue, and each label value is a series."""
    try:
        return events.event_class(type_name).DESCRIPTOR.name
    except (events.UnknownEvent, TypeError):
        return "unknown"


class BoundedNames:
    """Operation names as clients send them, up to `limit` distinct ones per process; past that,
    and for a name GraphQL would not accept, `other`."""

    NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")

    def __init__(self, limit: int = 200) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self._seen:
            return name
        if not self.NAME.fullmatch(name):
            return "other"
        with self._lock:
            if len(self._seen) >= self.limit:
                return "other"
            self._seen.add(name)
        return name


operation_label = BoundedNames()


# ---------------------------------------------------------------- recording


# The labelled series of each (method, code) an RPC was answered with: `labels()` splits, checks
# and looks up under a lock on every call; a dictionary lookup does for the next calls. Methods
# are the server's registered ones and codes a closed set; past RPC_SERIES_KEPT pairs (never, in
# practice) a pair is looked up each time rather than kept.
RPC_SERIES_KEPT = 4096
_rpc_series: dict[tuple[str, str], tuple[Counter, Histogram]] = {}


def rpc_handled(method: str, code: str, seconds: float) -> None:
    """One RPC answered; `method` as gRPC names it (/ticketing.orders.v1.OrdersService/GetOrder)."""
    kept = _rpc_series.get((method, code))
    if kept is None:
        service, _, name = method.lstrip("/").rpartition("/")
        kept = GRPC_HANDLED.labels(service, name, code), GRPC_HANDLING_SECONDS.labels(service, name)
        if len(_rpc_series) < RPC_SERIES_KEPT:
            _rpc_series[(method, code)] = kept
    handled, handling = kept
    handled.inc()
    handling.observe(seconds)


def events_published(docs: list[dict]) -> None:
    """A batch of outbox documents the broker confirmed (`app_id`: the publishing service)."""
    for doc in docs:
        EVENTS_PUBLISHED.labels(doc.get("app_id") or "unknown", event_label(doc["type"])).inc()


def order_status_changed(status: str, reason: str = "") -> None:
    ORDER_STATUS_CHANGES.labels(status, reason).inc()


def order_expired_late(path: str, seconds: float) -> None:
    ORDER_EXPIRY_LATENESS.labels(path).observe(max(0.0, seconds))


def payout_outcome(outcome: str) -> None:
    PAYOUT_OUTCOMES.labels(outcome).inc()


def payout_paid_late(seconds: float) -> None:
    PAYOUT_LATENESS.observe(max(0.0, seconds))


class EventMetrics:
    """What one service's event consumer records, its label values bound once."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.in_flight = EVENTS_IN_FLIGHT.labels(service)

    def handled(self, type_name: str, seconds: float) -> None:
        EVENT_HANDLING_SECONDS.labels(self.service, event_label(type_name)).observe(seconds)

    def consumed(self, type_name: str) -> None:
        EVENTS_CONSUMED.labels(self.service, event_label(type_name)).inc()

    def retried(self, type_name: str, reason: str) -> None:
        EVENTS_RETRIED.labels(self.service, event_label(type_name), reason).inc()

    def dead_lettered(self, type_name: str, reason: str) -> None:
        EVENTS_DEAD_LETTERED.labels(self.service, event_label(type_name), reason).inc()


def mail_outcome(kind: str, outcome: str) -> None:
    MAIL_OUTCOMES.labels(kind, outcome).inc()
