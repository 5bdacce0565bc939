"""Subscriptions over a WebSocket (graphql-transport-ws on /graphql) against the whole stack
(`ticketing run`), with more gateway processes started beside its own on the same namespace:
replicas of the gateway, as a Deployment runs them.

- the owner of an order sees it change through a purchase and a cancellation, and the stream
  completes after the last state; a ticket's subscribers see it held, sold and released;
- another user's order and an unknown one are NOT_FOUND; no token or a bad one is
  UNAUTHENTICATED; a token revoked or expired meanwhile ends the stream with UNAUTHENTICATED;
- a change made through one gateway reaches subscribers of another, whose two worker
  processes each have a queue of their own, gone when the gateway stops;
- a gateway that lost RabbitMQ while a change was made pushes it once it is back;
- the session cookie authenticates a handshake from the gateway's own origin or an allowed
  one; from any other origin a handshake with the cookie is refused;
- the limits on subscriptions per connection and connections per user and per address."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pika
import pika.exceptions
import pytest
from websockets.exceptions import InvalidStatus

from common import bus
from tests.support import servers, service_tokens
from tests.support.ids import global_id, raw_id
from tests.support.market import Api
from tests.support.stack import RunningStack
from tests.support.subscriber import ORDER_UPDATED, TICKET_UPDATED, Subscriber
from tests.support.tokens import issuer_for
from tests.support.waiting import until

pytestmark = pytest.mark.e2e

FOREIGN = "https://evil.example"
ALLOWED = "https://shop.example"


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@dataclass
class Gateway:
    proc: subprocess.Popen
    base_url: str
    log: Path

    def live_queues(self, count: int) -> list[str]:
        """The subscription queues its processes declared (from their log lines)."""

        def found() -> set[str]:
            lines = self.log.read_text(errors="replace").splitlines()
            entries = [json.loads(line) for line in lines if line.startswith("{")]
            return {e["queue"] for e in entries if e["msg"] == "subscription feed consuming"}

        return sorted(until(found, lambda queues: len(queues) >= count))


@contextlib.contextmanager
def another_gateway(stack: RunningStack, tmp_path: Path, **settings: str) -> Iterator[Gateway]:
    """A gateway process of its own on the stack's namespace and services."""
    port = servers.free_port()
    env = {
        **stack.env,
        "JWT_PUBLIC_KEY_FILE": str(stack.run_dir / "jwt" / "public.pem"),
        **service_tokens.of_run(stack.run_dir),  # the gateway's service key
        "GATEWAY_PORT": str(port),
        "GATEWAY_ADMIN_PORT": str(servers.free_port()),
        "LOG_LEVEL": "INFO",
        **settings,
    }
    log = tmp_path / f"gateway-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        servers.wait_for_port(port, 60, proc)
        yield Gateway(proc, f"http://127.0.0.1:{port}", log)
    finally:
        servers.stop_process(proc)


def signed_up(api: Api) -> tuple[str, str, str]:
    """(email, password, token) of a new user."""
    email, password = f"u{uuid.uuid4().hex[:10]}@example.com", "s3cret-pass"
    return email, password, api.sign_up(email, password)["token"]


def signed_in(api: Api, email: str, password: str) -> str:
    return api.sign_in(email, password)


def cancel(api: Api, token: str, order_id: str) -> dict:
    return api.cancel(token, order_id)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_the_owner_follows_a_purchase_and_ticket_subscribers_see_it_held(api, stack):
    seller, buyer = api.user(), api.user()
    ticket = api.sell(seller, "Row F", "20")
    anyone = Subscriber.connect(stack.base_url).acked()  # tickets are public
    owner = Subscriber.connect(stack.base_url, bearer(buyer)).acked()
    try:
        watching_ticket = anyone.subscribe(TICKET_UPDATED, id=ticket["id"])
        first = anyone.data(watching_ticket, "ticketUpdated")
        assert first == {**{k: ticket[k] for k in first}, "state": "FOR_SALE"}

        order = api.order(buyer, ticket["id"])
        watching_order = owner.subscribe(ORDER_UPDATED, id=order["id"])
        now = owner.data(watching_order, "orderUpdated")
        assert now["status"] == "CREATED" and now["payment"] is None and now["version"] == 0
        assert now["buyer"] == order["buyer"] and now["ticket"] == {
            "id": ticket["id"],
            "state": "HELD",
        }
        held = anyone.data(watching_ticket, "ticketUpdated")
        assert held["state"] == "HELD" and held["version"] == 1

        paid = api.pay(buyer, order["id"])
        complete = owner.data(watching_order, "orderUpdated")
        assert complete["status"] == "COMPLETE" and complete["version"] == 1
        assert complete["payment"]["id"] == paid["id"]
        assert complete["payment"]["amount"] == ticket["price"]
        # The seat is sold by tickets once the paid order's OrderUpdated reaches it, a moment
        # after the order completes: the ticket's subscribers see it SOLD.
        assert complete["ticket"]["id"] == ticket["id"]
        assert owner.completed(watching_order)  # nothing changes after COMPLETE
        sold = anyone.data(watching_ticket, "ticketUpdated")
        assert sold["state"] == "SOLD" and sold["version"] == 2
    finally:
        anyone.close()
        owner.close()


def test_a_cancellation_completes_the_order_stream_and_frees_the_ticket(api, stack):
    seller, buyer = api.user(), api.user()
    ticket = api.sell(seller)
    order = api.order(buyer, ticket["id"])
    # The token in connection_init rather than in the handshake.
    owner = Subscriber.connect(stack.base_url, {"authorization": f"Bearer {buyer}"}).acked()
    anyone = Subscriber.connect(stack.base_url).acked()
    try:
        watching_order = owner.subscribe(ORDER_UPDATED, id=order["id"])
        assert owner.data(watching_order, "orderUpdated")["status"] == "CREATED"
        watching_ticket = anyone.subscribe(TICKET_UPDATED, id=ticket["id"])
        held = anyone.until(watching_ticket, "ticketUpdated", lambda t: t["state"] == "HELD")

        cancel(api, buyer, order["id"])
        cancelled = owner.data(watching_order, "orderUpdated")
        assert cancelled["status"] == "CANCELLED" and cancelled["version"] == 1
        assert owner.completed(watching_order)
        freed = anyone.until(watching_ticket, "ticketUpdated", lambda t: t["state"] == "FOR_SALE")
        assert freed["version"] > held["version"]
    finally:
        owner.close()
        anyone.close()


def test_another_users_order_an_unknown_one_and_no_token_are_refused(api, stack):
    seller, buyer, stranger = api.user(), api.user(), api.user()
    order = api.order(buyer, api.sell(seller)["id"])
    snooper = Subscriber.connect(stack.base_url, {"token": stranger}).acked()
    nobody = Subscriber.connect(stack.base_url).acked()
    forger = Subscriber.connect(stack.base_url, {"token": buyer[:-4] + "AAAA"}).acked()
    try:
        assert snooper.error_codes(snooper.subscribe(ORDER_UPDATED, id=order["id"])) == [
            "NOT_FOUND"
        ]
        for unknown_id in (global_id("Order", str(uuid.uuid4())), "not-an-id"):
            unknown = snooper.subscribe(ORDER_UPDATED, id=unknown_id)
            assert snooper.error_codes(unknown) == ["NOT_FOUND"], unknown_id
        for unknown_id in (global_id("Ticket", str(uuid.uuid4())), order["id"]):
            unknown_ticket = nobody.subscribe(TICKET_UPDATED, id=unknown_id)
            assert nobody.error_codes(unknown_ticket) == ["NOT_FOUND"], unknown_id
        for client in (nobody, forger):
            refused = client.subscribe(ORDER_UPDATED, id=order["id"])
            assert client.error_codes(refused) == ["UNAUTHENTICATED"]
    finally:
        for client in (snooper, nobody, forger):
            client.close()


def test_a_token_revoked_meanwhile_ends_the_stream(api, stack):
    email, password, first_session = signed_up(api)
    second_session = signed_in(api, email, password)
    order = api.order(first_session, api.sell(api.user())["id"])
    owner = Subscriber.connect(stack.base_url, {"token": first_session}).acked()
    try:
        watching = owner.subscribe(ORDER_UPDATED, id=order["id"])
        assert owner.data(watching, "orderUpdated")["status"] == "CREATED"
        api.succeed("signOut", first_session, "user { id }")
        cancel(api, second_session, order["id"])  # a change: the stream checks its token
        assert owner.error_codes(watching) == ["UNAUTHENTICATED"]
        assert owner.completed(watching)
    finally:
        owner.close()


# A revocation is pushed to the subscriptions it ends: well within the poll's 60 s.
PUSHED_WITHIN_SECONDS = 2


@pytest.mark.parametrize("revoke", ["sign-out", "password change"])
def test_a_revocation_ends_an_open_stream_at_once_with_nothing_else_happening(api, stack, revoke):
    email, password, session = signed_up(api)
    other_session = signed_in(api, email, password)  # another device: untouched by a sign-out
    order = api.order(session, api.sell(api.user())["id"])
    owner = Subscriber.connect(stack.base_url, {"token": session}).acked()
    other = Subscriber.connect(stack.base_url, {"token": other_session}).acked()
    try:
        watching = owner.subscribe(ORDER_UPDATED, id=order["id"])
        assert owner.data(watching, "orderUpdated")["status"] == "CREATED"
        watching_other = other.subscribe(ORDER_UPDATED, id=order["id"])
        assert other.data(watching_other, "orderUpdated")["status"] == "CREATED"
        if revoke == "sign-out":
            api.succeed("signOut", session, "user { id }")
        else:
            api.succeed(
                "changePassword",
                other_session,
                "token user { id }",
                currentPassword=password,
                newPassword="an0ther-pass",
            )
        # The order does not change: only the pushed revocation can end the stream this soon.
        message = owner.next(watching, timeout=PUSHED_WITHIN_SECONDS)
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        if revoke == "sign-out":
            # The same user's other session is not signed out: its stream runs on.
            cancel(api, other_session, order["id"])
            assert other.data(watching_other, "orderUpdated")["status"] == "CANCELLED"
        else:
            # A password change ends every session of the user, the one that made it too.
            message = other.next(watching_other, timeout=PUSHED_WITHIN_SECONDS)
            assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        owner.close()
        other.close()


def test_a_token_that_expires_ends_the_stream_when_it_expires(api, stack):
    buyer = api.user()
    user = api.data("{ currentUser { id email } }", buyer)["currentUser"]
    order = api.order(buyer, api.sell(api.user())["id"])
    private_key = (stack.run_dir / "jwt" / "private.pem").read_text()
    issuer = issuer_for(stack.env, ttl_seconds=3, private_key=private_key)
    short_lived, _ = issuer.issue(raw_id(user["id"], "User"), user["email"])
    owner = Subscriber.connect(stack.base_url, {"token": short_lived}).acked()
    try:
        watching = owner.subscribe(ORDER_UPDATED, id=order["id"])
        assert owner.data(watching, "orderUpdated")["status"] == "CREATED"
        # Nothing happens to the order: the token's expiry alone ends the stream.
        message = owner.next(watching)
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert message["payload"]["errors"][0]["message"] == "Token expired"
    finally:
        owner.close()


def test_a_change_through_one_gateway_reaches_every_worker_of_another(
    api, stack, tmp_path, amqp_url
):
    seller, buyer = api.user(), api.user()
    ticket = api.sell(seller)
    with another_gateway(stack, tmp_path, GATEWAY_WORKERS="2") as replica:
        queues = replica.live_queues(2)  # one per worker process
        subscribers = [Subscriber.connect(replica.base_url).acked() for _ in range(6)]
        try:
            watching = [s.subscribe(TICKET_UPDATED, id=ticket["id"]) for s in subscribers]
            for subscriber, operation in zip(subscribers, watching, strict=True):
                assert subscriber.data(operation, "ticketUpdated")["state"] == "FOR_SALE"
            api.order(buyer, ticket["id"])  # through the stack's own gateway
            for subscriber, operation in zip(subscribers, watching, strict=True):
                assert subscriber.data(operation, "ticketUpdated")["state"] == "HELD"
        finally:
            for subscriber in subscribers:
                subscriber.close()
        assert all(queue_exists(amqp_url, name) for name in queues)
    assert not any(queue_exists(amqp_url, name) for name in queues)


def queue_exists(amqp_url: str, name: str) -> bool:
    connection = bus.connect(amqp_url)
    try:
        connection.channel().queue_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as exc:
        # 405: it exists, exclusive to the connection that declared it.
        assert exc.reply_code in (404, 405), exc
        return exc.reply_code == 405
    finally:
        if connection.is_open:
            connection.close()


def test_a_change_made_while_the_gateway_had_no_broker_is_pushed_once_it_is_back(
    api, stack, tmp_path, amqp_url
):
    broker = servers.TcpProxy(pika.URLParameters(amqp_url).port)
    broker.start()
    seller, buyer = api.user(), api.user()
    order = api.order(buyer, api.sell(seller)["id"])
    amqp_via_proxy = servers.amqp_url_via(broker.port)
    try:
        with another_gateway(stack, tmp_path, AMQP_URL=amqp_via_proxy) as replica:
            first_queue = replica.live_queues(1)[0]
            owner = Subscriber.connect(replica.base_url, bearer(buyer)).acked()
            try:
                watching = owner.subscribe(ORDER_UPDATED, id=order["id"])
                assert owner.data(watching, "orderUpdated")["status"] == "CREATED"
                broker.stop()  # the connection drops, and the broker deletes its queue
                until(lambda: queue_exists(amqp_url, first_queue), lambda exists: not exists)
                cancel(api, buyer, order["id"])  # the event has nowhere to go in this gateway
                broker.start()
                cancelled = owner.data(watching, "orderUpdated")
                assert cancelled["status"] == "CANCELLED"
                assert owner.completed(watching)
            finally:
                owner.close()
    finally:
        broker.stop()


def test_the_session_cookie_is_taken_only_from_allowed_origins(api, stack, tmp_path):
    buyer = api.user()
    order = api.order(buyer, api.sell(api.user())["id"])
    cookie = {"cookie": f"session={buyer}"}
    with another_gateway(stack, tmp_path, CORS_ALLOWED_ORIGINS=ALLOWED) as replica:
        for origin in (FOREIGN, "http://127.0.0.1:1"):
            with pytest.raises(InvalidStatus) as refused:
                Subscriber.connect(replica.base_url, headers=cookie, origin=origin)
            assert refused.value.response.status_code == 403
        own_origin = replica.base_url
        for origin in (own_origin, ALLOWED):
            client = Subscriber.connect(replica.base_url, headers=cookie, origin=origin).acked()
            try:
                watching = client.subscribe(ORDER_UPDATED, id=order["id"])
                assert client.data(watching, "orderUpdated")["id"] == order["id"]
            finally:
                client.close()
        # Without the cookie a foreign page has nothing to abuse: it is let in, anonymous.
        stranger = Subscriber.connect(replica.base_url, origin=FOREIGN).acked()
        try:
            refused_order = stranger.subscribe(ORDER_UPDATED, id=order["id"])
            assert stranger.error_codes(refused_order) == ["UNAUTHENTICATED"]
        finally:
            stranger.close()


def test_subscriptions_per_connection_and_connections_per_user_and_address(api, stack, tmp_path):
    ticket = api.sell(api.user())
    limits = {
        "SUBSCRIPTIONS_PER_CONNECTION": "1",
        "SUBSCRIPTION_CONNECTIONS_PER_USER": "1",
        "SUBSCRIPTION_CONNECTIONS_PER_ADDRESS": "2",
    }
    user = api.user()
    with another_gateway(stack, tmp_path, **limits) as replica:
        first = Subscriber.connect(replica.base_url, {"token": user}).acked()
        try:
            first.data(first.subscribe(TICKET_UPDATED, id=ticket["id"]), "ticketUpdated")
            second_operation = first.subscribe(TICKET_UPDATED, id=ticket["id"])
            message = first.next(second_operation)
            assert message["type"] == "error"
            assert message["payload"][0]["message"] == "Subscription limit reached"

            same_user = Subscriber.connect(replica.base_url, {"token": user})
            assert same_user.close_code() == 4429
            assert same_user.connection.close_reason == "Too many open connections for this user"

            second = Subscriber.connect(replica.base_url).acked()  # anonymous: the address's 2nd
            try:
                with pytest.raises(InvalidStatus) as refused:
                    Subscriber.connect(replica.base_url)
                assert refused.value.response.status_code == 429
                body = json.loads(refused.value.response.body)
                assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
            finally:
                second.close()
        finally:
            first.close()
        # Slots are given back with their connections.
        again = until(lambda: reconnected(replica.base_url), lambda s: s is not None)
        again.close()


def reconnected(base_url: str) -> Subscriber | None:
    try:
        return Subscriber.connect(base_url).acked()
    except InvalidStatus:
        return None


def test_subscription_documents_are_held_to_the_query_limits(stack):
    nested = "{ ticket " * 10 + "{ id" + " }" * 11  # 12 levels under orderUpdated
    deep = "subscription($id: ID!) { orderUpdated(id: $id) " + nested + " }"
    client = Subscriber.connect(stack.base_url).acked()
    try:
        message = client.next(client.subscribe(deep, id="o1"))
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "depth" in message["payload"][0]["message"]
    finally:
        client.close()


def test_a_subscription_over_http_and_a_query_over_a_websocket_are_refused(stack):
    reply = httpx.post(
        f"{stack.base_url}/graphql",
        json={"query": 'subscription { ticketUpdated(id: "t") { id } }'},
    )
    assert [e["extensions"]["code"] for e in reply.json()["errors"]] == ["BAD_USER_INPUT"]
    client = Subscriber.connect(stack.base_url).acked()
    try:
        assert client.error_codes(client.subscribe("{ currentUser { id } }")) == ["BAD_USER_INPUT"]
    finally:
        client.close()
