"""`ticketing serve auth` (or `python -m svc_auth`)."""

from __future__ import annotations

from common.runner import serve_service
from svc_auth.bootstrap import NAME, bootstrap
from svc_auth.config import AuthSettings


def main() -> None:
    serve_service(NAME, AuthSettings, bootstrap)


if __name__ == "__main__":
    main()
