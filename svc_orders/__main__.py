"""`ticketing serve orders` (or `python -m svc_orders`)."""

from __future__ import annotations

from common.runner import serve_service
from svc_orders.bootstrap import NAME, bootstrap
from svc_orders.config import OrdersSettings


def main() -> None:
    serve_service(NAME, OrdersSettings, bootstrap)


if __name__ == "__main__":
    main()
