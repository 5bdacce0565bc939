"""The benchmarks' Stripe stand-in: the project's one stand-in (`stripe_standin/`), started with a
fixed latency (default 300 ms, Stripe's typical) so the purchase figure measures our services
under a realistic Stripe.

    python -m bench.stripe_standin --port 8420 --latency-ms 300
"""

from __future__ import annotations

from stripe_standin import StripeStandIn
from stripe_standin.__main__ import main as serve

__all__ = ["StripeStandIn", "main"]


def main(argv: list[str] | None = None) -> None:
    serve(argv, prog="python -m bench.stripe_standin", default_latency_ms=300.0)


if __name__ == "__main__":
    main()
