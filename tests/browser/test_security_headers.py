"""The pages' Content-Security-Policy holds in a real browser: a whole purchase, 3-D Secure
included, and GraphiQL run with no violation and no Permissions-Policy error, and an inline
script injected into the app's page is blocked and reported, so "no violation" can fail.

Every browser test asserts no violation at its end (`people`, conftest.py); these name it. On the
previous commit the app's page had no policy but frame-ancestors: the injected script ran and
nothing was reported (test_an_injected_inline_script_is_blocked_and_reported failed)."""

from __future__ import annotations

import json
import re
import time
import uuid

from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, DESKTOP, ROOT, Contexts
from tests.browser.csp import PolicyViolations
from tests.browser.market import CARD_3DS, Person, email

INJECT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__injectedRan = true";
  document.head.appendChild(script);
  const style = document.createElement("style");
  style.textContent = "body { outline: 5px solid red }";
  document.head.appendChild(style);
}"""


def reported(contexts: Contexts, directive: str, seconds: float = 5.0) -> list[str]:
    """The violations of `directive` reported by the event listener, once one has arrived."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [v for v in contexts.policy.seen if v.startswith(f"event: {directive} ")]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_an_injected_inline_script_is_blocked_and_reported(browser, stack):
    contexts = Contexts(browser)  # not `people`: this page must break its policy
    try:
        page = contexts.new_page()
        page.goto(stack.base_url + "/tickets")
        expect(page.get_by_role("heading", level=1)).to_have_text("Tickets for sale")
        assert contexts.policy.seen == []
        page.evaluate(INJECT)

        assert page.evaluate("window.__injectedRan === true") is False  # the sentinel
        [script] = reported(contexts, "script-src-elem")
        assert "inline" in script
        [style] = reported(contexts, "style-src-elem")
        assert "inline" in style
        # Chromium says so in the console too; either would fail a test.
        assert any(v.startswith("console error:") for v in contexts.policy.seen)
        outline = page.evaluate("getComputedStyle(document.body).outlineStyle")
        assert outline == "none"
    finally:
        contexts.close()


def test_graphiql_allows_inline_styles_but_no_inline_script(browser, stack):
    contexts = Contexts(browser)
    try:
        page = contexts.new_page(DESKTOP)
        page.goto(stack.base_url + "/graphql")
        expect(page.locator(".graphiql-query-editor")).to_contain_text("currencyCode")
        page.evaluate(INJECT)
        assert page.evaluate("window.__injectedRan === true") is False
        assert reported(contexts, "script-src-elem")
        # Its editor's libraries insert <style> elements: allowed on this page only.
        assert page.evaluate("getComputedStyle(document.body).outlineStyle") == "solid"
        assert not [v for v in contexts.policy.seen if "style-src" in v]
    finally:
        contexts.close()


def test_a_purchase_with_3d_secure_breaks_no_policy(people, stack, shots):
    seller = Person(people.new_page(DESKTOP), stack.base_url)
    seller.sign_up(email("seller"))
    title = f"Fontaines D.C., standing {uuid.uuid4().hex[:6]}"
    ticket = seller.sell(title, "42")

    buyer = Person(people.new_page(), stack.base_url)
    hashes = persisted_hashes(buyer)
    buyer.sign_up(email("buyer"))
    # v1 tickets, listed without an event (the home page is events')
    main_menu = buyer.page.get_by_role("navigation", name="Main")
    main_menu.get_by_role("link", name="Tickets", exact=True).click()
    buyer.page.get_by_role("link", name=title).click()
    answer = buyer.page.reload()  # the page as the gateway serves it, to read its policy
    assert answer is not None
    policy = answer.headers["content-security-policy"]
    stripe_origin = re.search(r"script-src 'self' (\S+);", policy)
    assert stripe_origin and stripe_origin[1].startswith("http://127.0.0.1:"), policy
    buyer.page.get_by_role("button", name="Buy for $46.70").click()
    expect(buyer.status()).to_have_text("Reserved")
    buyer.fill_card(CARD_3DS)  # Stripe.js (the stand-in's) loaded from that origin
    buyer.page.get_by_role("button", name="Pay $46.70").click()
    confirm = buyer.page.get_by_role("button", name="Complete authentication")
    expect(confirm).to_be_visible()
    shots(buyer.page, "bank-asks")
    confirm.click()
    expect(buyer.status()).to_have_text("Complete")
    shots(buyer.page, "complete")
    seller.open(ticket)
    expect(seller.page.get_by_test_id("ticket-status")).to_have_text("Sold")
    assert people.policy.seen == []
    # In a secure context operations still go by the hash the build's manifest registers.
    manifest = json.loads((ROOT / "web" / "dist" / "persisted-operations.json").read_text())
    assert hashes and set(hashes) <= {op["id"] for op in manifest["operations"]}


def persisted_hashes(person: Person) -> list[str]:
    """The persisted-query hashes of the GraphQL requests the page sends, as it sends them."""
    hashes: list[str] = []

    def record(request) -> None:
        if request.url.endswith("/graphql") and request.method == "POST":
            body = json.loads(request.post_data or "{}")
            found = (body.get("extensions") or {}).get("persistedQuery", {}).get("sha256Hash")
            if found:
                hashes.append(found)

    person.page.on("request", record)
    return hashes


def test_graphiql_runs_a_query_and_opens_its_dialogs_with_no_violation(people, stack, shots):
    page = people.new_page(DESKTOP)
    page.goto(stack.base_url + "/graphql")
    expect(page.locator(".graphiql-query-editor")).to_contain_text("currencyCode")
    page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    # The first lines: the pane draws only those in view.
    expect(page.locator(".result-window")).to_contain_text('"tickets"')
    page.get_by_role("button", name="Open settings dialog").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    shots(page, "settings")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert people.policy.seen == []


def test_the_app_over_plain_http_on_another_host_breaks_no_policy(playwright, stack):
    # Not a secure context (the dev overlay's ingress serves plain HTTP by name): no WebCrypto,
    # and the persisted-query exchange's fallback evaluated code, which the policy blocks. The
    # app sends its operations by text there instead.
    host = "tickets.test"
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[f"--host-resolver-rules=MAP {host} 127.0.0.1"],
    )
    try:
        context = browser.new_context(locale="en-US")
        violations = PolicyViolations()
        violations.watch(context)
        base_url = stack.base_url.replace("127.0.0.1", host)
        person = Person(context.new_page(), base_url)
        hashes = persisted_hashes(person)
        person.sign_up(email("plain-http"))
        assert person.page.evaluate("window.isSecureContext") is False
        expect(person.heading()).to_have_text("Upcoming events")  # the home page: events
        expect(person.page.get_by_role("list", name="Events")).to_be_visible()
        person.page.get_by_role("navigation", name="Main").get_by_role("link", name="Sell").click()
        expect(person.heading()).to_have_text("Sell a ticket")
        assert violations.seen == []
        assert hashes == []  # by text
    finally:
        browser.close()
