"""Passes (svc_delivery/domain/passes.py): a transfer or a resale re-issues the pass to its new
holder and revokes the old code; one pass cannot be both transferred and resold."""

from __future__ import annotations

import copy

import pytest

from common.errors import Conflict, InvalidInput, NotFound
from svc_delivery.domain import pass_events as events
from svc_delivery.domain.entry import RevocationList
from svc_delivery.domain.passes import Pass, PassState
from tests.support.ticket_codes import KEY_1, T0, issued_pass, later, new_id


def revocations_of(*passes: Pass) -> RevocationList:
    # What the repository will build: the passes of the event past their first issue.
    return RevocationList(
        passes[0].event_id, {p.id: p.valid_from for p in passes if p.valid_from > 1}
    )


def test_a_pass_is_issued_to_the_buyer_as_issue_one() -> None:
    issued = Pass.issue(new_id(), "event-1", "order-1", 2, "B7", "buyer", bytes(16), T0)
    assert (issued.serial, issued.state, issued.holder_id) == (1, PassState.ACTIVE, "buyer")
    assert issued.events == [
        events.PassIssued(issued.id, "event-1", "order-1", 2, "buyer", 1, 0, T0)
    ]


def test_a_seat_without_an_event_gets_no_pass() -> None:
    with pytest.raises(InvalidInput):
        Pass.issue(new_id(), "", "order-1", 0, "", "buyer", bytes(16), T0)


def test_a_transfer_reissues_the_pass_to_the_recipient_and_revokes_the_old_code() -> None:
    pass_ = issued_pass(holder_id="alice")
    old = pass_.code(KEY_1.key_id)
    assert pass_.offer_transfer("alice", " Bob@Example.com ", later(1))
    assert pass_.state is PassState.TRANSFER_OFFERED
    assert pass_.accept_transfer("bob", "bob@example.com", later(2))

    new = pass_.code(KEY_1.key_id)
    assert (pass_.holder_id, pass_.serial, pass_.state) == ("bob", 2, PassState.ACTIVE)
    assert new.serial == 2 and new.holder_tag != old.holder_tag
    revoked = revocations_of(pass_)
    assert revoked.revokes(pass_.id, old.serial)
    assert not revoked.revokes(pass_.id, new.serial)
    assert pass_.is_for(new) and not pass_.is_for(old)
    assert pass_.events[-1] == events.PassReissued(
        pass_.id, pass_.event_id, "alice", "bob", 2, 1, events.ReissueReason.TRANSFER, 2, later(2)
    )


def test_only_the_offered_address_can_accept_and_only_the_holder_can_offer() -> None:
    pass_ = issued_pass(holder_id="alice")
    with pytest.raises(NotFound):
        pass_.offer_transfer("mallory", "m@example.com", T0)
    with pytest.raises(InvalidInput):
        pass_.offer_transfer("alice", "not-an-address", T0)
    pass_.offer_transfer("alice", "bob@example.com", T0)
    with pytest.raises(NotFound):
        pass_.accept_transfer("mallory", "mallory@example.com", later(1))
    assert pass_.holder_id == "alice" and pass_.serial == 1


def test_a_withdrawn_offer_cannot_be_accepted() -> None:
    pass_ = issued_pass(holder_id="alice")
    pass_.offer_transfer("alice", "bob@example.com", T0)
    assert pass_.withdraw_transfer("alice", later(1))
    assert not pass_.withdraw_transfer("alice", later(2))
    with pytest.raises(NotFound):
        pass_.accept_transfer("bob", "bob@example.com", later(3))
    assert (pass_.state, pass_.serial) == (PassState.ACTIVE, 1)


def test_retries_change_nothing() -> None:
    pass_ = issued_pass(holder_id="alice")
    pass_.offer_transfer("alice", "bob@example.com", T0)
    version = pass_.version
    assert not pass_.offer_transfer("alice", "BOB@example.com", later(1))
    assert pass_.accept_transfer("bob", "bob@example.com", later(2))
    assert not pass_.accept_transfer("bob", "bob@example.com", later(3))
    assert pass_.version == version + 1 and pass_.serial == 2


def test_a_resale_reissues_the_pass_to_its_buyer() -> None:
    pass_ = issued_pass(holder_id="alice")
    assert pass_.list_for_resale("alice", "listing-9", T0)
    assert not pass_.list_for_resale("alice", "listing-9", T0)
    assert pass_.resold("listing-9", "carol", later(5))
    assert (pass_.holder_id, pass_.serial, pass_.state) == ("carol", 2, PassState.ACTIVE)
    assert isinstance(pass_.events[-1], events.PassReissued)
    assert pass_.events[-1].reason is events.ReissueReason.RESALE
    assert not pass_.resold("listing-9", "carol", later(6))  # a redelivered sale
    assert revocations_of(pass_).revokes(pass_.id, 1)


def test_a_withdrawn_listing_cannot_sell() -> None:
    pass_ = issued_pass(holder_id="alice")
    pass_.list_for_resale("alice", "listing-9", T0)
    assert pass_.withdraw_resale("alice", later(1))
    with pytest.raises(Conflict):
        pass_.resold("listing-9", "carol", later(2))
    assert (pass_.holder_id, pass_.serial) == ("alice", 1)


def test_a_pass_offered_for_transfer_cannot_be_listed_nor_sold() -> None:
    pass_ = issued_pass(holder_id="alice")
    pass_.offer_transfer("alice", "bob@example.com", T0)
    with pytest.raises(Conflict, match="offered for transfer"):
        pass_.list_for_resale("alice", "listing-9", later(1))
    with pytest.raises(Conflict):
        pass_.resold("listing-9", "carol", later(2))
    assert pass_.accept_transfer("bob", "bob@example.com", later(3))


def test_a_listed_pass_cannot_be_offered_nor_accepted() -> None:
    pass_ = issued_pass(holder_id="alice")
    pass_.list_for_resale("alice", "listing-9", T0)
    with pytest.raises(Conflict, match="listed for resale"):
        pass_.offer_transfer("alice", "bob@example.com", later(1))
    with pytest.raises(NotFound):
        pass_.accept_transfer("bob", "bob@example.com", later(2))
    assert pass_.resold("listing-9", "carol", later(3))


def test_of_a_transfer_and_a_resale_racing_from_one_version_only_the_first_saved_succeeds() -> None:
    """Two processes load the pass at one version, one offers a transfer, the other lists it.
    The repository saves a pass only over the version it loaded: the second save fails, its
    handler loads again, and the state it finds refuses the listing."""
    stored = issued_pass(holder_id="alice")
    transfer, resale = copy.deepcopy(stored), copy.deepcopy(stored)
    transfer.offer_transfer("alice", "bob@example.com", later(1))
    resale.list_for_resale("alice", "listing-9", later(1))
    assert transfer.version == resale.version == stored.version + 1  # both would save over v0

    def save(loaded_at: int, changed: Pass) -> bool:  # the conditional update
        nonlocal stored
        if stored.version != loaded_at:
            return False
        stored = copy.deepcopy(changed)
        return True

    assert save(0, transfer)
    assert not save(0, resale)
    retried = copy.deepcopy(stored)
    with pytest.raises(Conflict):
        retried.list_for_resale("alice", "listing-9", later(2))
    assert stored.state is PassState.TRANSFER_OFFERED


def test_a_void_pass_revokes_its_last_code_and_has_none() -> None:
    pass_ = issued_pass(holder_id="alice")
    pass_.offer_transfer("alice", "bob@example.com", T0)
    assert pass_.void("ORDER_REFUNDED", later(1))
    assert not pass_.void("ORDER_REFUNDED", later(2))
    assert revocations_of(pass_).revokes(pass_.id, 1)
    with pytest.raises(Conflict):
        pass_.code(KEY_1.key_id)
    with pytest.raises(NotFound):
        pass_.accept_transfer("bob", "bob@example.com", later(3))


def test_a_pass_never_reissued_is_not_on_the_revocation_list() -> None:
    first, second = issued_pass(), issued_pass()
    second.event_id = first.event_id
    second.list_for_resale(second.holder_id, "l", T0)
    second.resold("l", "dave", later(1))
    assert revocations_of(first, second).valid_from == {second.id: 2}
