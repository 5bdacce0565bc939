"""What `make compose-smoke` does against the running compose stack, from the host: what the web
app needs to take a card, a whole purchase paid by card through the Stripe stand-in with the
buyer's subscription seeing it complete, and what the images hold."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

import httpx

from tests.support.market import Api
from tests.support.subscriber import ORDER_UPDATED, Subscriber

# A card Stripe (and the stand-in) accepts without asking the bank (3-D Secure).
CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2040", "cvc": "123"}
INSIGHTS_ONLY = ("numpy", "scipy", "duckdb")

Step = Callable[[str], None]


def card_payment_prerequisites(client: httpx.Client) -> tuple[str, str]:
    """What the web app's card form reads from /config.json, checked as the browser would:
    a publishable key, and a Stripe.js that loads from the host. Returns (Stripe API base as
    that Stripe.js finds it, publishable key)."""
    config = client.get("/config.json")
    assert config.status_code == 200, config.text
    stripe = config.json()["stripe"]
    key, js_url = stripe["publishableKey"], stripe["jsUrl"]
    assert key and key.startswith("pk_"), f"/config.json gives no publishable key: {stripe}"
    script = httpx.get(js_url, timeout=10)
    assert script.status_code == 200, f"Stripe.js at {js_url}: HTTP {script.status_code}"
    assert "javascript" in script.headers.get("content-type", ""), script.headers
    assert "Stripe" in script.text, f"{js_url} is not a Stripe.js"
    # The stand-in's Stripe.js calls the API beside itself (stripe_standin/stripe.js).
    return js_url.removesuffix("/js.stripe.com/v3/"), key


def card_as_the_browser_sends_it(stripe_api: str, publishable_key: str) -> str:
    """What the web app does with the card typed into the stand-in's form (web/src/app/stripe.ts:
    Stripe.js's createPaymentMethod, with the publishable key); the PaymentMethod's id."""
    reply = httpx.post(
        f"{stripe_api}/v1/payment_methods",
        data={"type": "card", **{f"card[{k}]": v for k, v in CARD.items()}},
        headers={"authorization": f"Bearer {publishable_key}"},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["id"]


def purchase(client: httpx.Client, base_url: str, step: Step) -> str:
    """Two sign-ups, a ticket listed, ordered and paid by card; the buyer's subscription to the
    order sees COMPLETE pushed, and the order reads COMPLETE. Returns the order's id."""
    api = Api(client)
    stripe_api, key = card_payment_prerequisites(client)
    step(f"/config.json: publishable key {key}, Stripe.js loads from {stripe_api}")
    seller, buyer = api.user(), api.user()
    ticket = api.sell(seller, "Compose smoke", "25")
    order = api.order(buyer, ticket["id"])
    step(f"signed up a seller and a buyer; ticket {ticket['id']} listed, order {order['id']}")
    buyer_stream = Subscriber.connect(base_url, headers={"authorization": f"Bearer {buyer}"})
    try:
        watching = buyer_stream.acked().subscribe(ORDER_UPDATED, id=order["id"])
        assert buyer_stream.data(watching, "orderUpdated")["status"] == "CREATED"
        payment = api.pay(buyer, order["id"], card_as_the_browser_sends_it(stripe_api, key))
        assert payment["status"] == "SUCCEEDED", payment
        step(f"paid by card through the stand-in: payment {payment['id']} {payment['status']}")
        pushed = buyer_stream.until(watching, "orderUpdated", lambda o: o["status"] != "CREATED")
        assert pushed["status"] == "COMPLETE", pushed
        assert pushed["payment"]["id"] == payment["id"], pushed
        step("the buyer's orderUpdated subscription (graphql-transport-ws) pushed COMPLETE")
    finally:
        buyer_stream.close()
    # The seat is sold once the paid order's OrderUpdated reaches tickets (the one authority on
    # seats), a moment after the order completes.
    paid = api.until(
        lambda: api.get_order(buyer, order["id"]), lambda o: o["ticket"]["state"] == "SOLD"
    )
    assert paid["status"] == "COMPLETE", paid
    return order["id"]


def image_contents(docker: Sequence[str], services_image: str, insights_image: str) -> None:
    """The services image runs without numpy, SciPy and DuckDB; the insights image has them;
    neither has the dev stack (`ticketing run` says it is a development command) nor the Stripe
    stand-in."""
    probe = "import importlib.util as u, sys; print(*[m for m in sys.argv[1:] if u.find_spec(m)])"
    for image, expected in ((services_image, ""), (insights_image, " ".join(INSIGHTS_ONLY))):
        found = _run_in(docker, image, ["python", "-c", probe, *INSIGHTS_ONLY, "stripe_standin"])
        assert found.returncode == 0 and found.stdout.strip() == expected, (image, found)
    dev = _run_in(docker, services_image, ["ticketing", "run"])
    assert dev.returncode != 0 and "development command" in dev.stderr, dev


def _run_in(docker: Sequence[str], image: str, argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*docker, "run", "--rm", "--network", "none", "--entrypoint", argv[0], image, *argv[1:]],
        capture_output=True,
        text=True,
        timeout=120,
    )
