"""Passes over real gRPC, SecantusDB and RabbitMQ (issue 22, docs/design/delivery.md §4): a
delivered order's seats get one pass each, in the delivery's transaction, with codes a door
verifies with the published keys; the holder offers one to an e-mail address, and whoever signs
in with it accepts: re-issued to them, the old code revoked."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import grpc
import pytest

from common import events
from common.mongo import database_name, mongo_client
from svc_delivery.adapters.signing_keys import check_signature
from svc_delivery.bootstrap import bootstrap as delivery_bootstrap
from svc_delivery.config import DeliverySettings
from svc_delivery.domain.entry import RevocationList, ScanOutcome, decide
from svc_delivery.domain.keys import KeyRing
from tests.support import servers, service_tokens
from tests.support.bus_probe import eventually, publish_event
from tests.support.tap import EventTap
from tests.support.tokens import issuer_for
from ticketing.delivery.v1 import delivery_pb2 as pb
from ticketing.delivery.v1 import delivery_pb2_grpc
from ticketing.events.v1 import orders_pb2
from ticketing.orders.v1 import orders_pb2 as orders_api
from ticketing.tickets.v1 import tickets_pb2

pytestmark = pytest.mark.integration


class Box:
    def __init__(self, env, port: int) -> None:
        self.issuer = issuer_for(env)
        self.channel = service_tokens.channel(env, f"127.0.0.1:{port}")
        self.delivery = delivery_pb2_grpc.DeliveryServiceStub(self.channel)

    def user(self, email: str = "") -> tuple[str, tuple[tuple[str, str], ...]]:
        user_id = str(uuid.uuid4())
        token, _ = self.issuer.issue(user_id, email or f"{user_id[:8]}@example.com")
        return user_id, (("authorization", f"Bearer {token}"),)


@pytest.fixture
async def box(env, mongo_url, namespace):
    port = servers.free_port()
    process = delivery_bootstrap(DeliverySettings.from_env({**env, "DELIVERY_PORT": str(port)}))
    await process.start("127.0.0.1", port)
    await process.wait_consumers_ready()
    box = Box(env, port)
    client = mongo_client(mongo_url)
    box.db = client[database_name(namespace, "delivery")]
    yield box
    await box.channel.close()
    await client.close()
    await process.stop()


async def delivered(box: Box, amqp_url: str, namespace: str, buyer_id: str, seller, seats: int):
    """An order of `seats` seats for a catalogue event, placed, paid and delivered (barcodes),
    as orders' events and the seller's RPC bring it to delivery."""
    seller_id, seller_md = seller
    order_id, event_id = str(uuid.uuid4()), str(uuid.uuid4())
    publish_event(
        amqp_url,
        namespace,
        orders_pb2.OrderCreated(
            id=order_id,
            version=1,
            status=orders_api.ORDER_STATUS_AWAITING_PAYMENT,
            user_id=buyer_id,
            ticket=orders_pb2.OrderCreated.Ticket(
                id=str(uuid.uuid4()),
                price="20",
                currency_code="USD",
                quantity=seats,
                seller_id=seller_id,
                event_id=event_id,
                delivery_method=tickets_pb2.DELIVERY_METHOD_BARCODE,
                seat_labels=[f"A{n}" for n in range(1, seats + 1)],
            ),
        ),
    )
    publish_event(
        amqp_url,
        namespace,
        orders_pb2.OrderUpdated(
            id=order_id, version=2, status=orders_api.ORDER_STATUS_COMPLETE, user_id=buyer_id
        ),
    )

    async def due() -> bool:
        try:
            reply = await box.delivery.GetDelivery(
                pb.GetDeliveryRequest(order_id=order_id), metadata=seller_md
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.NOT_FOUND:
                return False
            raise
        return reply.delivery.status == pb.DELIVERY_STATUS_DUE

    await eventually(due)
    await box.delivery.DeliverBarcodes(
        pb.DeliverBarcodesRequest(
            order_id=order_id, barcodes=[f"BC-{n:04d}" for n in range(seats)]
        ),
        metadata=seller_md,
    )
    return order_id, event_id


async def ring(box: Box) -> KeyRing:
    reply = await box.delivery.GetTicketKeys(pb.GetTicketKeysRequest())
    return KeyRing.from_published(json.loads(reply.jwks_json))


async def door(box: Box, keys: KeyRing, event_id: str, code: str) -> ScanOutcome:
    """What a door decides for `code`, with the event's revocation list as stored."""
    revoked = {
        doc["_id"]: doc["valid_from"]
        async for doc in box.db["passes"].find({"event_id": event_id, "valid_from": {"$gt": 1}})
    }
    return decide(
        code,
        event_id=event_id,
        keys=keys,
        check=check_signature,
        revocations=RevocationList(event_id, revoked),
        admitted={},
        scan_id=str(uuid.uuid4()),
        scanner_id="scanner",
        gate="A",
        at=datetime.now(UTC),
    ).outcome


async def test_delivered_seats_get_passes_whose_codes_a_door_admits_and_a_transfer_reissues(
    box, amqp_url, namespace
):
    tap = EventTap(amqp_url, namespace, ("pass.*",))
    try:
        seller = box.user()
        buyer_id, buyer = box.user()
        order_id, event_id = await delivered(box, amqp_url, namespace, buyer_id, seller, seats=2)
        keys = await ring(box)

        mine = (await box.delivery.ListMyPasses(pb.ListMyPassesRequest(), metadata=buyer)).passes
        assert sorted((p.seat, p.seat_label, p.serial) for p in mine) == [
            (0, "A1", 1),
            (1, "A2", 1),
        ]
        assert all(p.order_id == order_id and p.holder_id == buyer_id for p in mine)
        for one in mine:
            assert await door(box, keys, event_id, one.code) is ScanOutcome.VALID
        issued = await asyncio.to_thread(tap.wait_for, 2, timeout=30, key="pass.issued")
        assert sorted(events.decode(s.properties.type, s.body).pass_id for s in issued) == sorted(
            p.id for p in mine
        )

        # The seller sees the order's passes, with no code and no holder.
        seen_by_seller = (
            await box.delivery.ListOrderPasses(
                pb.ListOrderPassesRequest(order_id=order_id), metadata=seller[1]
            )
        ).passes
        assert [(p.code, p.holder_id) for p in seen_by_seller] == [("", ""), ("", "")]

        first = sorted(mine, key=lambda p: p.seat)[0]
        friend_email = f"friend-{uuid.uuid4().hex[:6]}@example.com"
        with pytest.raises(grpc.aio.AioRpcError) as stale:
            await box.delivery.OfferPassTransfer(
                pb.OfferPassTransferRequest(
                    pass_id=first.id, to_email=friend_email, expected_version=first.version + 1
                ),
                metadata=buyer,
            )
        assert stale.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        offered = getattr(
            await box.delivery.OfferPassTransfer(
                pb.OfferPassTransferRequest(
                    pass_id=first.id, to_email=friend_email.upper(), expected_version=first.version
                ),
                metadata=buyer,
            ),
            "pass",
        )
        assert offered.state == pb.PASS_STATE_TRANSFER_OFFERED
        assert offered.code == first.code  # still the holder's until accepted
        [offer_event] = await asyncio.to_thread(
            tap.wait_for, 1, timeout=30, key="pass.transfer_offered"
        )
        assert events.decode(offer_event.properties.type, offer_event.body).to_email == friend_email

        # A stranger: no offer for them.
        _, stranger = box.user()
        with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
            await box.delivery.AcceptPassTransfer(
                pb.AcceptPassTransferRequest(pass_id=first.id), metadata=stranger
            )
        assert not_theirs.value.code() is grpc.StatusCode.NOT_FOUND
        incoming_stranger = await box.delivery.ListIncomingTransfers(
            pb.ListIncomingTransfersRequest(), metadata=stranger
        )
        assert list(incoming_stranger.transfers) == []

        friend_id, friend = box.user(friend_email)
        incoming = (
            await box.delivery.ListIncomingTransfers(
                pb.ListIncomingTransfersRequest(), metadata=friend
            )
        ).transfers
        assert [(t.pass_id, t.seat_label) for t in incoming] == [(first.id, "A1")]
        accepted = getattr(
            await box.delivery.AcceptPassTransfer(
                pb.AcceptPassTransferRequest(pass_id=first.id), metadata=friend
            ),
            "pass",
        )
        assert (accepted.holder_id, accepted.serial, accepted.state) == (
            friend_id,
            2,
            pb.PASS_STATE_ACTIVE,
        )
        again = getattr(
            await box.delivery.AcceptPassTransfer(
                pb.AcceptPassTransferRequest(pass_id=first.id), metadata=friend
            ),
            "pass",
        )
        assert again.serial == 2  # a retried accept changes nothing
        [reissued] = await asyncio.to_thread(tap.wait_for, 1, timeout=30, key="pass.reissued")
        event = events.decode(reissued.properties.type, reissued.body)
        assert (event.holder_id, event.previous_holder_id, event.serial, event.revoked_serial) == (
            friend_id,
            buyer_id,
            2,
            1,
        )
        assert await door(box, keys, event_id, accepted.code) is ScanOutcome.VALID
        assert await door(box, keys, event_id, first.code) is ScanOutcome.REVOKED

        # The buyer no longer holds it: they see it on the order, without its code.
        left = (await box.delivery.ListMyPasses(pb.ListMyPassesRequest(), metadata=buyer)).passes
        assert [p.seat for p in left] == [1]
        got = getattr(
            await box.delivery.GetPass(pb.GetPassRequest(pass_id=first.id), metadata=buyer),
            "pass",
        )
        assert (got.code, got.serial) == ("", 2)
    finally:
        tap.close()


async def test_an_accept_racing_a_withdrawal_one_wins(box, amqp_url, namespace):
    seller = box.user()
    buyer_id, buyer = box.user()
    await delivered(box, amqp_url, namespace, buyer_id, seller, seats=1)
    [held] = (await box.delivery.ListMyPasses(pb.ListMyPassesRequest(), metadata=buyer)).passes
    email = f"race-{uuid.uuid4().hex[:6]}@example.com"
    friend_id, friend = box.user(email)
    await box.delivery.OfferPassTransfer(
        pb.OfferPassTransferRequest(pass_id=held.id, to_email=email, expected_version=held.version),
        metadata=buyer,
    )

    results = await asyncio.gather(
        box.delivery.AcceptPassTransfer(
            pb.AcceptPassTransferRequest(pass_id=held.id), metadata=friend
        ),
        box.delivery.WithdrawPassTransfer(
            pb.WithdrawPassTransferRequest(pass_id=held.id), metadata=buyer
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert [r.code() for r in refused] == [grpc.StatusCode.NOT_FOUND]
    stored = await box.db["passes"].find_one({"_id": held.id})
    if isinstance(results[0], grpc.aio.AioRpcError):  # the withdrawal won
        assert (stored["holder_id"], stored["serial"], stored["state"]) == (buyer_id, 1, "ACTIVE")
    else:  # the accept won
        assert (stored["holder_id"], stored["serial"], stored["state"]) == (friend_id, 2, "ACTIVE")
