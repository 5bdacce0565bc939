"""A broken invariant, as the chaos run reports it (tests/chaos/invariants.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str
    at: float | None = None  # wall time of what it concerns (an order's expiresAt), if known

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"


def due(order: dict | None) -> float | None:
    if order is None or order.get("expires_at") is None:
        return None
    return order["expires_at"].timestamp()
