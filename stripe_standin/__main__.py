"""`python -m stripe_standin --port N [--latency-ms M] [--webhook URL --webhook-secret S]`: the
stand-in on 127.0.0.1:N. `--webhook` registers an endpoint for every event at start, signed with
`--webhook-secret` (what the receiver has as its STRIPE_WEBHOOK_SECRET), so a restarted stand-in
delivers there again without being told."""

from __future__ import annotations

import argparse

import uvicorn

from stripe_standin.app import StripeStandIn


def main(
    argv: list[str] | None = None,
    prog: str = "python -m stripe_standin",
    default_latency_ms: float = 0.0,
) -> None:
    parser = argparse.ArgumentParser(prog=prog, description="A stateful Stripe stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--latency-ms", type=float, default=default_latency_ms, help="every answer's delay"
    )
    parser.add_argument("--webhook", help="deliver every event, signed, to this URL")
    parser.add_argument(
        "--webhook-secret", help="the whsec_ secret --webhook's deliveries are signed with"
    )
    args = parser.parse_args(argv)
    if bool(args.webhook) != bool(args.webhook_secret):
        parser.error("--webhook and --webhook-secret go together")
    webhooks = [(args.webhook, args.webhook_secret)] if args.webhook else []
    app = StripeStandIn(latency_seconds=args.latency_ms / 1000, webhooks=webhooks).app()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
