"""`ticketing serve tickets` (or `python -m svc_tickets`)."""

from __future__ import annotations

from common.runner import serve_service
from svc_tickets.bootstrap import NAME, bootstrap
from svc_tickets.config import TicketsSettings


def main() -> None:
    serve_service(NAME, TicketsSettings, bootstrap)


if __name__ == "__main__":
    main()
