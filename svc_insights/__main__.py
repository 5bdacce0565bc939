"""`ticketing serve insights` (or `python -m svc_insights`)."""

from __future__ import annotations

from common.runner import serve_service
from svc_insights.bootstrap import NAME, bootstrap
from svc_insights.config import InsightsSettings


def main() -> None:
    serve_service(NAME, InsightsSettings, bootstrap)


if __name__ == "__main__":
    main()
