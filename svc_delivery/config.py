from __future__ import annotations

from typing import Annotated

from pydantic import Field

from common.config import CommonSettings
from common.settings import ConfigError, at_least, between

MIB = 1024 * 1024


class DeliverySettings(CommonSettings):
    """What the delivery service reads."""

    delivery_max_file_bytes: Annotated[int, between(1024, 64 * MIB)] = Field(
        5 * MIB,
        description="The largest e-ticket file (PDF or PKPass) a seller may deliver, in bytes: "
        "issue 22's 5 MiB, above any real ticket PDF or wallet pass (tens to hundreds of KiB). "
        "The gRPC server accepts a DeliverFiles request of up to DELIVERY_MAX_REQUEST_BYTES.",
    )
    delivery_max_request_bytes: Annotated[int, between(4 * MIB, 256 * MIB)] = Field(
        32 * MIB,
        description="The largest gRPC message the delivery service accepts (gRPC's own default "
        "is 4 MiB, less than one file of DELIVERY_MAX_FILE_BYTES): one DeliverFiles request with "
        "its files, e.g. six per-seat files of 5 MiB. A larger request is RESOURCE_EXHAUSTED.",
    )
    delivery_reminder_before_seconds: Annotated[float, at_least(0)] = Field(
        24 * 3600.0,
        description="How long before a paid order's delivery deadline its seller, not having "
        "delivered, is reminded (DeliveryDeadlineApproaching, once per order): a day, issue "
        "22's. 0: no reminder.",
    )
    delivery_sweep_seconds: Annotated[float, between(0.01, 3600)] = Field(
        30.0,
        description="How often the deadline sweep looks for deliveries whose deadline passed "
        "(MISSED) or whose reminder is due: a missed deadline is acted on within about this "
        "long.",
    )
    ticket_keys_dir: str | None = Field(
        None,
        description='The ticket-code key directory (README "Ticket codes"): ring.json, the '
        "published key ring, and private/<kid>.pem, the keys that sign (a mounted Secret). "
        "Required. `ticketing ticket-keys generate DIR` makes one and rotates it; `ticketing run` "
        "generates a development ring in .run/ticket-keys. Read at start: a key added later "
        "signs once the service restarts.",
    )

    ticket_private_keys_dir: str | None = Field(
        None,
        description="Where the ticket-code private keys (<kid>.pem) are when not in "
        "TICKET_KEYS_DIR/private: in Kubernetes, a second Secret (a Secret cannot hold a "
        "subdirectory), so the published ring and the private keys are two.",
    )

    def require_ticket_keys_dir(self) -> str:
        if not self.ticket_keys_dir:
            raise ConfigError(
                "TICKET_KEYS_DIR is required (the ticket-code keys; `ticketing ticket-keys "
                "generate DIR` makes them)"
            )
        return self.ticket_keys_dir
