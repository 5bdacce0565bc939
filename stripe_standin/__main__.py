"""`python -m stripe_standin --port N [--latency-ms M]`: the stand-in on 127.0.0.1:N."""

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
    args = parser.parse_args(argv)
    app = StripeStandIn(latency_seconds=args.latency_ms / 1000).app()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
