"""`ticketing serve expiration` (or `python -m svc_expiration`)."""

from __future__ import annotations

from common.runner import serve_service
from svc_expiration.bootstrap import NAME, bootstrap
from svc_expiration.config import ExpirationSettings


def main() -> None:
    serve_service(NAME, ExpirationSettings, bootstrap)


if __name__ == "__main__":
    main()
