"""The load: buyers and sellers over the gateway's GraphQL API (v1), behaving as a real client
does during an outage (docs/api.md IDEM-6): a transport error, an HTTP 5xx or `UNAVAILABLE` is
retried with backoff, the identical request (the same idempotency key and input), and so is a
`NOT_FOUND` userError for something the client has just created (its event is still on the way).
Every such answer is logged as a client error; any other unexpected answer (`INTERNAL`, a
`CONFLICT` of a retried createOrder with its own hold, ...) is logged as unexpected, and is a
failure of the run. Every loop is bounded in count and time.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from tests.chaos.sellers import Sellers

ORDER_FIELDS = "id status expiresAt"
USER_ERRORS = "userErrors { code field message }"
SIGNUP = (
    'mutation($e: String!) { signUp(input: {email: $e, password: "s3cret-pass"}) '
    f"{{ token {USER_ERRORS} }} }}"
)
SIGNIN = (
    'mutation($e: String!) { signIn(input: {email: $e, password: "s3cret-pass"}) '
    f"{{ token {USER_ERRORS} }} }}"
)
CREATE_TICKET = (
    "mutation($t: String!, $p: Decimal!, $k: String!) { createTicket(input: "
    "{title: $t, price: {amount: $p, currencyCode: USD}, idempotencyKey: $k}) "
    f"{{ ticket {{ id }} {USER_ERRORS} }} }}"
)
CREATE_ORDER = (
    "mutation($id: ID!, $k: String!) { createOrder(input: {ticketId: $id, idempotencyKey: $k}) "
    f"{{ order {{ {ORDER_FIELDS} }} {USER_ERRORS} }} }}"
)
CREATE_PAYMENT = (
    "mutation($o: ID!, $m: String!, $k: String!) { createPayment(input: "
    "{orderId: $o, paymentMethod: $m, idempotencyKey: $k}) "
    f"{{ payment {{ id status }} {USER_ERRORS} }} }}"
)
GET_ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"

PAYS = "pm_card_visa"
DECLINES = "pm_card_chargeCustomerFail"
EXPECTED_HTTP = (502, 503, 504)


@dataclass(frozen=True)
class ClientError:
    at: float  # wall clock, to line it up with the faults
    operation: str
    kind: str  # "UNAVAILABLE", "transport: ConnectError", "HTTP 503", "NOT_FOUND (not yet)", ...
    expected: bool
    message: str = ""


class ErrorLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.errors: list[ClientError] = []

    def add(self, error: ClientError) -> None:
        with self._lock:
            self.errors.append(error)

    def snapshot(self) -> list[ClientError]:
        with self._lock:
            return list(self.errors)


class GaveUp(Exception):
    def __init__(self, operation: str, kind: str) -> None:
        super().__init__(f"{operation}: still {kind} after the retry budget")
        self.operation = operation
        self.kind = kind


def raw_id(global_id: str) -> str:
    """The service's id inside a global id (docs/api.md ID-2): the databases the invariants read
    know only those."""
    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.urlsafe_b64decode(padded).decode().partition(":")[2]


def new_key() -> str:
    return str(uuid.uuid4())


class Client:
    """One user's HTTP client. `call` returns the GraphQL result once it has data and, for a
    mutation, no userError, or an error whose code the caller accepts (top-level or a userError,
    as `{"errors": [...]}`); retries everything else, the identical request, until `budget`
    seconds have passed."""

    def __init__(self, base_url: str, errors: ErrorLog, budget: float = 60) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.errors = errors
        self.budget = budget

    def close(self) -> None:
        self.http.close()

    def call(
        self,
        operation: str,
        query: str,
        token: str | None = None,
        *,
        accept: tuple[str, ...] = (),
        accept_after_retry: tuple[str, ...] = (),
        not_yet: bool = False,
        **variables: Any,
    ) -> dict:
        """`accept_after_retry`: codes that mean "an earlier try of this call went through"
        (a CONFLICT once the connection broke after the server acted)."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        deadline = time.monotonic() + self.budget
        delay, tries = 0.1, 0
        while True:
            tries += 1
            kind, expected, message = self._try(query, headers, variables)
            if isinstance(kind, dict):
                return kind
            code = kind
            if code in accept or (tries > 1 and code in accept_after_retry):
                return {"errors": [{"extensions": {"code": code}, "message": message}]}
            if code == "NOT_FOUND" and not_yet:
                code, expected = "NOT_FOUND (not yet)", True
            self.errors.add(ClientError(time.time(), operation, code, expected, message[:200]))
            if time.monotonic() + delay > deadline:
                raise GaveUp(operation, code)
            time.sleep(delay)
            delay = min(1.0, delay * 2)

    def _try(
        self, query: str, headers: dict[str, str], variables: dict[str, Any]
    ) -> tuple[Any, bool, str]:
        """(result, _, _) on success; otherwise (code, expected, message)."""
        self.http.cookies.clear()  # each call speaks for exactly the token it is given
        try:
            reply = self.http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
        except httpx.TransportError as exc:
            return f"transport: {type(exc).__name__}", True, str(exc)
        if reply.status_code != 200:
            code = reply.status_code
            return f"HTTP {code}", code in EXPECTED_HTTP, reply.text[:200]
        result = reply.json()
        errors = result.get("errors")
        if not errors:
            # A mutation's expected failures are userErrors in its payload (MUT-4).
            payloads = [p for p in (result.get("data") or {}).values() if isinstance(p, dict)]
            user_errors = [e for p in payloads for e in p.get("userErrors") or []]
            if not user_errors:
                return result, True, ""
            first = user_errors[0]
            return first["code"], False, first.get("message", "")
        first = errors[0]
        code = (first.get("extensions") or {}).get("code", "NO CODE")
        return code, code == "UNAVAILABLE", first.get("message", "")

    def signup(self) -> str:
        email = f"c{uuid.uuid4().hex[:12]}@example.com"
        result = self.call("signUp", SIGNUP, e=email, accept_after_retry=("CONFLICT",))
        if result.get("errors"):  # the first try created the account; sign in instead
            return self.call("signIn", SIGNIN, e=email)["data"]["signIn"]["token"]
        return result["data"]["signUp"]["token"]


class Plan(StrEnum):
    PAY = "pay"
    DECLINE = "decline"
    LEAVE = "leave"  # unpaid: it must expire


PLANS = (Plan.PAY, Plan.LEAVE, Plan.DECLINE)


@dataclass
class Flow:
    plan: Plan
    started: float
    # The services' ids (what the databases hold); the API's are `order_global_id`.
    ticket_id: str | None = None
    order_id: str | None = None
    order_global_id: str | None = None
    expires_at: str | None = None
    # What the buyer was told: "paid", "declined", "left", "conflict", "ticket taken",
    # "gave up at <operation>".
    answer: str = ""
    finished: float | None = None
    # Paid: whether its seller delivers it (the others are left to miss their deadline), and
    # what the seller was told ("delivered", "too late", "gave up at ...": delivering.py).
    deliver: bool = False
    delivery: str = ""


def error_code(result: dict) -> str | None:
    errors = result.get("errors")
    return errors[0]["extensions"]["code"] if errors else None


def run_flow(client: Client, seller: str, buyer: str, plan: Plan, flow: Flow) -> None:
    # One key per action, kept through its retries (IDEM-2, IDEM-6): a retry of a request that
    # went through gets its result, never a second ticket or a CONFLICT with its own hold.
    ticket = client.call("createTicket", CREATE_TICKET, seller, t="Chaos", p="25", k=new_key())
    ticket_id = ticket["data"]["createTicket"]["ticket"]["id"]
    flow.ticket_id = raw_id(ticket_id)
    ordered = client.call(
        "createOrder", CREATE_ORDER, buyer, not_yet=True, id=ticket_id, k=new_key()
    )
    order = ordered["data"]["createOrder"]["order"]
    flow.order_global_id, flow.expires_at = order["id"], order["expiresAt"]
    flow.order_id = raw_id(order["id"])
    if plan is Plan.LEAVE:
        flow.answer = "left"
        return
    paid = client.call(
        "createPayment",
        CREATE_PAYMENT,
        buyer,
        not_yet=True,
        accept=("PAYMENT_DECLINED", "CONFLICT"),
        o=flow.order_global_id,
        m=PAYS if plan is Plan.PAY else DECLINES,
        k=new_key(),
    )
    code = error_code(paid)
    if code == "PAYMENT_DECLINED":  # replayed to a retry too (IDEM-4)
        flow.answer = "declined"
    elif code == "CONFLICT":  # expired while we retried
        flow.answer = "conflict"
    else:
        status = paid["data"]["createPayment"]["payment"]["status"]
        flow.answer = "paid" if status == "SUCCEEDED" else f"payment {status}"


@dataclass
class Load:
    """`users` buyer/seller pairs, each running flows one after another (pay, leave, decline in
    turn) until `stop` is set or it has run `max_flows`. With `sellers`, each seller sets up
    payouts as `tests.chaos.sellers.onboarding_of` their user says (at start, mid-run or never).
    With `deliver`, the seller delivers every other paid order right after it is paid (called
    with the user's client, the seller's token and the flow), a mid-run seller every one; the
    rest are never delivered."""

    base_url: str
    users: int
    max_flows: int
    think_seconds: float
    sellers: Sellers | None = None
    deliver: Callable[[Client, str, Flow], None] | None = None
    errors: ErrorLog = field(default_factory=ErrorLog)
    flows: list[Flow] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    crashes: list[str] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for index in range(self.users):
            thread = threading.Thread(target=self._user, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def finish(self, timeout: float = 120) -> None:
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            self.crashes.append(f"a user was still running {timeout:.0f}s after the stop")

    def _set_up(self, client: Client, seller: str, index: int) -> str:
        return "" if self.sellers is None else self.sellers.set_up_user(client, seller, index)

    def _user(self, index: int) -> None:
        client = Client(self.base_url, self.errors)
        try:
            seller, buyer = client.signup(), client.signup()
            seller_id = self._set_up(client, seller, index)
            for n in range(self.max_flows):
                if self.stop.is_set():
                    return
                if self.sellers is not None:
                    self.sellers.between_flows(client, seller, seller_id)
                flow = Flow(PLANS[(index + n) % len(PLANS)], time.time())
                always = self.sellers is not None and self.sellers.delivers_everything(index)
                flow.deliver = self.deliver is not None and (
                    always or (index + n) // len(PLANS) % 2 == 0
                )
                with self._lock:
                    self.flows.append(flow)
                try:
                    run_flow(client, seller, buyer, flow.plan, flow)
                    if flow.answer == "paid" and flow.deliver and self.deliver is not None:
                        self.deliver(client, seller, flow)
                except GaveUp as exc:
                    if flow.answer == "paid":
                        flow.delivery = f"gave up at {exc.operation} ({exc.kind})"
                    else:
                        flow.answer = f"gave up at {exc.operation} ({exc.kind})"
                flow.finished = time.time()
                self.stop.wait(self.think_seconds)
        except Exception as exc:  # a bug of the harness, or an answer it cannot read
            self.crashes.append(f"user {index}: {type(exc).__name__}: {exc}")
        finally:
            client.close()


class Probe:
    """The harness's own buyer: one paid flow, to the order shown COMPLETE. `recover()` repeats
    it until one succeeds: the service is back, end to end. Its errors are not the load's."""

    def __init__(self, base_url: str) -> None:
        self.client = Client(base_url, ErrorLog(), budget=10)
        self.seller = self.buyer = ""
        self.flows: list[Flow] = []

    def sign_up(self) -> None:
        self.seller, self.buyer = self.client.signup(), self.client.signup()

    def once(self) -> bool:
        flow = Flow(Plan.PAY, time.time())
        self.flows.append(flow)
        try:
            run_flow(self.client, self.seller, self.buyer, Plan.PAY, flow)
            if flow.answer != "paid":
                return False
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                seen = self.client.call("order", GET_ORDER, self.buyer, id=flow.order_global_id)
                if seen["data"]["order"]["status"] == "COMPLETE":
                    flow.finished = time.time()
                    return True
                time.sleep(0.1)
            return False
        except GaveUp as exc:
            flow.answer = f"gave up at {exc.operation} ({exc.kind})"
            return False

    def recover(self, timeout: float) -> float | None:
        """Seconds until a flow succeeded, or None if none did within `timeout`."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.once():
                return time.monotonic() - start
            time.sleep(0.2)
        return None

    def close(self) -> None:
        self.client.close()
