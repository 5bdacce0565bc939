from __future__ import annotations

from typing import Annotated

from pydantic import Field

from common.config import CommonSettings
from common.settings import between


class CatalogueSettings(CommonSettings):
    """What the catalogue service reads."""

    search_poll_seconds: Annotated[float, between(0.01, 60)] = Field(
        0.2,
        description="How often each replica reads the events changed since its search index "
        "last looked (one indexed range on `seq`): a new event or a repriced listing is "
        "findable within about this long (the 1 s issue 20 asks, with room for the consumer's "
        "own delay; docs/design/marketplace.md, decision 4).",
    )
