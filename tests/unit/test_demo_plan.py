"""`ticketing demo`'s plan (common/devstack/demo/plan.py, prices.py): the same seed and week give
the same marketplace, a smaller one is the start of a larger one, every event is a row the
catalogue's import accepts, and every listing is one the tickets service takes (quantity 1-8, a
split rule that allows it, a seat number per seat) at a price that fits its category and city."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

import pytest

from common.devstack.demo.plan import make_plan, week_start
from common.devstack.demo.prices import SECTIONS, Section, asking_price, face_value, seats_for
from svc_catalogue.entrypoints.import_file import object_rows
from svc_catalogue.service_layer.imports import row_details

MONDAY = date(2027, 3, 1)


def test_the_same_seed_and_week_give_the_same_plan_and_another_seed_another() -> None:
    assert make_plan(60, 1, MONDAY) == make_plan(60, 1, MONDAY)
    assert make_plan(60, 2, MONDAY).rows != make_plan(60, 1, MONDAY).rows


def test_a_smaller_demo_is_the_start_of_a_larger_one() -> None:
    small, large = make_plan(40, 1, MONDAY), make_plan(120, 1, MONDAY)
    assert large.rows[:40] == small.rows
    refs = {row["external_ref"] for row in small.rows}
    assert [x for x in large.listings if x.external_ref in refs] == small.listings


def test_the_week_is_its_monday_so_re_runs_that_week_keep_the_dates() -> None:
    assert {week_start(MONDAY + timedelta(days=n)) for n in range(7)} == {MONDAY}
    assert make_plan(20, 1, week_start(date(2027, 3, 5))).rows == make_plan(20, 1, MONDAY).rows


def test_every_event_is_a_row_the_import_accepts_in_the_weeks_ahead() -> None:
    plan = make_plan(300, 1, MONDAY)
    for file_row in object_rows(list(plan.rows)):
        details = row_details(file_row.row)  # raises on any refused field
        assert details.starts_at.date() >= MONDAY + timedelta(days=13)
        assert details.starts_at.date() <= MONDAY + timedelta(days=14 + 150)
    assert len({row["external_ref"] for row in plan.rows}) == 300
    assert len({row["city"] for row in plan.rows}) >= 30
    assert {row["category"] for row in plan.rows} == set(SECTIONS)


def test_most_events_have_listings_and_every_listing_is_valid() -> None:
    plan = make_plan(300, 1, MONDAY)
    listed = {listing.external_ref for listing in plan.listings}
    assert 0.8 * 300 <= len(listed) < 300  # a few events have nothing for sale
    assert {listing.seller for listing in plan.listings} == set(range(len(plan.sellers)))
    keys = [listing.idempotency_key for listing in plan.listings]
    assert len(set(keys)) == len(keys)
    assert all(len(key) <= 64 and key.replace("-", "").isalnum() for key in keys)
    for listing in plan.listings:
        seats = listing.seats
        assert 1 <= seats.quantity <= 8
        assert seats.seats == () or len(seats.seats) == seats.quantity
        assert seats.split_rule != "EVEN" or seats.quantity % 2 == 0
        assert seats.quantity > 1 or seats.split_rule == "ANY"
        assert seats.price > 0 and seats.price == seats.price.quantize(Decimal("0.01"))


def test_no_two_listings_of_an_event_are_for_the_same_row() -> None:
    rows = defaultdict(list)
    for listing in make_plan(300, 1, MONDAY).listings:
        if listing.seats.row is not None:
            rows[listing.external_ref].append((listing.seats.section, listing.seats.row))
    assert all(len(set(taken)) == len(taken) for taken in rows.values())


def test_the_sellers_have_the_documented_addresses() -> None:
    assert make_plan(1, 1, MONDAY).sellers == [
        f"seller{n}@demo.ticketing.test" for n in range(1, 7)
    ]


def test_the_search_hint_is_the_busiest_performers_prefixes_without_accents() -> None:
    plan = make_plan(300, 1, MONDAY)
    hint = plan.search_hint()
    words = hint.split()
    assert 1 <= len(words) <= 2 and hint == hint.lower() and hint.isascii()
    assert "the" not in words


@pytest.mark.parametrize(
    ("dear", "cheap"), [("CH", "PL"), ("US", "MX"), ("GB", "PT"), ("DK", "CZ")]
)
def test_a_dearer_country_has_dearer_face_values(dear: str, cheap: str) -> None:
    section = Section("Stalls", 1.0, 20)
    for category in SECTIONS:
        assert face_value(category, dear, section) > face_value(category, cheap, section)


def test_prices_are_in_the_countrys_currency_and_fit_the_category() -> None:
    rng = random.Random(5)
    prices = defaultdict(list)
    for _ in range(400):
        for category in ("COMEDY", "FESTIVAL"):
            seats = seats_for(category, "FR", rng)
            assert seats.currency_code == "EUR"
            prices[category].append(seats.price)
    assert median(prices["COMEDY"]) < median(prices["FESTIVAL"])
    assert seats_for("CONCERT", "GB", rng).currency_code == "GBP"
    assert seats_for("CONCERT", "US", rng).currency_code == "USD"


def test_an_asking_price_stays_within_half_and_four_times_the_face_value() -> None:
    rng = random.Random(3)
    face = Decimal("80.00")
    asked = [asking_price(face, rng) for _ in range(2_000)]
    assert min(asked) >= Decimal("40.00") and max(asked) <= Decimal("320.00")
    assert Decimal("80") < median(asked) < Decimal("110")  # mostly above face, not wildly
    assert all(price == price.to_integral_value() for price in asked)  # whole amounts over 20
    assert asking_price(Decimal("10.00"), rng) % Decimal("0.5") == 0


# Words of a venue's name that belong to one language (the demo once had "Palais des Sports
# Chicago" and "Hallenstadion New York").
FOREIGN_TO_ENGLISH = (
    "Palais", "Théâtre", "Stade", "Opéra", "Salle", "Hallenstadion", "Konzerthaus", "Estadio",
    "Teatro", "Palacio", "Stadio", "Concertgebouw",
)  # fmt: skip
FOREIGN_TO_FRENCH = ("Hallenstadion", "Konzerthaus", "Estadio", "Teatro", "Music Hall", "Stadium")


def test_a_venue_is_named_in_the_language_of_its_city() -> None:
    rows = make_plan(3000, 1, MONDAY).rows
    english = {r["venue_name"] for r in rows if r["country"] in ("US", "GB", "IE")}
    french = {r["venue_name"] for r in rows if r["country"] == "FR"}
    assert len(english) >= 10 and len(french) >= 10
    assert not [v for v in english if any(word in v for word in FOREIGN_TO_ENGLISH)]
    assert not [v for v in french if any(word in v for word in FOREIGN_TO_FRENCH)]
