"""Entry (svc_delivery/domain/entry.py, offline.py): what a door answers for a code, online and
offline, and how the admissions of scanners that worked offline merge when they sync."""

from __future__ import annotations

import itertools
import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc_delivery.adapters.signing_keys import check_signature
from svc_delivery.domain.codes import Rejection
from svc_delivery.domain.entry import (
    Admission,
    EntryBook,
    Recorded,
    RevocationList,
    ScanOutcome,
    decide,
)
from svc_delivery.domain.keys import KeyRing
from svc_delivery.domain.offline import OfflineKit, OfflineScanner
from svc_delivery.domain.passes import Pass
from tests.support.ticket_codes import KEY_1, KEY_2, T0, issued_pass, later, new_id, ring_of

EVENT = new_id()
RING = ring_of(KEY_1.code_key(T0))


def code_of(pass_: Pass, key=KEY_1) -> str:
    return key.encode(pass_.code(key.key_id))


def scan(
    text: str,
    *,
    admitted: dict[str, Admission] | None = None,
    revocations: RevocationList | None = None,
    keys: KeyRing = RING,
    at: datetime | None = None,
):
    return decide(
        text,
        event_id=EVENT,
        keys=keys,
        check=check_signature,
        revocations=revocations or RevocationList(EVENT),
        admitted=admitted or {},
        scan_id="scan-1",
        scanner_id="scanner-north",
        gate="North gate",
        at=at or later(100),
    )


def test_a_first_scan_is_valid_and_is_the_admission_to_record() -> None:
    pass_ = issued_pass(EVENT)
    answer = scan(code_of(pass_))
    assert answer.outcome is ScanOutcome.VALID
    assert answer.admission == Admission(
        "scan-1", EVENT, pass_.id, 1, "scanner-north", "North gate", later(100)
    )


def test_a_second_scan_says_when_and_where_the_pass_came_in() -> None:
    pass_ = issued_pass(EVENT)
    first = Admission("a-0", EVENT, pass_.id, 1, "scanner-south", "South gate", later(90))
    answer = scan(code_of(pass_), admitted={pass_.id: first})
    assert answer.outcome is ScanOutcome.ALREADY_SCANNED
    assert answer.admission == first


def test_a_transferred_pass_s_old_code_is_revoked_and_its_new_code_opens() -> None:
    pass_ = issued_pass(EVENT, holder_id="alice")
    old = code_of(pass_)
    pass_.offer_transfer("alice", "bob@example.com", later(1))
    pass_.accept_transfer("bob", "bob@example.com", later(2))
    revocations = RevocationList(EVENT, {pass_.id: pass_.valid_from})
    assert scan(old, revocations=revocations).outcome is ScanOutcome.REVOKED
    assert scan(code_of(pass_), revocations=revocations).outcome is ScanOutcome.VALID


def test_a_code_of_another_event_is_the_wrong_event() -> None:
    answer = scan(code_of(issued_pass(new_id())))
    assert answer.outcome is ScanOutcome.WRONG_EVENT
    assert answer.admission is None


@pytest.mark.parametrize(
    ("make", "rejection"),
    [
        (lambda p: "TK1NOTACODE", Rejection.MALFORMED),
        (lambda p: KEY_2.encode(p.code(KEY_2.key_id)), Rejection.UNKNOWN_KEY),
        (lambda p: KEY_2.encode(p.code(KEY_1.key_id)), Rejection.BAD_SIGNATURE),
    ],
    ids=["malformed", "unknown key", "forged"],
)
def test_a_code_the_platform_did_not_sign_is_an_invalid_signature(make, rejection) -> None:
    answer = scan(make(issued_pass(EVENT)))
    assert answer.outcome is ScanOutcome.INVALID_SIGNATURE
    assert answer.rejection is rejection
    assert answer.code is None and answer.admission is None


def test_a_forged_code_of_a_revoked_or_admitted_pass_is_still_invalid_first() -> None:
    """Nothing a forger wrote is read: the signature is checked before the event, revocations
    and admissions."""
    pass_ = issued_pass(EVENT)
    forged = KEY_2.encode(pass_.code(KEY_1.key_id))
    first = Admission("a-0", EVENT, pass_.id, 1, "s", "g", later(1))
    answer = scan(
        forged, admitted={pass_.id: first}, revocations=RevocationList(EVENT, {pass_.id: 2})
    )
    assert answer.outcome is ScanOutcome.INVALID_SIGNATURE


def test_after_its_key_is_retired_a_code_is_refused_until_it_is_signed_again() -> None:
    pass_ = issued_pass(EVENT)
    old = code_of(pass_, KEY_1)
    ring = RING.rotated(KEY_2.code_key(later(10))).retired(KEY_1.key_id, later(50))
    assert scan(old, keys=ring, at=later(49)).outcome is ScanOutcome.VALID
    retired = scan(old, keys=ring, at=later(50))
    assert retired.outcome is ScanOutcome.INVALID_SIGNATURE
    assert retired.rejection is Rejection.KEY_RETIRED
    assert scan(code_of(pass_, KEY_2), keys=ring, at=later(50)).outcome is ScanOutcome.VALID


# ----- offline -----


def kit_for(*passes: Pass, admitted: tuple[Admission, ...] = ()) -> OfflineKit:
    revoked = {p.id: p.valid_from for p in passes if p.valid_from > 1}
    return OfflineKit(EVENT, RING, RevocationList(EVENT, revoked), admitted, later(30))


def scanner(name: str, kit: OfflineKit) -> OfflineScanner:
    count = itertools.count(1)
    return OfflineScanner(
        name, f"{name} gate", kit, check_signature, lambda: f"{name}-{next(count)}"
    )


def test_a_kit_survives_its_download_as_json() -> None:
    transferred = issued_pass(EVENT, holder_id="alice")
    transferred.offer_transfer("alice", "bob@example.com", later(1))
    transferred.accept_transfer("bob", "bob@example.com", later(2))
    entered = Admission("a-0", EVENT, new_id(), 1, "s", "g", later(20))
    kit = kit_for(transferred, admitted=(entered,))
    assert OfflineKit.from_document(json.loads(json.dumps(kit.to_document()))) == kit


def test_an_offline_scanner_decides_with_its_kit_and_its_own_admissions() -> None:
    transferred, fresh, entered = (issued_pass(EVENT, holder_id="alice") for _ in range(3))
    old_code = code_of(transferred)
    transferred.offer_transfer("alice", "bob@example.com", later(1))
    transferred.accept_transfer("bob", "bob@example.com", later(2))
    earlier = Admission("a-0", EVENT, entered.id, 1, "s", "East gate", later(20))
    door = scanner("north", kit_for(transferred, fresh, entered, admitted=(earlier,)))

    assert door.scan(old_code, later(40)).outcome is ScanOutcome.REVOKED
    already = door.scan(code_of(entered), later(41))
    assert (already.outcome, already.admission) == (ScanOutcome.ALREADY_SCANNED, earlier)
    assert door.scan(code_of(fresh), later(42)).outcome is ScanOutcome.VALID
    again = door.scan(code_of(fresh), later(43))
    assert again.outcome is ScanOutcome.ALREADY_SCANNED
    assert again.admission is not None and again.admission.at == later(42)
    assert [a.pass_id for a in door.pending()] == [fresh.id]


def test_two_offline_scanners_admitting_one_code_are_reported_and_the_earliest_wins() -> None:
    pass_, other = issued_pass(EVENT), issued_pass(EVENT)
    kit = kit_for(pass_, other)
    north, south = scanner("north", kit), scanner("south", kit)
    assert north.scan(code_of(pass_), later(45)).outcome is ScanOutcome.VALID
    assert south.scan(code_of(pass_), later(44)).outcome is ScanOutcome.VALID
    assert south.scan(code_of(other), later(46)).outcome is ScanOutcome.VALID

    book = EntryBook(EVENT)
    assert book.sync(north.pending()) == []
    doubles = book.sync(south.pending())
    assert len(doubles) == 1
    (double,) = doubles
    assert (double.pass_id, double.kept.scanner_id, double.also.scanner_id) == (
        pass_.id,
        "south",
        "north",
    )
    assert book.entries[pass_.id].at == later(44)
    assert book.entries[other.id].scanner_id == "south"

    # Re-syncing (an answer lost on the way back) changes nothing and reports nothing new.
    entries, reported = dict(book.entries), dict(book.doubles)
    assert book.sync(north.pending()) == [] and book.sync(south.pending()) == []
    assert (book.entries, book.doubles) == (entries, reported)


def test_a_later_admission_of_an_entered_pass_is_a_double_and_the_entry_stays() -> None:
    pass_ = issued_pass(EVENT)
    first = Admission("a-1", EVENT, pass_.id, 1, "north", "N", later(10))
    second = Admission("a-2", EVENT, pass_.id, 1, "south", "S", later(11))
    book = EntryBook(EVENT)
    assert [book.record(first), book.record(second), book.record(second)] == [
        Recorded.ENTRY,
        Recorded.DOUBLE,
        Recorded.KNOWN,
    ]
    assert book.entries[pass_.id] == first


def test_an_admission_of_another_event_is_refused() -> None:
    with pytest.raises(ValueError):
        EntryBook(EVENT).record(Admission("a", new_id(), new_id(), 1, "s", "g", T0))


admissions = st.lists(
    st.builds(
        Admission,
        id=st.uuids().map(str),
        event_id=st.just(EVENT),
        pass_id=st.sampled_from(["p1", "p2", "p3"]),
        serial=st.just(1),
        scanner_id=st.sampled_from(["north", "south", "east"]),
        gate=st.just("gate"),
        at=st.integers(0, 5).map(later),
    ),
    max_size=12,
    unique_by=lambda a: a.id,
)


@settings(max_examples=150, deadline=None)
@given(admissions, st.randoms(use_true_random=False))
def test_syncing_in_any_order_and_any_number_of_times_ends_the_same(found, random) -> None:
    """Whatever order scanners sync in, and however often: one entry per pass, the earliest
    (ties by admission id), and every other admission reported once against it."""
    shuffled = list(found)
    random.shuffle(shuffled)
    book, other = EntryBook(EVENT), EntryBook(EVENT)
    book.sync(found)
    other.sync(shuffled)
    other.sync(shuffled[: len(shuffled) // 2])
    assert (other.entries, other.doubles) == (book.entries, book.doubles)

    for pass_id in {a.pass_id for a in found}:
        mine = [a for a in found if a.pass_id == pass_id]
        earliest = min(mine, key=lambda a: (a.at, a.id))
        assert book.entries[pass_id] == earliest
        reported = {d.also.id for d in book.doubles.values() if d.pass_id == pass_id}
        assert reported == {a.id for a in mine} - {earliest.id}
        assert all(d.kept == earliest for d in book.doubles.values() if d.pass_id == pass_id)
