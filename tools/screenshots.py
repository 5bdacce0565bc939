"""The web app's pictures in the README and docs/screenshots.md, taken again: the events home, a
search for a performer, a city and a date range, an event's page with its listings, and a
seller's My listings, at 1280x800 in headless Debian Chromium (`make browser`), into
docs/images/ as PNG.

    make run          # in one terminal; wait for `ready`
    make demo         # in another: the demo marketplace (docs/demo.md)
    .venv/bin/python -m tools.screenshots [--base-url http://127.0.0.1:8000] [--out docs/images]

What it shows is read from the running marketplace, not assumed: the performer with the most
events among the soonest ones, the city with the most events (the search's facets) and the first
six weeks of its events, the soonest event with the most tickets for sale (seen signed in, as
the demo's first seller, seller1@demo.ticketing.test, whose My listings is pictured too). Each
PNG is written again with its image data deflated at the highest level (lossless; Chromium's own
encoder compresses less).
"""

from __future__ import annotations

import argparse
import struct
import sys
import zlib
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SIZE = {"width": 1280, "height": 800}
SELLER = ("seller1@demo.ticketing.test", "demo-seller-password")  # common/devstack/demo/plan.py

SOONEST = """
query($after: String) {
  events(sort: DATE, first: 10, after: $after) {
    nodes { performers { name } }
    pageInfo { endCursor }
  }
}"""
CITIES = "{ events(first: 1) { totalCount facets { cities { value count } } } }"
FIRST_IN_CITY = """
query($city: String!) {
  events(filter: {city: $city}, sort: DATE, first: 1) { nodes { startsAt } }
}"""
WITH_TICKETS = """
{ events(filter: {hasTickets: true}, sort: DATE, first: 50) { nodes { id name ticketCount } } }"""


def ask(client: httpx.Client, query: str, **variables) -> dict:
    reply = client.post("/graphql", json={"query": query, "variables": variables})
    reply.raise_for_status()
    body = reply.json()
    if body.get("errors"):
        raise SystemExit(f"the API refused a question: {body['errors']}")
    return body["data"]


def busiest_performer(client: httpx.Client) -> str:
    """The performer with the most events among the 60 soonest."""
    counts: Counter[str] = Counter()
    after = None
    for _ in range(6):  # 10 a page: a page of performers costs 50 each (listSize)
        page = ask(client, SOONEST, after=after)["events"]
        counts.update(p["name"] for node in page["nodes"] for p in node["performers"])
        after = page["pageInfo"]["endCursor"]
        if not after:
            break
    if not counts:
        raise SystemExit("no events: fill the stack with `make demo` first")
    return counts.most_common(1)[0][0]


def prefixes(name: str) -> str:
    """The first letters of each longer word ("The Cosmic Wolves" -> "cosm wolv"): a search as
    people type it (a short word such as "the" would find many events besides)."""
    words = [word for word in name.split() if len(word) > 3] or name.split()
    return " ".join(word[:4].lower() for word in words)


def busiest_city(client: httpx.Client) -> tuple[str, date]:
    """The city with the most events, and the day of its first."""
    cities = ask(client, CITIES)["events"]["facets"]["cities"]
    city = max(cities, key=lambda c: c["count"])["value"]
    first = ask(client, FIRST_IN_CITY, city=city)["events"]["nodes"][0]["startsAt"]
    return city, date.fromisoformat(first[:10])


def event_with_most_tickets(client: httpx.Client) -> dict:
    """Among the 50 soonest events with tickets for sale, the one with the most."""
    nodes = ask(client, WITH_TICKETS)["events"]["nodes"]
    if not nodes:
        raise SystemExit("no tickets for sale: fill the stack with `make demo` first")
    return max(nodes, key=lambda n: n["ticketCount"])


def recompress(path: Path) -> None:
    """The PNG with its image data (every IDAT) deflated again at level 9: the same pixels."""
    data = path.read_bytes()
    signature, chunks, at = data[:8], [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        chunks.append((kind, data[at + 8 : at + 8 + length]))
        at += 12 + length
    image = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    out, written = [signature], False
    for kind, body in chunks:
        if kind == b"IDAT":
            if written:  # one chunk holds all of the image data
                continue
            body, written = zlib.compress(image, 9), True
        crc = struct.pack(">I", zlib.crc32(kind + body))
        out.append(struct.pack(">I", len(body)) + kind + body + crc)
    path.write_bytes(b"".join(out))


def shoot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=path)
    recompress(path)
    print(f"{path}: {path.stat().st_size // 1024} KB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="the web app")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="the folder")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium", file=sys.stderr)
        return 2
    base = args.base_url.rstrip("/")
    with httpx.Client(base_url=base, timeout=20) as client:
        performer = busiest_performer(client)
        city, first_day = busiest_city(client)
        event = event_with_most_tickets(client)
    args.out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(viewport=SIZE, locale="en-US", timezone_id="UTC")
        page = context.new_page()
        events = page.get_by_role("list", name="Events").get_by_role("listitem")

        page.goto(f"{base}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")
        expect(events.first).to_be_visible()
        shoot(page, args.out, "events-home")

        words = prefixes(performer)
        page.get_by_role("searchbox", name="Search events").fill(words)
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Events for “{words}”")
        expect(events.first).to_be_visible()
        shoot(page, args.out, "search-performer")

        last_day = first_day + timedelta(days=42)
        search = {"city": city, "from": first_day.isoformat(), "to": last_day.isoformat()}
        page.goto(f"{base}/?{urlencode(search)}")
        expect(page.get_by_role("button", name=city)).to_have_attribute("aria-pressed", "true")
        expect(events.first).to_be_visible()
        shoot(page, args.out, "search-city-dates")

        # Signed in from here on, so the event's listings offer their quantity pickers.
        page.goto(f"{base}/signin?next=%2Flistings")
        page.get_by_label("Email").fill(SELLER[0])
        page.get_by_label("Password").fill(SELLER[1])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("My listings")
        expect(page.get_by_test_id("my-listing").first).to_be_visible()
        shoot(page, args.out, "my-listings")

        page.goto(f"{base}/events/{event['id']}")
        expect(page.get_by_role("heading", level=1)).to_have_text(event["name"])
        expect(page.get_by_test_id("listing").first).to_be_visible()
        shoot(page, args.out, "event")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
