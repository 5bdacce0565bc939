"""How an event's embedded values are stored: performers and the venue as subdocuments, the
listings' summary with its price as a decimal string (null when nothing is for sale)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from common.documents import Kind
from common.money import format_money
from svc_catalogue.domain.fees import FeeOverride
from svc_catalogue.domain.listings import ListingSummary
from svc_catalogue.domain.values import Performer, Venue


def performers_kind() -> Kind:
    return Kind(
        "performer subdocuments",
        lambda performers: [{"id": p.id, "name": p.name} for p in performers],
        lambda stored: tuple(Performer(p["id"], p["name"]) for p in stored or ()),
    )


VENUE = Kind(
    "venue subdocument",
    lambda v: {
        "id": v.id,
        "name": v.name,
        "city": v.city,
        "country": v.country,
        "time_zone": v.time_zone,
    },
    lambda stored: Venue(
        stored["id"], stored["name"], stored["city"], stored["country"], stored["time_zone"]
    ),
)


def _dump_summary(summary: ListingSummary) -> dict[str, Any]:
    price = summary.lowest_price
    return {
        "lowest_price": None if price is None else format_money(price),
        "currency_code": summary.currency_code,
        "tickets_for_sale": summary.tickets_for_sale,
    }


def _load_summary(stored: dict[str, Any] | None) -> ListingSummary:
    if not stored:
        return ListingSummary()
    price = stored.get("lowest_price")
    return ListingSummary(
        None if price is None else Decimal(price),
        stored.get("currency_code", ""),
        int(stored.get("tickets_for_sale", 0)),
    )


SUMMARY = Kind("listing summary subdocument", _dump_summary, _load_summary)


def _dump_fees(fees: FeeOverride) -> dict[str, Any] | None:
    if fees.empty:
        return None
    percent = fees.buyer_fee_percent
    commission = fees.seller_commission_percent
    return {
        "buyer_fee_percent": None if percent is None else str(percent),
        "buyer_fee_fixed": [
            {"currency_code": c, "amount": str(a)} for c, a in fees.buyer_fee_fixed
        ],
        "seller_commission_percent": None if commission is None else str(commission),
    }


def _load_fees(stored: dict[str, Any] | None) -> FeeOverride:
    if not stored:
        return FeeOverride()
    percent = stored.get("buyer_fee_percent")
    commission = stored.get("seller_commission_percent")
    return FeeOverride(
        None if percent is None else Decimal(percent),
        tuple(
            (f["currency_code"], Decimal(f["amount"])) for f in stored.get("buyer_fee_fixed", ())
        ),
        None if commission is None else Decimal(commission),
    )


# An event's own fees as a subdocument of decimal strings (null when it has none).
FEES = Kind("fee override subdocument", _dump_fees, _load_fees)
