"""The event recommender ("for you" and "similar events") on the synthetic marketplace with events
(bench/recs): its offline evaluation meets the bar against popularity; an event nobody looked at
yet still has similar events (the catalogue's performers, city and category); a cancelled event is
never shown; and the service answers from the DuckDB store, a visitor's views since the training
included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bench.recs import evaluate_events
from bench.recs.generator import Generated, generate
from bench.recs.measure import TARGET_LIFT
from bench.recs.world import WorldSpec
from common.clock import FrozenClock
from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.adapters.event_interactions import DuckDBEventInteractions
from svc_insights.domain.model import EventRow
from svc_insights.domain.recommender.catalogue_events import EventMarketplace
from svc_insights.domain.recommender.event_model import EventQuery, train_events
from svc_insights.service_layer.event_recommendations import EventRecommendations

TOP = 10


@pytest.fixture(scope="module")
def generated() -> Generated:
    return generate(WorldSpec(users=1200, anonymous_visitors=400))


@pytest.fixture(scope="module")
def scores(generated: Generated) -> dict:
    return evaluate_events.score(evaluate_events.prepare(generated), seed=7)


def hit_rate(scores: dict, question: str, method: str) -> float:
    return scores[question][method]["returning"]["hit_rate"]


def test_events_for_you_meet_the_bar_against_popularity(scores):
    blend = hit_rate(scores, "for you", "recommender (blend)")
    popularity = hit_rate(scores, "for you", "popularity")
    assert blend >= TARGET_LIFT * popularity, (blend, popularity)
    # New visitors, from two events viewed: better than popularity too.
    new = scores["for you"]
    assert new["recommender (blend)"]["new"]["hit_rate"] > new["popularity"]["new"]["hit_rate"]


def test_similar_events_beat_popularity_and_share_the_events_taste(scores):
    similar = scores["similar events"]
    assert hit_rate(scores, "similar events", "recommender (blend)") > hit_rate(
        scores, "similar events", "popularity"
    )
    blend_taste = similar["recommender (blend)"]["returning"]["taste_precision"]
    assert blend_taste >= 0.6 > 0.3 >= similar["popularity"]["returning"]["taste_precision"]


def catalogued(event_id: str, performers: list[str], city: str, status: str = "SCHEDULED"):
    detail = {
        "eventId": event_id,
        "version": 0 if status == "SCHEDULED" else 1,
        "status": status,
        "performers": performers,
        "category": "CONCERT",
        "city": city,
        "startsAt": "2027-01-01T20:00:00+00:00",
    }
    return EventRow(f"c-{event_id}-{status}", "event.changed", START, detail=json.dumps(detail))


def listed(ticket_id: str, event_id: str, seller: str = "s1") -> EventRow:
    return EventRow(
        f"l-{ticket_id}",
        "ticket.created",
        START,
        user_id=seller,
        ticket_id=ticket_id,
        order_id="",
        seller_id=seller,
        title=f"seats for {event_id}",
        version=0,
        catalogue_event_id=event_id,
    )


def viewed(n: int, anonymous_id: str, event_id: str, at: datetime) -> EventRow:
    return EventRow(
        f"v-{n}", "event.viewed", at, anonymous_id=anonymous_id, catalogue_event_id=event_id
    )


START = datetime(2026, 1, 1)


def small_market() -> list[EventRow]:
    rows = [
        catalogued("ev-a1", ["performer:a"], "London"),
        catalogued("ev-a2", ["performer:a"], "Paris"),
        catalogued("ev-b1", ["performer:b"], "London"),
        catalogued("ev-c1", ["performer:c"], "Berlin"),
        catalogued("ev-new", ["performer:a", "performer:d"], "Berlin"),
        catalogued("ev-gone", ["performer:a"], "London"),
        catalogued("ev-gone", ["performer:a"], "London", status="CANCELLED"),
    ]
    rows += [listed(f"t-{e}", e) for e in ("ev-a1", "ev-a2", "ev-b1", "ev-c1", "ev-new", "ev-gone")]
    at = START + timedelta(hours=1)
    n = 0
    # Many visitors look at the C and B events (the popular ones); a few at A's.
    for visitor in range(20):
        for event_id in ("ev-c1", "ev-b1"):
            n += 1
            rows.append(viewed(n, f"pop-{visitor}", event_id, at))
    for visitor in range(3):
        for event_id in ("ev-a1", "ev-a2", "ev-gone"):
            n += 1
            rows.append(viewed(n, f"fan-{visitor}", event_id, at))
    return rows


def test_an_event_nobody_viewed_has_similar_events_of_its_performers_and_cancelled_never_shows():
    market = EventMarketplace.of(small_market())
    model = train_events(market, START + timedelta(days=1))

    similar_to_new = model.similar("ev-new", first=3)
    similar_to_a1 = model.similar("ev-a1", first=TOP)
    popular = model.recommend(EventQuery(actors=("a:first-visit",), first=2))

    assert market.events["ev-new"].performers == ("performer:a", "performer:d")
    assert set(similar_to_new[:2]) == {"ev-a1", "ev-a2"}  # performer A, though less popular
    assert similar_to_a1[0] == "ev-a2"
    assert "ev-a1" not in similar_to_a1
    assert set(popular) == {"ev-c1", "ev-b1"}
    assert all("ev-gone" not in ranked for ranked in (similar_to_new, similar_to_a1, popular))


def test_similar_events_put_the_seeds_headliner_and_the_more_wanted_of_two_like_events_first():
    rows = [
        catalogued("ev-a1", ["performer:a"], "London"),
        catalogued("ev-a2", ["performer:a", "performer:x"], "Paris"),
        catalogued("ev-x1", ["performer:x", "performer:a"], "London"),  # A only supports here
        catalogued("ev-b1", ["performer:b"], "London"),
        catalogued("ev-d1", ["performer:d"], "London"),
    ]
    rows += [listed(f"t-{e}", e) for e in ("ev-a1", "ev-a2", "ev-x1", "ev-b1", "ev-d1")]
    at = START + timedelta(hours=1)
    n = 0
    # A's fans look at A's events and at B's and D's alike; ten more visitors want B's.
    for visitor in range(3):
        for event_id in ("ev-a1", "ev-a2", "ev-x1", "ev-b1", "ev-d1"):
            n += 1
            rows.append(viewed(n, f"fan-{visitor}", event_id, at))
    for visitor in range(10):
        n += 1
        rows.append(viewed(n, f"b-fan-{visitor}", "ev-b1", at))
    model = train_events(EventMarketplace.of(rows), START + timedelta(days=1))

    similar = model.similar("ev-a1", first=TOP)

    # A headlines ev-a2 (in another city) and only supports at ev-x1 (in the seed's city).
    assert similar.index("ev-a2") < similar.index("ev-x1")
    assert similar.index("ev-b1") < similar.index("ev-d1")  # as like, and more wanted


def test_similar_events_rank_events_nobody_looked_at_yet_by_their_likeness():
    rows = [
        catalogued("ev-a1", ["performer:a"], "London"),
        catalogued("ev-b1", ["performer:b"], "London"),
        catalogued("ev-new-berlin", ["performer:n"], "Berlin"),
        catalogued("ev-new-london", ["performer:m"], "London"),
    ]
    rows += [listed(f"t-{e}", e) for e in ("ev-a1", "ev-b1", "ev-new-berlin", "ev-new-london")]
    at = START + timedelta(hours=1)
    rows += [viewed(n, f"fan-{n}", e, at) for n, e in enumerate(["ev-a1", "ev-b1"] * 3)]
    model = train_events(EventMarketplace.of(rows), START + timedelta(days=1))

    similar = model.similar("ev-a1", first=TOP)

    # Neither new event has a viewer, nor a performer anyone knows: the one in the seed's city
    # is the more like.
    assert similar.index("ev-new-london") < similar.index("ev-new-berlin")


async def test_the_service_ranks_events_from_the_store_with_a_visitors_views_since_training():
    rows = small_market()
    store = DuckDBEventStore(":memory:")
    store.open()
    try:
        await store.add_many(rows)
        trained_at = START + timedelta(days=1)
        recommendations = EventRecommendations(
            DuckDBEventInteractions(store), FrozenClock(trained_at.replace(tzinfo=UTC))
        )
        version = await recommendations.retrain()
        assert version is not None and version.items == 6  # events known
        before = await recommendations.recommend(None, "newcomer", TOP)
        # After the training: the newcomer views A's London event, then a listing of A's
        # Paris event (a ticket.viewed, counted for its event).
        later = trained_at + timedelta(minutes=5)
        await store.add_many(
            [
                viewed(999, "newcomer", "ev-a1", later),
                EventRow(
                    "tv-1", "ticket.viewed", later, anonymous_id="newcomer", ticket_id="t-ev-a2"
                ),
            ]
        )
        after = await recommendations.recommend(None, "newcomer", TOP)
        similar = await recommendations.similar("ev-new", 2)
    finally:
        await store.close()

    assert before.event_ids[:2] in (["ev-c1", "ev-b1"], ["ev-b1", "ev-c1"])
    assert "ev-a1" in before.event_ids
    assert "ev-a1" not in after.event_ids and "ev-a2" not in after.event_ids  # seen
    assert after.event_ids[0] == "ev-new"  # performer A's other event
    assert set(similar.event_ids) == {"ev-a1", "ev-a2"}
    assert after.model_version == version.id
