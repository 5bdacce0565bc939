"""The chaos harness: the whole system as separate processes with a private RabbitMQ and Redis,
purchase flows under load while each part is killed with SIGKILL and comes back, then the
invariants checked from the services' own databases, Stripe (the stand-in) and the broker.

`tests/e2e/test_chaos.py` runs a short version in `make test`; `make chaos` (`python -m
tests.chaos`) a longer one that prints a table per fault.
"""
