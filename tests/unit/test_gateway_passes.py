"""Passes through the GraphQL API (issue 22) against a stand-in delivery service: a page of orders
reads its passes at once, the caller's passes paged with their events read in one call, a pass
by node(id:), the transfers offered to the caller, and the transfer mutations with the service's
refusals as userErrors. (The PDF and key routes: test_gateway_pass_files.py.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from common.errors import Conflict, InvalidInput, NotFound
from common.protos import timestamp
from tests.unit.gateway_v1_world import START, errors, gid, oid, run
from tests.unit.test_gateway_deliveries import DeliveryServices
from ticketing.catalogue.v1 import catalogue_pb2
from ticketing.delivery.v1 import delivery_pb2

EVENT = "e0000000-0000-4000-8000-000000000000"
OTHER_EVENT = "e1000000-0000-4000-8000-000000000000"
CODE = "v1.eyJ0Ijoic2lnbmVkIn0.c2lnbmF0dXJl"


def pid(i: int) -> str:
    return f"p{i}000000-0000-4000-8000-000000000000"


def a_pass(i: int, **fields) -> delivery_pb2.Pass:
    values = {
        "id": pid(i),
        "event_id": EVENT,
        "order_id": oid(0),
        "seat": i,
        "seat_label": f"A{i + 1}",
        "serial": 1,
        "state": delivery_pb2.PASS_STATE_ACTIVE,
        "code": f"{CODE}{i}",
        "issued_at": timestamp(START),
        "version": 3,
    } | fields
    return delivery_pb2.Pass(**values)


def reply(cls, p: delivery_pb2.Pass):
    return cls(**{"pass": p})


class PassServices(DeliveryServices):
    def __init__(self) -> None:
        super().__init__()
        self.passes = {p.id: p for p in (a_pass(0), a_pass(1, event_id=OTHER_EVENT))}
        for name in (
            "ListMyPasses",
            "ListOrderPasses",
            "GetPass",
            "OfferPassTransfer",
            "WithdrawPassTransfer",
            "ListIncomingTransfers",
            "AcceptPassTransfer",
            "GetTicketKeys",
        ):
            setattr(self.delivery, name, f"delivery.{name}")
        self.catalogue = SimpleNamespace(BatchGetEvents="catalogue.BatchGetEvents")
        self.events = {
            e: catalogue_pb2.Event(
                id=e,
                name=f"Concert {e[:2]}",
                start_time=timestamp(START),
                venue=catalogue_pb2.Venue(name="Hall", city="Paris", time_zone="Europe/Paris"),
            )
            for e in (EVENT, OTHER_EVENT)
        }

    def BatchGetEvents(self, r):
        return catalogue_pb2.BatchGetEventsResponse(
            events=[self.events[i] for i in r.ids if i in self.events]
        )

    def ListOrderPasses(self, r):
        if r.order_id == oid(1):
            raise NotFound("No such order")
        found = [p for p in self.passes.values() if p.order_id == r.order_id]
        return delivery_pb2.ListOrderPassesResponse(passes=found)

    def ListMyPasses(self, r):
        mine = [p for p in self.passes.values() if not r.event_id or p.event_id == r.event_id]
        page = mine[:1] if not r.page_token else mine[1:]
        token = "next-1" if not r.page_token and len(mine) > 1 else ""
        return delivery_pb2.ListMyPassesResponse(passes=page, next_page_token=token)

    def GetPass(self, r):
        if r.pass_id not in self.passes:
            raise NotFound("No such pass")
        return reply(delivery_pb2.GetPassResponse, self.passes[r.pass_id])

    def OfferPassTransfer(self, r):
        p = self.passes[r.pass_id]
        offered = a_pass(
            0,
            state=delivery_pb2.PASS_STATE_TRANSFER_OFFERED,
            offered_to_email=r.to_email,
            version=p.version + 1,
        )
        return reply(delivery_pb2.OfferPassTransferResponse, offered)

    def WithdrawPassTransfer(self, r):
        return reply(delivery_pb2.WithdrawPassTransferResponse, a_pass(0, version=5))

    def ListIncomingTransfers(self, r):
        offer = delivery_pb2.IncomingTransfer(
            pass_id=pid(7), event_id=EVENT, seat_label="B2", offered_at=timestamp(START)
        )
        return delivery_pb2.ListIncomingTransfersResponse(transfers=[offer])

    def AcceptPassTransfer(self, r):
        mine = a_pass(7, serial=2, code="v1.new", seat_label="B2")
        return reply(delivery_pb2.AcceptPassTransferResponse, mine)


PASS_FIELDS = """id seat seatLabel serial state code offeredToEmail issuedAt enteredAt version
pdfUrl orderRef event { name }"""


async def test_a_page_of_orders_reads_each_orders_passes_at_once():
    services = PassServices()
    result = await run(
        services, "{ orders(first: 3) { nodes { passes { seatLabel code event { name } } } } }"
    )
    assert result.errors is None, result.errors
    first, second, third = (n["passes"] for n in result.data["orders"]["nodes"])
    assert first == [
        {"seatLabel": "A1", "code": f"{CODE}0", "event": {"name": "Concert e0"}},
        {"seatLabel": "A2", "code": f"{CODE}1", "event": {"name": "Concert e1"}},
    ]
    assert second is None  # the service shows the caller none of that order's passes
    assert third == []  # not delivered yet
    asked = services.asked("delivery.ListOrderPasses")
    assert sorted(r.order_id for r in asked) == [oid(0), oid(1), oid(2)]
    # The passes' events: one BatchGetEvents for the page.
    [events] = services.asked("catalogue.BatchGetEvents")
    assert sorted(events.ids) == [EVENT, OTHER_EVENT]


async def test_a_pass_shows_every_field_and_its_pdf_only_with_a_code():
    services = PassServices()
    services.passes[pid(1)] = a_pass(
        1,
        code="",
        seat_label="",
        state=delivery_pb2.PASS_STATE_TRANSFER_OFFERED,
        offered_to_email="friend@example.com",
        entered_at=timestamp(START),
    )
    result = await run(services, f"{{ myPasses(first: 5) {{ nodes {{ {PASS_FIELDS} }} }} }}")
    assert result.errors is None, result.errors
    [held] = result.data["myPasses"]["nodes"]
    assert held == {
        "id": gid("Pass", pid(0)),
        "seat": 0,
        "seatLabel": "A1",
        "serial": 1,
        "state": "ACTIVE",
        "code": f"{CODE}0",
        "offeredToEmail": None,
        "issuedAt": "2026-11-01T00:00:00Z",
        "enteredAt": None,
        "version": 3,
        "pdfUrl": f"/api/passes/{gid('Pass', pid(0))}.pdf",
        "orderRef": gid("Order", oid(0)),
        "event": {"name": "Concert e0"},
    }
    node = await run(
        services, f'{{ node(id: "{gid("Pass", pid(1))}") {{ ... on Pass {{ {PASS_FIELDS} }} }} }}'
    )
    assert node.errors is None, node.errors
    shown = node.data["node"]
    assert (shown["code"], shown["pdfUrl"], shown["seatLabel"]) == (None, None, None)
    assert (shown["state"], shown["offeredToEmail"]) == ("TRANSFER_OFFERED", "friend@example.com")
    assert shown["enteredAt"] == "2026-11-01T00:00:00Z"


MY_PASSES = """query($after: String, $event: ID) {
  myPasses(first: 1, after: $after, eventId: $event) {
    nodes { seatLabel }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""


async def test_my_passes_page_by_the_services_token_and_filter_by_event():
    services = PassServices()
    first = await run(services, MY_PASSES)
    assert first.errors is None, first.errors
    assert first.data["myPasses"] == {
        "nodes": [{"seatLabel": "A1"}],
        "pageInfo": {"hasNextPage": True, "hasPreviousPage": False, "endCursor": "next-1"},
    }
    second = await run(services, MY_PASSES, {"after": "next-1"})
    assert second.data["myPasses"]["nodes"] == [{"seatLabel": "A2"}]
    assert second.data["myPasses"]["pageInfo"]["hasNextPage"] is False
    one_event = await run(services, MY_PASSES, {"event": gid("Event", OTHER_EVENT)})
    assert one_event.data["myPasses"]["nodes"] == [{"seatLabel": "A2"}]
    asked = services.asked("delivery.ListMyPasses")
    assert [(r.event_id, r.page_size, r.page_token) for r in asked] == [
        ("", 1, ""),
        ("", 1, "next-1"),
        (OTHER_EVENT, 1, ""),
    ]


async def test_my_passes_refuse_a_bad_event_backwards_paging_and_the_signed_out():
    services = PassServices()
    wrong_type = await run(services, MY_PASSES, {"event": gid("Order", oid(0))})
    assert errors(wrong_type) == [(["myPasses"], "NOT_FOUND")]
    backwards = await run(services, "{ myPasses(last: 2) { nodes { id } } }")
    assert errors(backwards) == [(["myPasses"], "BAD_USER_INPUT")]
    signed_out = await run(services, "{ myPasses { nodes { id } } }", signed_in=False)
    assert errors(signed_out) == [(["myPasses"], "UNAUTHENTICATED")]
    assert services.asked("delivery.ListMyPasses") == []


async def test_another_callers_pass_is_not_found_by_node():
    services = PassServices()
    result = await run(services, f'{{ node(id: "{gid("Pass", pid(9))}") {{ id }} }}')
    assert errors(result) == [(["node"], "NOT_FOUND")]
    [asked] = services.asked("delivery.GetPass")
    assert asked.pass_id == pid(9)


INCOMING = "{ incomingTransfers { passId seatLabel offeredAt event { name } } }"


async def test_the_caller_sees_the_transfers_offered_to_them():
    services = PassServices()
    result = await run(services, INCOMING)
    assert result.errors is None, result.errors
    assert result.data["incomingTransfers"] == [
        {
            "passId": gid("Pass", pid(7)),
            "seatLabel": "B2",
            "offeredAt": "2026-11-01T00:00:00Z",
            "event": {"name": "Concert e0"},
        }
    ]
    signed_out = await run(services, INCOMING, signed_in=False)
    assert errors(signed_out) == [(["incomingTransfers"], "UNAUTHENTICATED")]
    assert len(services.asked("delivery.ListIncomingTransfers")) == 1


OFFER = """mutation($input: OfferPassTransferInput!) {
  offerPassTransfer(input: $input) {
    pass { state offeredToEmail version code }
    userErrors { field code message }
  }
}"""


def offer_input(**fields) -> dict:
    return {
        "input": {
            "passId": gid("Pass", pid(0)),
            "toEmail": " friend@example.com ",
            "expectedVersion": 3,
        }
        | fields
    }


async def test_a_holder_offers_a_pass_by_e_mail():
    services = PassServices()
    result = await run(services, OFFER, offer_input())
    assert result.errors is None, result.errors
    assert result.data["offerPassTransfer"] == {
        "pass": {
            "state": "TRANSFER_OFFERED",
            "offeredToEmail": "friend@example.com",
            "version": 4,
            "code": f"{CODE}0",
        },
        "userErrors": [],
    }
    [asked] = services.asked("delivery.OfferPassTransfer")
    assert (asked.pass_id, asked.to_email, asked.expected_version) == (
        pid(0),
        "friend@example.com",
        3,
    )


async def test_an_address_that_is_no_address_is_refused_before_the_service():
    services = PassServices()
    result = await run(services, OFFER, offer_input(toEmail="friend"))
    assert result.data["offerPassTransfer"]["pass"] is None
    assert result.data["offerPassTransfer"]["userErrors"][0]["field"] == ["input", "toEmail"]
    assert result.data["offerPassTransfer"]["userErrors"][0]["code"] == "BAD_USER_INPUT"
    assert services.asked("delivery.OfferPassTransfer") == []


@pytest.mark.parametrize(
    ("refusal", "code", "field"),
    [
        (InvalidInput("That is your own address", field="to_email"), "BAD_USER_INPUT", "toEmail"),
        (Conflict("The pass is listed for resale", field="pass_id"), "CONFLICT", "passId"),
        (Conflict("The pass changed", field="expected_version"), "CONFLICT", "expectedVersion"),
        (NotFound("No such pass"), "NOT_FOUND", "passId"),
    ],
)
async def test_the_services_refusals_of_an_offer_are_user_errors(refusal, code, field):
    services = PassServices()
    services.fail["OfferPassTransfer"] = refusal
    result = await run(services, OFFER, offer_input())
    assert result.errors is None, result.errors
    payload = result.data["offerPassTransfer"]
    assert payload["pass"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, ["input", field])]


WITHDRAW = """mutation($input: WithdrawPassTransferInput!) {
  withdrawPassTransfer(input: $input) { pass { state version } userErrors { field code } }
}"""
ACCEPT = """mutation($input: AcceptPassTransferInput!) {
  acceptPassTransfer(input: $input) { pass { id serial code state } userErrors { field code } }
}"""


async def test_a_holder_withdraws_an_offer():
    services = PassServices()
    result = await run(services, WITHDRAW, {"input": {"passId": gid("Pass", pid(0))}})
    assert result.data["withdrawPassTransfer"] == {
        "pass": {"state": "ACTIVE", "version": 5},
        "userErrors": [],
    }
    [asked] = services.asked("delivery.WithdrawPassTransfer")
    assert asked.pass_id == pid(0)


async def test_the_recipient_accepts_and_gets_a_new_code():
    services = PassServices()
    result = await run(services, ACCEPT, {"input": {"passId": gid("Pass", pid(7))}})
    assert result.data["acceptPassTransfer"] == {
        "pass": {"id": gid("Pass", pid(7)), "serial": 2, "code": "v1.new", "state": "ACTIVE"},
        "userErrors": [],
    }
    [asked] = services.asked("delivery.AcceptPassTransfer")
    assert asked.pass_id == pid(7)


@pytest.mark.parametrize(("query", "name"), [(WITHDRAW, "withdraw"), (ACCEPT, "accept")])
async def test_withdraw_and_accept_refusals_are_user_errors(query, name):
    services = PassServices()
    method = f"{name.capitalize()}PassTransfer"
    services.fail[method] = Conflict("The offer was withdrawn", field="pass_id")
    result = await run(services, query, {"input": {"passId": gid("Pass", pid(0))}})
    payload = result.data[f"{name}PassTransfer"]
    assert payload == {
        "pass": None,
        "userErrors": [{"field": ["input", "passId"], "code": "CONFLICT"}],
    }


@pytest.mark.parametrize("query", [OFFER, WITHDRAW, ACCEPT])
async def test_a_pass_id_of_another_type_is_not_found_without_a_call(query):
    services = PassServices()
    variables = (
        offer_input(passId=gid("Order", oid(0)))
        if query is OFFER
        else {"input": {"passId": gid("Order", oid(0))}}
    )
    result = await run(services, query, variables)
    assert result.errors is None, result.errors
    [payload] = result.data.values()
    assert payload["pass"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "passId"], "NOT_FOUND")
    ]
    assert not [m for m, _ in services.requests if "Pass" in m]


@pytest.mark.parametrize("query", [OFFER, WITHDRAW, ACCEPT])
async def test_the_transfer_mutations_need_a_signed_in_caller(query):
    services = PassServices()
    variables = offer_input() if query is OFFER else {"input": {"passId": gid("Pass", pid(0))}}
    result = await run(services, query, variables, signed_in=False)
    [(_, code)] = errors(result)
    assert code == "UNAUTHENTICATED"
    assert not [m for m, _ in services.requests if "Pass" in m]
