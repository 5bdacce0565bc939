"""The scanner page (/scan) of the built web app (web/dist, `make web`) in Debian chromium, its
GraphQL answered here as the gateway's schema says (the delivery service's entry is not part of
this stack yet): a scanner names a gate, downloads the event's kit, scans offline — the page
decides with the contract's vectors (VALID, then ALREADY_SCANNED with when and where, an invalid
code refused) and queues its admission —, and back online syncs the queue and shows the double
admission the sync reports; an online scan shows the server's outcome."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
VECTORS = json.loads((ROOT / "tests" / "contract" / "ticket_code_vectors.json").read_text())
VALID = VECTORS["valid"][0]["code"]
INVALID = VECTORS["invalid"][0]["code"]
EVENT = VECTORS["valid"][0]["fields"]["event_id"]
PASS = VECTORS["valid"][0]["fields"]["pass_id"]
EVENT_GID = "RXZlbnQ6ZXZlbnQ"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
KIT = {
    "format": 1,
    "event_id": EVENT,
    "as_of": "2026-12-08T10:00:00+00:00",
    "keys": VECTORS["keys"],
    "revoked": [],
    "admissions": [],
}


class Gateway:
    """Answers the page's operations by name and keeps what it was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    def answer(self, name: str, variables: dict) -> dict:
        self.sent.append((name, variables))
        if name == "CurrentUser":
            return {
                "currentUser": {
                    "__typename": "User",
                    "id": "VXNlcjpz",
                    "email": "s@example.com",
                    "isAdmin": False,
                }
            }
        if name == "MyScannerEvents":
            return {
                "myScannerEvents": [
                    {
                        "__typename": "Event",
                        "id": EVENT_GID,
                        "name": "Muse",
                        "startsAt": "2026-12-08T19:00:00Z",
                        "venue": {"__typename": "Venue", "name": "Arena"},
                    }
                ]
            }
        if name == "OfflineKit":
            return {"offlineKit": json.dumps(KIT)}
        if name == "SyncAdmissions":
            [sent] = variables["input"]["admissions"]
            double = {
                "__typename": "DoubleAdmission",
                "passId": PASS,
                "entryAdmissionId": "other-scanner",
                "entryAt": "2026-12-08T18:59:00Z",
                "entryGate": "South",
                "otherAdmissionId": sent["id"],
                "otherAt": sent["admittedAt"],
                "otherGate": sent["gate"],
            }
            return {
                "syncAdmissions": {
                    "__typename": "SyncAdmissionsPayload",
                    "recorded": 1,
                    "rejectedIds": [],
                    "doubleAdmissions": [double],
                    "userErrors": [],
                }
            }
        if name == "ScanTicket":
            result = {
                "__typename": "ScanResult",
                "outcome": "ALREADY_SCANNED",
                "passId": PASS,
                "seat": None,
                "admittedAt": "2026-12-08T18:59:00Z",
                "gate": "South",
            }
            return {
                "scanTicket": {
                    "__typename": "ScanTicketPayload",
                    "result": result,
                    "userErrors": [],
                }
            }
        raise AssertionError(f"unexpected operation {name}")

    def route(self, route) -> None:
        request = route.request
        path = request.url.split("localhost", 1)[1].split("?", 1)[0]
        if path == "/graphql":
            body = json.loads(request.post_data or "{}")
            data = self.answer(body.get("operationName", ""), body.get("variables") or {})
            route.fulfill(
                status=200, content_type="application/json", body=json.dumps({"data": data})
            )
            return
        file = DIST / path.lstrip("/")
        if not file.is_file():
            file = DIST / "index.html"
        kind = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
        route.fulfill(
            status=200, content_type=kind.get(file.suffix, "text/html"), body=file.read_bytes()
        )

    def admissions_synced(self) -> list[dict]:
        return [v["input"]["admissions"] for n, v in self.sent if n == "SyncAdmissions"]


def scan(page, code: str) -> None:
    page.get_by_test_id("scan-code").fill(code)
    page.get_by_role("button", name="Check").click()


def test_a_scanner_scans_offline_syncs_back_online_and_scans_online(browser):
    assert (DIST / "index.html").is_file(), "web/dist is missing: `make web` builds it"
    gateway = Gateway()
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(15_000)
    errors: list[str] = []
    try:
        context.route("http://localhost/**", gateway.route)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("http://localhost/scan")
        expect(page.get_by_test_id("scan-event")).to_contain_text("Muse")
        page.get_by_label("Gate").fill("North")
        page.get_by_role("button", name="Download for offline").click()
        expect(page.get_by_test_id("scanner-network")).to_contain_text("Offline kit as of")
        page.get_by_label("Scan offline").check()
        expect(page.get_by_test_id("scanner")).to_have_attribute("data-offline", "true")

        scan(page, VALID)
        outcome = page.get_by_test_id("scan-outcome")
        expect(outcome).to_have_attribute("data-outcome", "VALID")
        expect(page.get_by_test_id("scanner-queue")).to_have_text("1 offline admission to sync.")
        scan(page, VALID.lower())
        expect(outcome).to_have_attribute("data-outcome", "ALREADY_SCANNED")
        expect(page.get_by_test_id("scan-earlier")).to_contain_text("gate North")
        scan(page, INVALID)
        expect(outcome).to_have_attribute("data-outcome", "INVALID_SIGNATURE")
        expect(page.get_by_test_id("scanner-queue")).to_have_text("1 offline admission to sync.")
        assert not [n for n, _ in gateway.sent if n in ("ScanTicket", "SyncAdmissions")]

        page.get_by_label("Scan offline").uncheck()
        expect(page.get_by_test_id("double-admissions")).to_contain_text("gate South")
        expect(page.get_by_test_id("sync-report")).to_contain_text("1 new admission recorded")
        expect(page.get_by_test_id("scanner-queue")).to_have_text("0 offline admissions to sync.")
        [[admission]] = gateway.admissions_synced()
        assert (admission["code"], admission["gate"]) == (VALID, "North")
        assert UUID.fullmatch(admission["id"])

        scan(page, VALID)
        expect(outcome).to_have_attribute("data-outcome", "ALREADY_SCANNED")
        expect(page.get_by_test_id("scan-earlier")).to_contain_text("gate South")
        [(_, scanned)] = [(n, v) for n, v in gateway.sent if n == "ScanTicket"]
        assert scanned["input"] == {"eventId": EVENT_GID, "code": VALID, "gate": "North"}
    finally:
        context.close()
    assert errors == []
