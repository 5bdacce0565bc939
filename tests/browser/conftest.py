"""The browser tests: Debian's Chromium (`make browser`), headless, driven by Playwright's
Python API, against one `ticketing run` with a short hold so an expiry is seen within the test.

Every page is allowed to reach 127.0.0.1 only (the gateway, and the Stripe stand-in's
Stripe.js); any request to another host is aborted and recorded, and each test fails if one was
attempted, or if a page broke its Content-Security-Policy (tests/browser/csp.py). Each test's
screenshots go to tests/browser/artifacts/<test>/ (printed at the end).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.browser.csp import PolicyViolations
from tests.browser.market import HOLD_SECONDS, Screenshots
from tests.support import servers
from tests.support.market import Api
from tests.support.stack import RunningStack, start_stack

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LOCAL = re.compile(r"^(https?|wss?)://127\.0\.0\.1(:\d+)?/")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


# Package-scoped, not session: Playwright's sync API runs an event loop in this thread while it
# is open (every asyncio test after it would fail with "cannot be called from a running event
# loop"), and this stack would run beside the e2e one for the rest of the session.
BROWSER_FEES = {
    "BUYER_FEE_PERCENT": "10",
    "BUYER_FEE_FIXED": "USD:0.50,EUR:0.50,GBP:0.40",
    "SELLER_COMMISSION_PERCENT": "5",
}


def browser_stack(
    tmp_path_factory, amqp_url: str, redis_url: str, settings: dict[str, str] | None = None
) -> Iterator[RunningStack]:
    """A `ticketing run` as the browser tests use it (the hold, the fees), with `settings` on
    top: the package's stack, or a module's own when it needs other settings (test_money.py)."""
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("the web app is not built: run `make web` (make test-browser does)")
    running = start_stack(
        tmp_path_factory.mktemp("browser-stack"),
        {
            "ORDER_EXPIRATION_SECONDS": str(HOLD_SECONDS),
            # The orders service's own sweep is the expiry's backstop; let the expiration
            # service's path (what production takes) be the one seen here.
            "ORDER_EXPIRY_GRACE_SECONDS": "60",
            # Fees as a marketplace charges them (docs/design/money.md §3): buyers see and pay
            # prices with 10 % + 0.50 per ticket; sellers are told what they receive (95 %).
            **BROWSER_FEES,
            **(settings or {}),
        },
    )
    yield running
    running.stop()
    servers.remove_namespace(running.namespace, amqp_url, redis_url, "")


@pytest.fixture(scope="package")
def stack(tmp_path_factory, amqp_url, redis_url) -> Iterator[RunningStack]:
    yield from browser_stack(tmp_path_factory, amqp_url, redis_url)


@pytest.fixture
def api(stack) -> Iterator[Api]:
    """The GraphQL API of the stack, for what a test sets up without the browser."""
    with httpx.Client(base_url=stack.base_url, timeout=20) as client:
        yield Api(client)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield browser
    browser.close()


class Contexts:
    """Browser contexts (each its own cookies: one person each) that allow 127.0.0.1 only."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.opened: list[BrowserContext] = []
        self.foreign: list[str] = []
        self.page_errors: list[str] = []
        self.policy = PolicyViolations()  # CSP violations, Permissions-Policy errors

    def new_page(self, viewport: dict[str, int] = PHONE) -> Page:
        context = self.browser.new_context(viewport=viewport, locale="en-US")
        context.set_default_timeout(15_000)
        context.route("**/*", self._only_local)
        self.policy.watch(context)
        self.opened.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        # route() does not see WebSockets: their addresses are checked as they open.
        page.on("websocket", self._check_socket)
        return page

    def _check_socket(self, socket) -> None:
        if not LOCAL.match(socket.url):
            self.foreign.append(socket.url)

    def _only_local(self, route) -> None:
        url = route.request.url
        if LOCAL.match(url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def close(self) -> None:
        for context in self.opened:
            context.close()


@pytest.fixture
def people(browser: Browser) -> Iterator[Contexts]:
    contexts = Contexts(browser)
    yield contexts
    contexts.close()
    assert contexts.foreign == [], "a page asked another host than 127.0.0.1"
    assert contexts.page_errors == [], "a page threw"
    assert contexts.policy.seen == [], "a page broke its Content-Security-Policy"


@pytest.fixture
def shots(request) -> Screenshots:
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    return Screenshots(folder)


def pytest_terminal_summary(terminalreporter) -> None:
    if ARTIFACTS.is_dir() and any(ARTIFACTS.iterdir()):
        terminalreporter.write_line(f"browser test screenshots: {ARTIFACTS}")
