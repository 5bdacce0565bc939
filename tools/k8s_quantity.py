"""Kubernetes resource quantities ("512Mi", "500m", "2", "1e3"), read as the API server reads
them: the one parser of tools/deploy_check (workers against limits) and tools/pod_check (limits
as `docker run` flags)."""

from __future__ import annotations

import re
from decimal import Decimal

_SUFFIXES = {
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}
_QUANTITY = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))([eE][+-]?\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$"
)


class NotAQuantity(ValueError):
    pass


def parse(value: object) -> Decimal:
    """The quantity as a number (CPUs, bytes)."""
    found = _QUANTITY.match(str(value).strip())
    if not found:
        raise NotAQuantity(f"{value!r} is not a Kubernetes quantity")
    number = Decimal(found[1] + (found[2] or ""))
    return number * _SUFFIXES[found[3] or ""]
