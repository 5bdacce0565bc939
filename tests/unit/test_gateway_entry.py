"""Entry through the GraphQL API (issue 22) against a stand-in delivery service: operators grant
and revoke scanners and read an event's scanners; a scanner's events, its scans (each outcome),
the offline kit, a sync of offline admissions with its double admissions, and the event's
double admissions; the service's refusals as userErrors at their input."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from common.errors import Forbidden, InvalidInput, NotFound
from common.jwt import Claims
from common.protos import timestamp
from gateway import global_ids
from gateway.context import Context
from gateway.loaders import payments_loader, tickets_loader
from gateway.schema import build_schema
from gateway.ticket_cache import TicketReads
from ticketing.catalogue.v1 import catalogue_pb2 as pb
from ticketing.delivery.v1 import delivery_pb2

AT = datetime(2027, 6, 1, 19, 30, tzinfo=UTC)
EVENT = "50000000-0000-4000-8000-000000000001"
OTHER = "50000000-0000-4000-8000-000000000002"
GONE = "50000000-0000-4000-8000-000000000009"
SCANNER = "60000000-0000-4000-8000-000000000001"
PASS = "70000000-0000-4000-8000-000000000001"
CODE = "TK1" + "A" * 175
KIT = '{"format": 1, "event_id": "' + EVENT + '", "revoked": [], "admissions": []}'


def catalogue_event(raw: str) -> pb.Event:
    return pb.Event(
        id=raw,
        name=f"Show {raw[-1]}",
        start_time=timestamp(AT),
        end_time=timestamp(AT),
        venue=pb.Venue(id="venue:arena", name="Arena", city="London", country="GB"),
    )


def double(i: int) -> delivery_pb2.DoubleAdmission:
    return delivery_pb2.DoubleAdmission(
        pass_id=PASS,
        entry_admission_id=f"a{i}",
        entry_at=timestamp(AT),
        entry_gate="North",
        other_admission_id=f"b{i}",
        other_at=timestamp(AT.replace(minute=45)),
        other_gate="South",
    )


class Clients:
    """The catalogue's events and a delivery service whose answers the test sets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, object]] = []
        self.fail: dict[str, Exception] = {}
        self.scan = delivery_pb2.ScanResponse(outcome=delivery_pb2.SCAN_OUTCOME_VALID)
        self.catalogue = SimpleNamespace(BatchGetEvents="BatchGetEvents", GetEvent="GetEvent")
        self.delivery = SimpleNamespace(
            **{
                m: m
                for m in (
                    "GrantScanner",
                    "RevokeScanner",
                    "ListScanners",
                    "ListMyScannerEvents",
                    "Scan",
                    "GetOfflineKit",
                    "SyncAdmissions",
                    "ListDoubleAdmissions",
                )
            }
        )

    def asked(self, method: str) -> list:
        return [r for m, r in self.requests if m == method]

    async def call(self, method, request, token=None, timeout=None):
        self.requests.append((method, request))
        if method in self.fail:
            raise self.fail[method]
        answers = {
            "BatchGetEvents": lambda r: pb.BatchGetEventsResponse(
                events=[catalogue_event(i) for i in r.ids if i != GONE]
            ),
            "GetEvent": lambda r: pb.GetEventResponse(event=catalogue_event(r.id)),
            "GrantScanner": lambda r: delivery_pb2.GrantScannerResponse(),
            "RevokeScanner": lambda r: delivery_pb2.RevokeScannerResponse(),
            "ListScanners": lambda r: delivery_pb2.ListScannersResponse(user_ids=[SCANNER]),
            "ListMyScannerEvents": lambda r: delivery_pb2.ListMyScannerEventsResponse(
                event_ids=[EVENT, GONE, OTHER]
            ),
            "Scan": lambda r: self.scan,
            "GetOfflineKit": lambda r: delivery_pb2.GetOfflineKitResponse(kit_json=KIT),
            "SyncAdmissions": lambda r: delivery_pb2.SyncAdmissionsResponse(
                recorded=1, double_admissions=[double(1)], rejected_ids=["a-bad"]
            ),
            "ListDoubleAdmissions": lambda r: delivery_pb2.ListDoubleAdmissionsResponse(
                double_admissions=[double(1), double(2)]
            ),
        }
        return answers[method](request)


def claims(*roles: str) -> Claims:
    return Claims(sub=SCANNER, email="s@example.com", iat=0, exp=2**31, jti="j", roles=roles)


async def run(query: str, variables: dict | None = None, *, who: str = "user", clients=None):
    clients = clients or Clients()
    known = {"user": claims(), "operator": claims("admin"), "anonymous": None}[who]

    class Caller(Context):
        async def user(self):
            return known

    reads = TicketReads(clients, cache=None)
    context = Caller(
        request=None,
        response=None,
        clients=clients,
        accounts=None,
        token=None if known is None else "token",
        ticket_reads=reads,
        tickets=tickets_loader(reads),
        payments=payments_loader(clients, None),
    )
    result = await build_schema().execute(query, variable_values=variables, context_value=context)
    return result, clients


def gid(kind: str, raw: str) -> str:
    return global_ids.encode(kind, raw)


def codes(result) -> list[tuple[list, str]]:
    return [(e.path, e.extensions["code"]) for e in result.errors or []]


GRANT = """mutation($input: GrantScannerInput!) {
  grantScanner(input: $input) { scanner { id } userErrors { code field message } }
}"""
REVOKE = GRANT.replace("grantScanner", "revokeScanner").replace("Grant", "Revoke")


@pytest.mark.parametrize(
    ("mutation", "method"), [(GRANT, "GrantScanner"), (REVOKE, "RevokeScanner")]
)
async def test_an_operator_grants_and_revokes_the_scanner_role(mutation, method):
    variables = {"input": {"eventId": gid("Event", EVENT), "userId": gid("User", SCANNER)}}
    result, clients = await run(mutation, variables, who="operator")
    assert result.errors is None, result.errors
    [payload] = result.data.values()
    assert payload == {"scanner": {"id": gid("User", SCANNER)}, "userErrors": []}
    [asked] = clients.asked(method)
    assert (asked.event_id, asked.user_id) == (EVENT, SCANNER)


async def test_only_an_operator_grants_the_role():
    variables = {"input": {"eventId": gid("Event", EVENT), "userId": gid("User", SCANNER)}}
    result, clients = await run(GRANT, variables, who="user")
    [error] = result.data["grantScanner"]["userErrors"]
    assert (error["code"], result.data["grantScanner"]["scanner"]) == ("FORBIDDEN", None)
    assert clients.asked("GrantScanner") == []
    signed_out, _ = await run(GRANT, variables, who="anonymous")
    assert codes(signed_out) == [(["grantScanner"], "UNAUTHENTICATED")]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"eventId": gid("Ticket", EVENT), "userId": gid("User", SCANNER)}, "eventId"),
        ({"eventId": gid("Event", EVENT), "userId": gid("Event", SCANNER)}, "userId"),
    ],
)
async def test_an_id_of_another_type_is_refused_at_its_field_without_a_call(variables, field):
    result, clients = await run(GRANT, {"input": variables}, who="operator")
    [error] = result.data["grantScanner"]["userErrors"]
    assert error["field"] == ["input", field]
    assert clients.asked("GrantScanner") == []


async def test_an_unknown_user_is_not_found_at_user_id():
    clients = Clients()
    clients.fail["GrantScanner"] = NotFound("No such user", field="user_id")
    variables = {"input": {"eventId": gid("Event", EVENT), "userId": gid("User", SCANNER)}}
    result, _ = await run(GRANT, variables, who="operator", clients=clients)
    assert result.data["grantScanner"]["userErrors"] == [
        {"code": "NOT_FOUND", "field": ["input", "userId"], "message": "No such user"}
    ]


EVENT_ENTRY = """query($id: ID!) { event(id: $id) {
  scanners { id }
  doubleAdmissions { passId entryAdmissionId entryAt entryGate otherAdmissionId otherAt otherGate }
} }"""


async def test_an_operator_reads_an_events_scanners_and_double_admissions():
    result, clients = await run(EVENT_ENTRY, {"id": gid("Event", EVENT)}, who="operator")
    assert result.errors is None, result.errors
    event = result.data["event"]
    assert event["scanners"] == [{"id": gid("User", SCANNER)}]
    assert event["doubleAdmissions"][0] == {
        "passId": PASS,
        "entryAdmissionId": "a1",
        "entryAt": "2027-06-01T19:30:00Z",
        "entryGate": "North",
        "otherAdmissionId": "b1",
        "otherAt": "2027-06-01T19:45:00Z",
        "otherGate": "South",
    }
    assert len(event["doubleAdmissions"]) == 2
    assert [r.event_id for r in clients.asked("ListScanners")] == [EVENT]
    assert [r.event_id for r in clients.asked("ListDoubleAdmissions")] == [EVENT]


async def test_scanners_are_for_operators_and_double_admissions_for_whom_the_service_lets():
    clients = Clients()
    clients.fail["ListDoubleAdmissions"] = Forbidden("Not a scanner of this event")
    result, _ = await run(EVENT_ENTRY, {"id": gid("Event", EVENT)}, clients=clients)
    assert sorted(codes(result)) == [
        (["event", "doubleAdmissions"], "FORBIDDEN"),
        (["event", "scanners"], "FORBIDDEN"),
    ]
    assert result.data["event"] == {"scanners": None, "doubleAdmissions": None}
    assert clients.asked("ListScanners") == []


async def test_my_scanner_events_are_the_catalogues_events_leaving_out_missing_ones():
    result, clients = await run("{ myScannerEvents { id name } }")
    assert result.errors is None, result.errors
    assert result.data["myScannerEvents"] == [
        {"id": gid("Event", EVENT), "name": "Show 1"},
        {"id": gid("Event", OTHER), "name": "Show 2"},
    ]
    assert len(clients.asked("BatchGetEvents")) == 1
    signed_out, _ = await run("{ myScannerEvents { id } }", who="anonymous")
    assert codes(signed_out) == [(["myScannerEvents"], "UNAUTHENTICATED")]


async def test_the_offline_kit_is_the_services_json_and_its_refusals_are_errors():
    query = "query($id: ID!) { offlineKit(eventId: $id) }"
    result, clients = await run(query, {"id": gid("Event", EVENT)})
    assert result.errors is None, result.errors
    assert result.data["offlineKit"] == KIT
    [asked] = clients.asked("GetOfflineKit")
    assert asked.event_id == EVENT
    refusing = Clients()
    refusing.fail["GetOfflineKit"] = Forbidden("Not a scanner of this event")
    refused, _ = await run(query, {"id": gid("Event", EVENT)}, clients=refusing)
    assert codes(refused) == [(["offlineKit"], "FORBIDDEN")]
    assert refused.data["offlineKit"] is None


SCAN = """mutation($input: ScanTicketInput!) {
  scanTicket(input: $input) {
    result { outcome passId seat admittedAt gate } userErrors { code field }
  }
}"""


def scan_input(**fields) -> dict:
    return {
        "input": {"eventId": gid("Event", EVENT), "code": f" {CODE} ", "gate": " North "} | fields
    }


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            delivery_pb2.ScanResponse(
                outcome=delivery_pb2.SCAN_OUTCOME_VALID,
                pass_id=PASS,
                seat_label="A1",
                admitted_at=timestamp(AT),
                gate="North",
            ),
            {
                "outcome": "VALID",
                "passId": PASS,
                "seat": "A1",
                "admittedAt": "2027-06-01T19:30:00Z",
                "gate": "North",
            },
        ),
        (
            delivery_pb2.ScanResponse(
                outcome=delivery_pb2.SCAN_OUTCOME_ALREADY_SCANNED,
                pass_id=PASS,
                admitted_at=timestamp(AT),
                gate="South",
            ),
            {
                "outcome": "ALREADY_SCANNED",
                "passId": PASS,
                "seat": None,
                "admittedAt": "2027-06-01T19:30:00Z",
                "gate": "South",
            },
        ),
        (
            delivery_pb2.ScanResponse(outcome=delivery_pb2.SCAN_OUTCOME_REVOKED, pass_id=PASS),
            {"outcome": "REVOKED", "passId": PASS, "seat": None, "admittedAt": None, "gate": None},
        ),
        (
            delivery_pb2.ScanResponse(outcome=delivery_pb2.SCAN_OUTCOME_WRONG_EVENT, pass_id=PASS),
            {
                "outcome": "WRONG_EVENT",
                "passId": PASS,
                "seat": None,
                "admittedAt": None,
                "gate": None,
            },
        ),
        (
            delivery_pb2.ScanResponse(outcome=delivery_pb2.SCAN_OUTCOME_INVALID_SIGNATURE),
            {
                "outcome": "INVALID_SIGNATURE",
                "passId": None,
                "seat": None,
                "admittedAt": None,
                "gate": None,
            },
        ),
        (
            delivery_pb2.ScanResponse(outcome=delivery_pb2.SCAN_OUTCOME_UNSPECIFIED),
            {"outcome": None, "passId": None, "seat": None, "admittedAt": None, "gate": None},
        ),
    ],
)
async def test_a_scan_answers_each_outcome(answer, expected):
    clients = Clients()
    clients.scan = answer
    result, _ = await run(SCAN, scan_input(), clients=clients)
    assert result.errors is None, result.errors
    assert result.data["scanTicket"] == {"result": expected, "userErrors": []}
    [asked] = clients.asked("Scan")
    assert (asked.event_id, asked.code, asked.gate) == (EVENT, CODE, "North")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"gate": "g" * 65}, "gate"),
        ({"gate": " "}, "gate"),
        ({"code": "  "}, "code"),
        ({"code": "x" * 513}, "code"),
    ],
)
async def test_a_scans_bad_input_is_refused_before_the_service(fields, field):
    result, clients = await run(SCAN, scan_input(**fields))
    assert result.data["scanTicket"] == {
        "result": None,
        "userErrors": [{"code": "BAD_USER_INPUT", "field": ["input", field]}],
    }
    assert clients.asked("Scan") == []


async def test_a_scan_by_someone_not_a_scanner_of_the_event_is_forbidden_at_event_id():
    clients = Clients()
    clients.fail["Scan"] = Forbidden("Not a scanner of this event")
    result, _ = await run(SCAN, scan_input(), clients=clients)
    assert result.data["scanTicket"] == {
        "result": None,
        "userErrors": [{"code": "FORBIDDEN", "field": ["input", "eventId"]}],
    }


SYNC = """mutation($input: SyncAdmissionsInput!) {
  syncAdmissions(input: $input) {
    recorded rejectedIds
    doubleAdmissions { passId entryAdmissionId entryGate otherAdmissionId otherGate otherAt }
    userErrors { code field }
  }
}"""


def admission(i: int, **fields) -> dict:
    values = {"id": f"a-{i}", "code": CODE, "admittedAt": "2027-06-01T19:30:00Z", "gate": "North"}
    return values | fields


async def test_a_sync_sends_the_admissions_and_answers_what_the_service_found():
    variables = {
        "input": {"eventId": gid("Event", EVENT), "admissions": [admission(1), admission(2)]}
    }
    result, clients = await run(SYNC, variables)
    assert result.errors is None, result.errors
    assert result.data["syncAdmissions"] == {
        "recorded": 1,
        "rejectedIds": ["a-bad"],
        "doubleAdmissions": [
            {
                "passId": PASS,
                "entryAdmissionId": "a1",
                "entryGate": "North",
                "otherAdmissionId": "b1",
                "otherGate": "South",
                "otherAt": "2027-06-01T19:45:00Z",
            }
        ],
        "userErrors": [],
    }
    [asked] = clients.asked("SyncAdmissions")
    assert asked.event_id == EVENT
    assert [(a.id, a.code, a.gate) for a in asked.admissions] == [
        ("a-1", CODE, "North"),
        ("a-2", CODE, "North"),
    ]
    assert asked.admissions[0].admitted_at == timestamp(AT)


async def test_a_sync_of_too_many_admissions_is_refused_before_the_service():
    many = [admission(i) for i in range(1001)]
    variables = {"input": {"eventId": gid("Event", EVENT), "admissions": many}}
    result, clients = await run(SYNC, variables)
    assert result.data["syncAdmissions"]["userErrors"] == [
        {"code": "BAD_USER_INPUT", "field": ["input", "admissions"]}
    ]
    assert result.data["syncAdmissions"]["recorded"] == 0
    assert clients.asked("SyncAdmissions") == []


async def test_the_services_refusal_of_a_sync_is_a_user_error_at_its_field():
    clients = Clients()
    clients.fail["SyncAdmissions"] = InvalidInput(
        "An admission id is not a UUID", field="admissions"
    )
    variables = {"input": {"eventId": gid("Event", EVENT), "admissions": [admission(1)]}}
    result, _ = await run(SYNC, variables, clients=clients)
    assert result.data["syncAdmissions"]["userErrors"] == [
        {"code": "BAD_USER_INPUT", "field": ["input", "admissions"]}
    ]
