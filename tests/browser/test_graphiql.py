"""GraphiQL on GET /graphql works with no internet: its scripts, styles and fonts come from the
gateway (web/'s build), every request to another host is blocked (and none is attempted), and
it runs queries, signs in with the session cookie and follows a subscription over graphql-ws.
On main the page loaded 7 files from unpkg and stopped at "Loading..." without them."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.market import PASSWORD
from tests.support.market import Api


def graphiql(people, stack, query: str):
    page = people.new_page(DESKTOP)
    open_with(page, stack, query)
    return page


def open_with(page, stack, query: str) -> None:
    """GraphiQL with `query` in its editor (?q=), ready to run it."""
    page.goto(f"{stack.base_url}/graphql?q={quote(query)}")
    last_word = re.findall(r"[A-Za-z_]\w+", query)[-1]
    expect(page.locator(".graphiql-query-editor")).to_contain_text(last_word)


def run(page) -> None:
    page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()


def result(page):
    return page.locator(".result-window")


def test_graphiql_runs_a_query_with_every_other_host_blocked(people, stack, shots):
    query = (
        "{\n  tickets(first: 3) {\n    nodes { title price { amount currencyCode } }\n"
        "    pageInfo { hasNextPage }\n  }\n}"
    )
    page = graphiql(people, stack, query)
    run(page)
    expect(result(page)).to_contain_text('"hasNextPage"')
    expect(result(page)).to_contain_text('"tickets"')
    # The docs pane is built from introspection, through the same fetcher.
    page.get_by_role("button", name="Show Documentation Explorer").click()
    expect(page.get_by_text("A GraphQL schema provides a root type")).to_be_visible()
    shots(page, "query-and-docs")
    # `people` asserts at teardown that no request left 127.0.0.1.


def test_graphiql_opens_on_a_v1_document_that_runs(people, stack, shots):
    with httpx.Client(base_url=stack.base_url, timeout=20) as client:
        api = Api(client)
        api.sell(api.user(), title="GraphiQL default", price="14")
    page = people.new_page(DESKTOP)
    page.goto(f"{stack.base_url}/graphql")
    editor = page.locator(".graphiql-query-editor")
    expect(editor).to_contain_text("currencyCode")
    with page.expect_response(
        lambda r: (
            r.url.endswith("/graphql")
            and r.request.method == "POST"
            and "Tickets" in (r.request.post_data or "")
        )
    ) as answered:
        run(page)
    body = answered.value.json()  # the result pane draws only the lines in view: read the reply
    assert "errors" not in body, body
    assert "hasNextPage" in body["data"]["tickets"]["pageInfo"], body
    expect(result(page)).to_contain_text('"currencyCode": "USD"')
    shots(page, "default-document")


def test_graphiql_fetches_no_script_its_page_did_not_declare(people, stack):
    """Every script GraphiQL runs on first use (its four editors, a query run) is one its page
    declares (its module script and modulepreloads): none is fetched lazily, after the page has
    loaded. Its editors import CodeMirror and its addons with import() as they mount; fetched
    lazily, one (`lint-*.js`) failed mid-test under load (issue 19), and the page threw
    "Failed to fetch dynamically imported module"."""
    page = people.new_page(DESKTOP)
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if r.resource_type == "script" else None)
    served = page.goto(f"{stack.base_url}/graphql")
    assert served is not None
    declared = {
        f"{stack.base_url}{path}"
        for path in re.findall(
            r'<(?:script type="module"[^>]* src|link rel="modulepreload"[^>]* href)="([^"]+)"',
            served.text(),
        )
    }
    assert declared, served.text()
    expect(page.locator(".graphiql-query-editor")).to_contain_text("currencyCode")
    run(page)
    expect(result(page)).to_contain_text('"tickets"')  # its first lines (only those in view)
    # Query, variables, headers (mounted while hidden) and the response: every editor is made.
    expect(page.locator(".CodeMirror")).to_have_count(4)
    assert fetched and set(fetched) <= declared, sorted(set(fetched) - declared)


def test_graphiql_signs_in_with_the_cookie_and_follows_a_subscription(people, stack, shots):
    address = f"graphiql-{uuid.uuid4().hex[:8]}@example.com"
    signup = (
        f'mutation {{ signUp(input: {{ email: "{address}", password: "{PASSWORD}" }}) '
        "{ user { email } userErrors { code message } } }"
    )
    page = graphiql(people, stack, signup)
    run(page)
    expect(result(page)).to_contain_text(address)
    # The cookie that signup set signs in the next request made from the page.
    open_with(page, stack, "{ currentUser { email } }")
    run(page)
    expect(result(page)).to_contain_text(address)
    shots(page, "signed-in-by-cookie")

    with httpx.Client(base_url=stack.base_url, timeout=20) as client:
        api = Api(client)
        ticket = api.sell(api.user(), title="GraphiQL live", price="12")
    subscription = (
        f'subscription {{ ticketUpdated(id: "{ticket["id"]}") '
        "{ title price { amount currencyCode } state } }"
    )
    open_with(page, stack, subscription)
    run(page)
    expect(result(page)).to_contain_text("GraphiQL live")
    expect(result(page)).to_contain_text('"12.00"')
    expect(result(page)).to_contain_text('"FOR_SALE"')
    shots(page, "subscription")
