"""`ticketing serve catalogue` (or `python -m svc_catalogue`)."""

from __future__ import annotations

from common.runner import serve_service
from svc_catalogue.bootstrap import NAME, bootstrap
from svc_catalogue.config import CatalogueSettings


def main() -> None:
    serve_service(NAME, CatalogueSettings, bootstrap)


if __name__ == "__main__":
    main()
