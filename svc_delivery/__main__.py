"""`ticketing serve delivery` (or `python -m svc_delivery`)."""

from __future__ import annotations

from common.runner import serve_service
from svc_delivery.bootstrap import NAME, bootstrap
from svc_delivery.config import DeliverySettings


def main() -> None:
    serve_service(NAME, DeliverySettings, bootstrap)


if __name__ == "__main__":
    main()
