"""Entry over real gRPC and SecantusDB (issue 22, item 4): an admin grants scanners per event;
a scanner's scan admits a pass once (VALID, then ALREADY_SCANNED with when and where, one VALID
of two doors at once), refuses an old serial after a re-issue (REVOKED), another event's code
(WRONG_EVENT) and a tampered one (INVALID_SIGNATURE); the offline scanner test: two scanners
admit one pass offline with their kits, sync, and the earliest admission is the entry.

Passes are written as the passes' repository stores them (`pass_document`), their codes signed
with the test key of a key directory the service reads (TICKET_KEYS_DIR)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography.hazmat.primitives import serialization

from common.mongo import database_name, mongo_client
from common.protos import from_timestamp, timestamp
from svc_delivery.adapters.signing_keys import PRIVATE_DIR, RING_FILE, check_signature
from svc_delivery.bootstrap import bootstrap as delivery_bootstrap
from svc_delivery.config import DeliverySettings
from svc_delivery.domain.entry import ScanOutcome
from svc_delivery.domain.offline import OfflineKit, OfflineScanner
from svc_delivery.domain.passes import Pass
from tests.support import servers, service_tokens
from tests.support.ticket_codes import KEY_1, KEY_2, T0, issued_pass, ring_of
from tests.support.tokens import issuer_for
from tests.unit.test_ticket_code_vectors import readme_verifier
from ticketing.delivery.v1 import delivery_pb2 as pb
from ticketing.delivery.v1 import delivery_pb2_grpc

pytestmark = pytest.mark.integration

Metadata = tuple[tuple[str, str], ...]


def pass_document(pass_: Pass) -> dict[str, Any]:
    """A pass as the passes' repository stores it: its fields by name, `_id` its id."""
    doc: dict[str, Any] = {
        f.name: getattr(pass_, f.name) for f in fields(pass_) if f.name not in ("id", "events")
    }
    doc["_id"] = pass_.id
    doc["state"] = pass_.state.value
    return doc


def code_of(pass_: Pass, key=KEY_1) -> str:
    return key.encode(pass_.code(key.key_id))


def tampered(text: str) -> str:
    # One character of the signature changed: still a well-formed code, not the one signed.
    last = "A" if text[-10] != "A" else "B"
    return text[:-10] + last + text[-9:]


class Doors:
    def __init__(self, env, port: int, db) -> None:
        self.issuer = issuer_for(env)
        self.channel = service_tokens.channel(env, f"127.0.0.1:{port}")
        self.delivery = delivery_pb2_grpc.DeliveryServiceStub(self.channel)
        self.db = db
        self.event_id = str(uuid.uuid4())
        self.admin = self.user(roles=("admin",))[1]

    def user(self, roles: tuple[str, ...] = ()) -> tuple[str, Metadata]:
        user_id = str(uuid.uuid4())
        token, _ = self.issuer.issue(user_id, f"{user_id[:8]}@example.com", roles=roles)
        return user_id, (("authorization", f"Bearer {token}"),)

    async def scanner(self) -> Metadata:
        user_id, metadata = self.user()
        await self.delivery.GrantScanner(
            pb.GrantScannerRequest(event_id=self.event_id, user_id=user_id), metadata=self.admin
        )
        return metadata

    async def stored(self, pass_: Pass) -> Pass:
        await self.db["passes"].replace_one({"_id": pass_.id}, pass_document(pass_), upsert=True)
        return pass_

    async def scan(self, metadata: Metadata, code: str, gate: str) -> pb.ScanResponse:
        return await self.delivery.Scan(
            pb.ScanRequest(event_id=self.event_id, code=code, gate=gate), metadata=metadata
        )

    async def kit(self, metadata: Metadata) -> dict[str, Any]:
        reply = await self.delivery.GetOfflineKit(
            pb.GetOfflineKitRequest(event_id=self.event_id), metadata=metadata
        )
        return json.loads(reply.kit_json)

    async def sync(self, metadata: Metadata, door: OfflineScanner, codes: dict[str, str]):
        return await self.delivery.SyncAdmissions(
            pb.SyncAdmissionsRequest(
                event_id=self.event_id,
                admissions=[
                    pb.OfflineAdmission(
                        id=a.id, code=codes[a.pass_id], admitted_at=timestamp(a.at), gate=a.gate
                    )
                    for a in door.pending()
                ],
            ),
            metadata=metadata,
        )


@pytest.fixture
async def doors(env, mongo_url, namespace, tmp_path: Path):
    keys = tmp_path / "ticket-keys"
    keys.mkdir()
    (keys / RING_FILE).write_text(json.dumps(ring_of(KEY_1.code_key(T0)).published()))
    # The service signs passes too: the test key's private half beside its ring.
    (keys / PRIVATE_DIR).mkdir()
    (keys / PRIVATE_DIR / f"{KEY_1.key_id}.pem").write_bytes(
        KEY_1.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    port = servers.free_port()
    settings = {**env, "DELIVERY_PORT": str(port), "TICKET_KEYS_DIR": str(keys)}
    process = delivery_bootstrap(DeliverySettings.from_env(settings))
    await process.start("127.0.0.1", port)
    client = mongo_client(mongo_url)
    found = Doors(env, port, client[database_name(namespace, "delivery")])
    yield found
    await found.channel.close()
    await client.close()
    await process.stop()


async def test_only_admins_grant_and_only_the_event_s_scanners_scan(doors) -> None:
    scanner = await doors.scanner()
    _, stranger = doors.user()
    scanner_id = (
        await doors.delivery.ListScanners(
            pb.ListScannersRequest(event_id=doors.event_id), metadata=doors.admin
        )
    ).user_ids
    assert len(scanner_id) == 1
    mine = await doors.delivery.ListMyScannerEvents(
        pb.ListMyScannerEventsRequest(), metadata=scanner
    )
    assert list(mine.event_ids) == [doors.event_id]

    pass_ = await doors.stored(issued_pass(doors.event_id))
    for who in (stranger, doors.admin):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await doors.scan(who, code_of(pass_), "North")
        assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await doors.delivery.GrantScanner(
            pb.GrantScannerRequest(event_id=doors.event_id, user_id="me"), metadata=scanner
        )
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    # The sentinel: the refused scans admitted nobody, so the scanner's is the first.
    assert (await doors.scan(scanner, code_of(pass_), "North")).outcome == pb.SCAN_OUTCOME_VALID


async def test_a_door_admits_a_pass_once_and_refuses_what_it_must(doors) -> None:
    north, south = await doors.scanner(), await doors.scanner()
    pass_ = await doors.stored(issued_pass(doors.event_id, seat=4))
    first = await doors.scan(north, code_of(pass_), "North gate")
    assert (first.outcome, first.pass_id, first.seat_label, first.gate) == (
        pb.SCAN_OUTCOME_VALID,
        pass_.id,
        "A5",
        "North gate",
    )
    again = await doors.scan(south, code_of(pass_), "South gate")
    assert (again.outcome, again.gate) == (pb.SCAN_OUTCOME_ALREADY_SCANNED, "North gate")
    assert again.admitted_at == first.admitted_at

    moved = issued_pass(doors.event_id, holder_id="alice")
    old = code_of(moved)
    moved.offer_transfer("alice", "bob@example.com", T0 + timedelta(minutes=1))
    moved.accept_transfer("bob", "bob@example.com", T0 + timedelta(minutes=2))
    await doors.stored(moved)
    elsewhere = issued_pass(str(uuid.uuid4()))
    answers = [
        (await doors.scan(north, text, "North gate")).outcome
        for text in (old, code_of(elsewhere), tampered(code_of(moved)))
    ]
    assert answers == [
        pb.SCAN_OUTCOME_REVOKED,
        pb.SCAN_OUTCOME_WRONG_EVENT,
        pb.SCAN_OUTCOME_INVALID_SIGNATURE,
    ]
    assert (await doors.scan(north, code_of(moved), "North gate")).outcome == (
        pb.SCAN_OUTCOME_VALID
    )


async def test_two_doors_scanning_one_code_at_once_admit_it_once(doors) -> None:
    north, south = await doors.scanner(), await doors.scanner()
    pass_ = await doors.stored(issued_pass(doors.event_id))
    answers = await asyncio.gather(
        doors.scan(north, code_of(pass_), "North"), doors.scan(south, code_of(pass_), "South")
    )
    assert sorted(a.outcome for a in answers) == [
        pb.SCAN_OUTCOME_VALID,
        pb.SCAN_OUTCOME_ALREADY_SCANNED,
    ]
    assert await doors.db["admissions"].count_documents({"pass_id": pass_.id}) == 1


async def test_the_offline_scanner_test(doors) -> None:
    """Two scanners download the kit, each admits the same pass offline, both sync: one entry
    (the earliest), one double admission reported; a re-sync changes nothing; an online scan
    afterwards says ALREADY_SCANNED, with the entry's time and gate."""
    north, south = await doors.scanner(), await doors.scanner()
    pass_ = await doors.stored(issued_pass(doors.event_id))
    codes = {pass_.id: code_of(pass_)}
    kits = [OfflineKit.from_document(await doors.kit(m)) for m in (north, south)]
    north_door = OfflineScanner("north", "North gate", kits[0], check_signature)
    south_door = OfflineScanner("south", "South gate", kits[1], check_signature)
    now = datetime.now(UTC)
    assert north_door.scan(codes[pass_.id], now).outcome is ScanOutcome.VALID
    assert south_door.scan(codes[pass_.id], now - timedelta(seconds=30)).outcome is (
        ScanOutcome.VALID
    )

    first = await doors.sync(north, north_door, codes)
    assert (first.recorded, list(first.double_admissions), list(first.rejected_ids)) == (1, [], [])
    second = await doors.sync(south, south_door, codes)
    assert second.recorded == 1
    (double,) = second.double_admissions
    (kept,), (other,) = south_door.pending(), north_door.pending()
    assert (double.pass_id, double.entry_admission_id, double.other_admission_id) == (
        pass_.id,
        kept.id,
        other.id,
    )
    assert (double.entry_gate, double.other_gate) == ("South gate", "North gate")

    stored = await doors.db["admissions"].find({}, {"_id": 1}).to_list()
    for metadata, door in ((north, north_door), (south, south_door)):
        again = await doors.sync(metadata, door, codes)
        assert (again.recorded, list(again.double_admissions)) == (0, [])
    assert (
        await doors.db["admissions"].find({}, {"_id": 1}).to_list() == stored == [{"_id": kept.id}]
    )
    listed = await doors.delivery.ListDoubleAdmissions(
        pb.ListDoubleAdmissionsRequest(event_id=doors.event_id), metadata=doors.admin
    )
    assert list(listed.double_admissions) == [double]

    online = await doors.scan(north, codes[pass_.id], "East gate")
    assert (online.outcome, online.gate) == (pb.SCAN_OUTCOME_ALREADY_SCANNED, "South gate")
    assert from_timestamp(online.admitted_at) == kept.at


async def test_a_sync_rejects_an_admission_whose_code_does_not_verify(doors) -> None:
    north = await doors.scanner()
    pass_ = await doors.stored(issued_pass(doors.event_id))
    kit = OfflineKit.from_document(await doors.kit(north))
    door = OfflineScanner("north", "North gate", kit, check_signature)
    door.scan(code_of(pass_), datetime.now(UTC))
    forged = KEY_2.encode(pass_.code(KEY_1.key_id))
    result = await doors.sync(north, door, {pass_.id: forged})
    assert (result.recorded, list(result.rejected_ids)) == (0, [door.pending()[0].id])
    assert await doors.db["admissions"].count_documents({}) == 0


async def test_the_readme_s_verifier_reads_the_kit_the_service_hands_out(doors) -> None:
    scanner = await doors.scanner()
    entered = await doors.stored(issued_pass(doors.event_id))
    fresh = await doors.stored(issued_pass(doors.event_id))
    voided = issued_pass(doors.event_id)
    voided_code = code_of(voided)
    voided.void("refunded", T0 + timedelta(minutes=5))
    await doors.stored(voided)
    await doors.scan(scanner, code_of(entered), "North")

    kit = await doors.kit(scanner)
    verifier = readme_verifier()
    admitted = {a["pass_id"]: a["at"] for a in kit["admissions"]}
    now = datetime.now(UTC)
    answers = [
        verifier["scan"](text, kit, admitted, now)
        for text in (
            code_of(entered),
            voided_code,
            code_of(fresh),
            code_of(fresh),
            tampered(code_of(fresh)),
            code_of(issued_pass(str(uuid.uuid4()))),
        )
    ]
    assert answers == [
        "ALREADY_SCANNED",
        "REVOKED",
        "VALID",
        "ALREADY_SCANNED",
        "INVALID_SIGNATURE",
        "WRONG_EVENT",
    ]
