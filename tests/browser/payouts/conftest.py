"""The payouts browser tests' stack: `ticketing run` against the Stripe stand-in
(stripe_standin/) instead of localstripe, which has no Connect accounts; the stand-in's account
links are pages of its own that the browser follows. Its gateway port is chosen here so that
payments sends sellers back to it (SELLER_ONBOARDING_URL). Once `ticketing run` starts the
stand-in itself, this override can go."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from common.devstack import free_port
from tests.browser.conftest import ROOT
from tests.support import servers, stripe_standin
from tests.support.stack import RunningStack, start_stack

WEBHOOK_SECRET = "whsec_browser_payouts"


@pytest.fixture(scope="package")
def standin() -> Iterator[str]:
    with stripe_standin.running() as url:
        yield url


@pytest.fixture(scope="package")
def stack(tmp_path_factory, amqp_url, redis_url, standin) -> Iterator[RunningStack]:
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("the web app is not built: run `make web` (make test-browser does)")
    port = free_port()  # the stack's other ports are its own picks (one clash: a clear failure)
    running = start_stack(
        tmp_path_factory.mktemp("payouts-stack"),
        {
            "GATEWAY_PORT": str(port),
            "STRIPE_API_BASE": standin,
            "STRIPE_SECRET_KEY": "sk_test_standin",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SELLER_ONBOARDING_URL": f"http://127.0.0.1:{port}/payouts",
        },
    )
    running.ports["GATEWAY_PORT"] = port  # what base_url reads
    yield running
    running.stop()
    servers.remove_namespace(running.namespace, amqp_url, redis_url, "")
