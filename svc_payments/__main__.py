"""`ticketing serve payments` (or `python -m svc_payments`)."""

from __future__ import annotations

from common.runner import serve_service
from svc_payments.bootstrap import NAME, bootstrap
from svc_payments.config import PaymentsSettings


def main() -> None:
    serve_service(NAME, PaymentsSettings, bootstrap)


if __name__ == "__main__":
    main()
