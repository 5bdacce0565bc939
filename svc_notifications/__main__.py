"""`ticketing serve notifications` (or `python -m svc_notifications`)."""

from __future__ import annotations

from common.runner import serve_service
from svc_notifications.bootstrap import NAME, bootstrap
from svc_notifications.config import NotificationsSettings


def main() -> None:
    serve_service(NAME, NotificationsSettings, bootstrap)


if __name__ == "__main__":
    main()
