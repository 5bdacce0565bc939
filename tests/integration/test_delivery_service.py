"""Delivery over real gRPC, SecantusDB and RabbitMQ (issue 22): tickets fixes the terms when the
seats are held, orders publishes them, delivery opens the delivery, follows the payment, takes
the seller's files (in GridFS's layout, in the delivery's transaction) or barcodes, serves the
bytes to the buyer, and a missed deadline is published once and counted on the seller's
record."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
import zipfile
from datetime import timedelta

import grpc
import pytest
from gridfs import AsyncGridFSBucket

from common import events
from common.mongo import database_name, mongo_client
from svc_delivery.bootstrap import bootstrap as delivery_bootstrap
from svc_delivery.config import DeliverySettings
from svc_orders.bootstrap import bootstrap as orders_bootstrap
from svc_orders.config import OrdersSettings
from svc_tickets.bootstrap import bootstrap as tickets_bootstrap
from svc_tickets.config import TicketsSettings
from tests.support import servers, service_tokens
from tests.support.bus_probe import eventually, publish_event
from tests.support.tap import EventTap
from tests.support.tokens import issuer_for
from ticketing.delivery.v1 import delivery_pb2 as pb
from ticketing.delivery.v1 import delivery_pb2_grpc
from ticketing.events.v1 import delivery_pb2 as delivery_events
from ticketing.events.v1 import payments_pb2
from ticketing.orders.v1 import orders_pb2, orders_pb2_grpc
from ticketing.tickets.v1 import tickets_pb2, tickets_pb2_grpc

pytestmark = pytest.mark.integration

# A real (tiny) PDF: one empty page.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
) + bytes(range(256)) * 1200  # past one GridFS chunk (255 KiB), so chunks are joined in order


class Desk:
    def __init__(self, env, ports: dict[str, int]) -> None:
        self.issuer = issuer_for(env)
        self.env = env
        self.delivery_target = f"127.0.0.1:{ports['delivery']}"
        self.channels = [
            service_tokens.channel(env, f"127.0.0.1:{ports[name]}")
            for name in ("tickets", "orders", "delivery")
        ]
        self.tickets = tickets_pb2_grpc.TicketsServiceStub(self.channels[0])
        self.orders = orders_pb2_grpc.OrdersServiceStub(self.channels[1])
        self.delivery = delivery_pb2_grpc.DeliveryServiceStub(self.channels[2])

    def user(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        user_id = str(uuid.uuid4())
        token, _ = self.issuer.issue(user_id, f"{user_id[:8]}@example.com")
        return user_id, (("authorization", f"Bearer {token}"),)

    async def sold(self, seller, buyer, method: int, quantity: int = 1) -> orders_pb2.Order:
        ticket = (
            await self.tickets.CreateTicket(
                tickets_pb2.CreateTicketRequest(
                    title="Concert",
                    price="20",
                    currency_code="USD",
                    idempotency_key=uuid.uuid4().hex,
                    quantity=quantity,
                    delivery_method=method,
                ),
                metadata=seller,
            )
        ).ticket
        order = (
            await self.orders.CreateOrder(
                orders_pb2.CreateOrderRequest(
                    ticket_id=ticket.id, idempotency_key=uuid.uuid4().hex, quantity=quantity
                ),
                metadata=buyer,
            )
        ).order
        return order

    async def delivery_of(self, order_id: str, as_user, status: int) -> pb.Delivery:
        found: list[pb.Delivery] = []

        async def reached() -> bool:
            try:
                reply = await self.delivery.GetDelivery(
                    pb.GetDeliveryRequest(order_id=order_id), metadata=as_user
                )
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.NOT_FOUND:
                    return False
                raise
            found[:] = [reply.delivery]
            return reply.delivery.status == status

        await eventually(reached)
        return found[0]

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


def paid(amqp_url: str, namespace: str, order: orders_pb2.Order) -> None:
    """What payments publishes when the order's charge succeeded: orders completes the order."""
    publish_event(
        amqp_url,
        namespace,
        payments_pb2.ChargeCreated(
            id=str(uuid.uuid4()),
            order_id=order.id,
            stripe_id="pi_test",
            amount=2000,
            currency_code="USD",
        ),
    )


async def _desk(env, deadline_seconds: float):
    ports = {name: servers.free_port() for name in ("tickets", "orders", "delivery")}
    env = {
        **env,
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "DELIVERY_DEADLINE_NO_EVENT_SECONDS": str(deadline_seconds),
        "DELIVERY_SWEEP_SECONDS": "0.05",
    }
    processes = [
        tickets_bootstrap(TicketsSettings.from_env(env)),
        orders_bootstrap(OrdersSettings.from_env(env)),
        delivery_bootstrap(DeliverySettings.from_env(env)),
    ]
    for process, name in zip(processes, ("tickets", "orders", "delivery"), strict=True):
        await process.start("127.0.0.1", ports[name])
        await process.wait_consumers_ready()
    return processes, Desk(env, ports)


@pytest.fixture
async def desk(env, mongo_url, namespace):
    processes, desk = await _desk(env, 48 * 3600)
    client = mongo_client(mongo_url)
    desk.db = client[database_name(namespace, "delivery")]
    yield desk
    await desk.close()
    await client.close()
    for process in reversed(processes):
        await process.stop()


async def test_the_seller_uploads_a_pdf_and_only_the_buyer_and_seller_read_it(
    desk, amqp_url, namespace
):
    tap = EventTap(amqp_url, namespace, ("delivery.*",))
    try:
        seller_id, seller = desk.user()
        buyer_id, buyer = desk.user()
        _, stranger = desk.user()
        order = await desk.sold(seller, buyer, tickets_pb2.DELIVERY_METHOD_E_TICKET)
        opened = await desk.delivery_of(order.id, buyer, pb.DELIVERY_STATUS_AWAITING_PAYMENT)
        assert (opened.seller_id, opened.buyer_id) == (seller_id, buyer_id)
        assert opened.method == tickets_pb2.DELIVERY_METHOD_E_TICKET
        # A v1 listing's deadline: DELIVERY_DEADLINE_NO_EVENT_SECONDS (48 h) after the hold,
        # which came just after the order was opened.
        held_for = opened.deliver_by.ToDatetime() - order.create_time.ToDatetime()
        assert timedelta(hours=48) <= held_for < timedelta(hours=48, minutes=1)

        # Not paid yet: nothing may be delivered.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await desk.delivery.DeliverFiles(
                pb.DeliverFilesRequest(
                    order_id=order.id,
                    files=[pb.UploadedFile(filename="t.pdf", content=PDF, seat=-1)],
                ),
                metadata=seller,
            )
        assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION

        paid(amqp_url, namespace, order)
        await desk.delivery_of(order.id, seller, pb.DELIVERY_STATUS_DUE)

        # The buyer cannot deliver; a stranger does not even see the order.
        with pytest.raises(grpc.aio.AioRpcError) as by_buyer:
            await desk.delivery.DeliverBarcodes(
                pb.DeliverBarcodesRequest(order_id=order.id, barcodes=["ABCD1234"]),
                metadata=buyer,
            )
        assert by_buyer.value.code() is grpc.StatusCode.PERMISSION_DENIED

        upload = pb.DeliverFilesRequest(
            order_id=order.id,
            files=[pb.UploadedFile(filename="../../My Ticket.pdf", content=PDF, seat=-1)],
        )
        delivered = (await desk.delivery.DeliverFiles(upload, metadata=seller)).delivery
        assert delivered.status == pb.DELIVERY_STATUS_DELIVERED
        [file] = delivered.files
        assert (file.filename, file.content_type, file.size) == (
            "My Ticket.pdf",
            "application/pdf",
            len(PDF),
        )
        # The same upload again (a retry) answers the same delivery.
        again = (await desk.delivery.DeliverFiles(upload, metadata=seller)).delivery
        assert [f.id for f in again.files] == [file.id]

        got = await desk.delivery.GetDeliveryFile(
            pb.GetDeliveryFileRequest(order_id=order.id, file_id=file.id), metadata=buyer
        )
        assert hashlib.sha256(got.content).digest() == hashlib.sha256(PDF).digest()
        # Stored in GridFS's own layout: the driver's bucket reads the same bytes.
        stream = await AsyncGridFSBucket(desk.db, "delivery_files").open_download_stream(file.id)
        assert await stream.read() == PDF

        file_request = pb.GetDeliveryFileRequest(order_id=order.id, file_id=file.id)
        for call, request in (
            (desk.delivery.GetDeliveryFile, file_request),
            (desk.delivery.GetDelivery, pb.GetDeliveryRequest(order_id=order.id)),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as hidden:
                await call(request, metadata=stranger)
            assert hidden.value.code() is grpc.StatusCode.NOT_FOUND

        [completed] = await asyncio.to_thread(tap.wait_for, 1, key="delivery.completed")
        event = events.decode(completed.properties.type, completed.body)
        assert isinstance(event, delivery_events.DeliveryCompleted)
        assert (event.order_id, event.seller_id, event.buyer_id) == (order.id, seller_id, buyer_id)
        record = await desk.delivery.GetSellerRecord(pb.GetSellerRecordRequest(seller_id=seller_id))
        assert (record.delivered, record.missed) == (1, 0)
        mine = await desk.delivery.ListMyDeliveries(
            pb.ListMyDeliveriesRequest(role=pb.DELIVERY_ROLE_BUYER), metadata=buyer
        )
        assert [d.order_id for d in mine.deliveries] == [order.id]
    finally:
        tap.close()


async def test_barcodes_one_per_seat_and_a_pass_refused_by_its_content(desk, amqp_url, namespace):
    _, seller = desk.user()
    _, buyer = desk.user()
    order = await desk.sold(seller, buyer, tickets_pb2.DELIVERY_METHOD_BARCODE, quantity=2)
    await desk.delivery_of(order.id, buyer, pb.DELIVERY_STATUS_AWAITING_PAYMENT)
    paid(amqp_url, namespace, order)
    await desk.delivery_of(order.id, seller, pb.DELIVERY_STATUS_DUE)

    with pytest.raises(grpc.aio.AioRpcError) as one_short:
        await desk.delivery.DeliverBarcodes(
            pb.DeliverBarcodesRequest(order_id=order.id, barcodes=["ABCD1234"]), metadata=seller
        )
    assert one_short.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    # Files for a barcode listing: refused whatever they are.
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("pass.json", "{}")
        z.writestr("manifest.json", "{}")
    with pytest.raises(grpc.aio.AioRpcError) as wrong_method:
        await desk.delivery.DeliverFiles(
            pb.DeliverFilesRequest(
                order_id=order.id,
                files=[pb.UploadedFile(filename="p.pkpass", content=archive.getvalue(), seat=-1)],
            ),
            metadata=seller,
        )
    assert wrong_method.value.code() is grpc.StatusCode.FAILED_PRECONDITION

    # Another service than the gateway is refused whatever the user.
    async with service_tokens.channel(desk.env, desk.delivery_target, caller="orders") as other:
        with pytest.raises(grpc.aio.AioRpcError) as not_the_gateway:
            await delivery_pb2_grpc.DeliveryServiceStub(other).GetDelivery(
                pb.GetDeliveryRequest(order_id=order.id), metadata=seller
            )
    assert not_the_gateway.value.code() is grpc.StatusCode.PERMISSION_DENIED

    delivered = (
        await desk.delivery.DeliverBarcodes(
            pb.DeliverBarcodesRequest(order_id=order.id, barcodes=["ABCD-0001", "ABCD-0002"]),
            metadata=seller,
        )
    ).delivery
    assert delivered.status == pb.DELIVERY_STATUS_DELIVERED
    seen = await desk.delivery_of(order.id, buyer, pb.DELIVERY_STATUS_DELIVERED)
    assert list(seen.barcodes) == ["ABCD-0001", "ABCD-0002"]


async def test_a_missed_deadline_is_published_once_and_counted(env, mongo_url, namespace, amqp_url):
    # A v1 listing's deadline: one second after its seats are held.
    processes, desk = await _desk(env, 1)
    tap = EventTap(amqp_url, namespace, ("delivery.*",))
    try:
        seller_id, seller = desk.user()
        buyer_id, buyer = desk.user()
        order = await desk.sold(seller, buyer, tickets_pb2.DELIVERY_METHOD_MOBILE_TRANSFER)
        await desk.delivery_of(order.id, buyer, pb.DELIVERY_STATUS_AWAITING_PAYMENT)
        paid(amqp_url, namespace, order)
        await desk.delivery_of(order.id, buyer, pb.DELIVERY_STATUS_MISSED)

        [missed] = await asyncio.to_thread(tap.wait_for, 1, key="delivery.missed")
        event = events.decode(missed.properties.type, missed.body)
        assert isinstance(event, delivery_events.DeliveryMissed)
        assert (event.order_id, event.seller_id, event.buyer_id) == (order.id, seller_id, buyer_id)
        record = await desk.delivery.GetSellerRecord(pb.GetSellerRecordRequest(seller_id=seller_id))
        assert (record.delivered, record.missed) == (0, 1)
        # Too late to confirm now.
        with pytest.raises(grpc.aio.AioRpcError) as late:
            await desk.delivery.ConfirmMobileTransfer(
                pb.ConfirmMobileTransferRequest(order_id=order.id, note="sent"), metadata=seller
            )
        assert late.value.code() is grpc.StatusCode.FAILED_PRECONDITION

        # A sentinel after it: another order of the seller misses its deadline later; by its
        # event, the first order's has been published exactly once.
        later = await desk.sold(seller, buyer, tickets_pb2.DELIVERY_METHOD_MOBILE_TRANSFER)
        paid(amqp_url, namespace, later)
        await desk.delivery_of(later.id, buyer, pb.DELIVERY_STATUS_MISSED)
        seen = await asyncio.to_thread(tap.wait_for, 2, key="delivery.missed")
        missed_orders = [events.decode(s.properties.type, s.body).order_id for s in seen]
        assert sorted(missed_orders) == sorted([order.id, later.id])
        record = await desk.delivery.GetSellerRecord(pb.GetSellerRecordRequest(seller_id=seller_id))
        assert record.missed == 2
    finally:
        tap.close()
        await desk.close()
        for process in reversed(processes):
            await process.stop()


async def test_a_file_past_grpcs_default_message_size_is_taken_one_past_the_limit_is_not(
    desk, amqp_url, namespace
):
    """gRPC refuses messages over 4 MiB by default; the limit here is DELIVERY_MAX_FILE_BYTES
    (5 MiB), in one transaction with its delivery."""
    _, seller = desk.user()
    _, buyer = desk.user()
    order = await desk.sold(seller, buyer, tickets_pb2.DELIVERY_METHOD_E_TICKET)
    await desk.delivery_of(order.id, buyer, pb.DELIVERY_STATUS_AWAITING_PAYMENT)
    paid(amqp_url, namespace, order)
    await desk.delivery_of(order.id, seller, pb.DELIVERY_STATUS_DUE)
    big = PDF[:200] + bytes(5 * 1024 * 1024 - 200)
    delivered = (
        await desk.delivery.DeliverFiles(
            pb.DeliverFilesRequest(
                order_id=order.id, files=[pb.UploadedFile(filename="big", content=big, seat=-1)]
            ),
            metadata=seller,
        )
    ).delivery
    assert [(f.filename, f.size) for f in delivered.files] == [("big.pdf", len(big))]
    stream = await AsyncGridFSBucket(desk.db, "delivery_files").open_download_stream(
        delivered.files[0].id
    )
    assert await stream.read() == big

    with pytest.raises(grpc.aio.AioRpcError) as too_large:
        await desk.delivery.DeliverFiles(
            pb.DeliverFilesRequest(
                order_id=order.id,
                files=[pb.UploadedFile(filename="big.pdf", content=big + b"!", seat=-1)],
            ),
            metadata=seller,
        )
    assert too_large.value.code() is grpc.StatusCode.INVALID_ARGUMENT
