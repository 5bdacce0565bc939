"""Entry's handlers (svc_delivery/service_layer/entry.py) against the in-memory unit of work
(tests/unit/fakes_entry.py): who may grant and scan, what a door answers and records, the
offline kit a scanner downloads, and the sync of offline admissions (issue 22, item 4)."""

from __future__ import annotations

import itertools
import json

import pytest

from common.clock import FrozenClock
from common.errors import Conflict, Forbidden, InvalidInput
from svc_delivery.adapters.signing_keys import check_signature
from svc_delivery.domain.entry import ScanOutcome
from svc_delivery.domain.offline import OfflineKit, OfflineScanner
from svc_delivery.domain.passes import Pass
from svc_delivery.service_layer.commands import Caller
from svc_delivery.service_layer.entry import EntryHandlers, OfflineAdmission
from tests.support.ticket_codes import KEY_1, KEY_2, T0, issued_pass, later, new_id, ring_of
from tests.unit.fakes_entry import EntryState, FakeEntryUnitOfWork, FixedRing

EVENT = new_id()
ADMIN = Caller("admin-1", is_admin=True)
NORTH = Caller("scanner-north")
SOUTH = Caller("scanner-south")
STRANGER = Caller("someone")


@pytest.fixture
def state() -> EntryState:
    return EntryState()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(later(60))


@pytest.fixture
def entry(state, clock) -> EntryHandlers:
    ids = itertools.count(1)
    return EntryHandlers(
        lambda: FakeEntryUnitOfWork(state),
        FixedRing(ring_of(KEY_1.code_key(T0))),
        check_signature,
        clock,
        lambda: f"scan-{next(ids)}",
    )


def stored(state: EntryState, pass_: Pass) -> Pass:
    state.passes[pass_.id] = pass_
    return pass_


def code_of(pass_: Pass, key=KEY_1) -> str:
    return key.encode(pass_.code(key.key_id))


async def granted(entry: EntryHandlers, *callers: Caller) -> None:
    for caller in callers:
        await entry.grant_scanner(ADMIN, EVENT, caller.user_id)


async def test_only_an_admin_grants_revokes_and_lists_scanners(entry) -> None:
    with pytest.raises(Forbidden):
        await entry.grant_scanner(NORTH, EVENT, NORTH.user_id)
    await granted(entry, NORTH, SOUTH)
    await entry.grant_scanner(ADMIN, EVENT, NORTH.user_id)  # again: still one grant
    assert await entry.list_scanners(ADMIN, EVENT) == [NORTH.user_id, SOUTH.user_id]
    assert await entry.my_scanner_events(NORTH) == [EVENT]
    with pytest.raises(Forbidden):
        await entry.list_scanners(NORTH, EVENT)
    with pytest.raises(Forbidden):
        await entry.revoke_scanner(SOUTH, EVENT, NORTH.user_id)
    await entry.revoke_scanner(ADMIN, EVENT, NORTH.user_id)
    assert await entry.list_scanners(ADMIN, EVENT) == [SOUTH.user_id]
    assert await entry.my_scanner_events(NORTH) == []
    with pytest.raises(InvalidInput) as refused:
        await entry.grant_scanner(ADMIN, EVENT, " ")
    assert refused.value.field == "user_id"


async def test_only_the_event_s_scanners_scan_download_and_sync(entry, state) -> None:
    pass_ = stored(state, issued_pass(EVENT))
    await granted(entry, NORTH)
    await entry.grant_scanner(ADMIN, new_id(), STRANGER.user_id)  # another event's scanner
    for caller in (STRANGER, ADMIN):
        with pytest.raises(Forbidden):
            await entry.scan(caller, EVENT, code_of(pass_), "North")
        with pytest.raises(Forbidden):
            await entry.offline_kit(caller, EVENT)
        with pytest.raises(Forbidden):
            await entry.sync(caller, EVENT, [])
    assert state.entries == {}  # the sentinel: nothing was admitted by a refused scan


async def test_a_first_scan_admits_and_a_second_says_when_and_where(entry, state, clock) -> None:
    pass_ = stored(state, issued_pass(EVENT, seat=2))
    await granted(entry, NORTH, SOUTH)
    first = await entry.scan(NORTH, EVENT, code_of(pass_), "North gate")
    assert first.scan.outcome is ScanOutcome.VALID
    assert first.seat_label == "A3"
    clock.advance(120)
    second = await entry.scan(SOUTH, EVENT, code_of(pass_), "South gate")
    assert second.scan.outcome is ScanOutcome.ALREADY_SCANNED
    assert second.scan.admission is not None
    assert (second.scan.admission.gate, second.scan.admission.at) == ("North gate", later(60))
    assert len(state.entries) == 1


async def test_revoked_wrong_event_and_forged_codes_admit_nobody(entry, state) -> None:
    await granted(entry, NORTH)
    moved = stored(state, issued_pass(EVENT, holder_id="alice"))
    old = code_of(moved)
    moved.offer_transfer("alice", "bob@example.com", later(1))
    moved.accept_transfer("bob", "bob@example.com", later(2))
    elsewhere = issued_pass(new_id())
    forged = KEY_2.encode(issued_pass(EVENT).code(KEY_1.key_id))
    answers = [
        (await entry.scan(NORTH, EVENT, text, "North")).scan.outcome
        for text in (old, code_of(elsewhere), forged, "TK1NOTACODE")
    ]
    assert answers == [
        ScanOutcome.REVOKED,
        ScanOutcome.WRONG_EVENT,
        ScanOutcome.INVALID_SIGNATURE,
        ScanOutcome.INVALID_SIGNATURE,
    ]
    assert state.entries == {}
    assert (await entry.scan(NORTH, EVENT, code_of(moved), "North")).scan.outcome is (
        ScanOutcome.VALID
    )


async def test_a_gate_is_named_and_short(entry, state) -> None:
    await granted(entry, NORTH)
    pass_ = stored(state, issued_pass(EVENT))
    for gate in ("", "x" * 65):
        with pytest.raises(InvalidInput) as refused:
            await entry.scan(NORTH, EVENT, code_of(pass_), gate)
        assert refused.value.field == "gate"


async def test_without_keys_a_scan_is_refused_not_answered_invalid(state, clock) -> None:
    entry = EntryHandlers(
        lambda: FakeEntryUnitOfWork(state), FixedRing(None), check_signature, clock
    )
    await entry.grant_scanner(ADMIN, EVENT, NORTH.user_id)
    with pytest.raises(Conflict):
        await entry.scan(NORTH, EVENT, code_of(issued_pass(EVENT)), "North")


async def test_the_kit_holds_the_keys_revocations_and_entries_so_far(entry, state) -> None:
    await granted(entry, NORTH)
    entered = stored(state, issued_pass(EVENT))
    voided = stored(state, issued_pass(EVENT))
    voided.void("refunded", later(5))
    await entry.scan(NORTH, EVENT, code_of(entered), "North")
    kit = await entry.offline_kit(NORTH, EVENT)
    again = OfflineKit.from_document(json.loads(json.dumps(kit.to_document())))
    assert again.revocations.valid_from == {voided.id: 2}
    assert [a.pass_id for a in again.admissions] == [entered.id]
    assert again.keys == ring_of(KEY_1.code_key(T0))


async def test_two_offline_scanners_admitting_one_pass_sync_to_one_entry_and_a_report(
    entry, state
) -> None:
    await granted(entry, NORTH, SOUTH)
    pass_ = stored(state, issued_pass(EVENT))
    kit = await entry.offline_kit(NORTH, EVENT)
    doors = {
        c: OfflineScanner(c.user_id, f"{c.user_id} gate", kit, check_signature)
        for c in (NORTH, SOUTH)
    }
    assert doors[NORTH].scan(code_of(pass_), later(70)).outcome is ScanOutcome.VALID
    assert doors[SOUTH].scan(code_of(pass_), later(69)).outcome is ScanOutcome.VALID

    def sent(caller):
        return [
            OfflineAdmission(a.id, code_of(pass_), a.at, a.gate) for a in doors[caller].pending()
        ]

    first = await entry.sync(NORTH, EVENT, sent(NORTH))
    assert (first.recorded, first.doubles) == (1, [])
    second = await entry.sync(SOUTH, EVENT, sent(SOUTH))
    assert second.recorded == 1
    (double,) = second.doubles
    assert (double.kept.scanner_id, double.also.scanner_id) == (SOUTH.user_id, NORTH.user_id)
    entries, doubles = dict(state.entries), dict(state.doubles)
    assert [a.at for a in entries.values()] == [later(69)]

    again = await entry.sync(NORTH, EVENT, sent(NORTH))
    assert (again.recorded, again.doubles) == (0, [])
    assert (state.entries, state.doubles) == (entries, doubles)
    assert [d.also.id for d in await entry.double_admissions(ADMIN, EVENT)] == [double.also.id]
    online = await entry.scan(NORTH, EVENT, code_of(pass_), "North")
    assert online.scan.outcome is ScanOutcome.ALREADY_SCANNED


async def test_a_sync_rejects_codes_that_do_not_verify_for_the_event(entry, state) -> None:
    await granted(entry, NORTH)
    forged = KEY_2.encode(issued_pass(EVENT).code(KEY_1.key_id))
    elsewhere = code_of(issued_pass(new_id()))
    good = stored(state, issued_pass(EVENT))
    result = await entry.sync(
        NORTH,
        EVENT,
        [
            OfflineAdmission("a-forged", forged, later(61), "N"),
            OfflineAdmission("a-elsewhere", elsewhere, later(62), "N"),
            OfflineAdmission("a-good", code_of(good), later(63), "N"),
        ],
    )
    assert result.rejected_ids == ["a-forged", "a-elsewhere"]
    assert result.recorded == 1
    assert [a.id for a in state.entries.values()] == ["a-good"]


async def test_double_admissions_are_for_admins_and_the_event_s_scanners(entry) -> None:
    await granted(entry, NORTH)
    assert await entry.double_admissions(NORTH, EVENT) == []
    assert await entry.double_admissions(ADMIN, EVENT) == []
    with pytest.raises(Forbidden):
        await entry.double_admissions(STRANGER, EVENT)


async def test_an_admission_id_recorded_for_another_pass_is_rejected(entry, state) -> None:
    await granted(entry, NORTH)
    first, second = stored(state, issued_pass(EVENT)), stored(state, issued_pass(EVENT))
    await entry.sync(NORTH, EVENT, [OfflineAdmission("a-1", code_of(first), later(61), "N")])
    reused = await entry.sync(
        NORTH, EVENT, [OfflineAdmission("a-1", code_of(second), later(62), "N")]
    )
    assert (reused.recorded, reused.rejected_ids) == (0, ["a-1"])
    assert [a.pass_id for a in state.entries.values()] == [first.id]
