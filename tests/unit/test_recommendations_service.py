"""The recommender as the insights service runs it: trained from the DuckDB store, asked with what
the caller did since (no retraining needed for that), retrained when events arrived."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.recs.generator import Generated, generate
from bench.recs.world import WorldSpec
from common.clock import FrozenClock
from common.errors import InvalidInput
from svc_insights.adapters.duckdb_store import DuckDBEventStore
from svc_insights.adapters.interactions import DuckDBInteractions
from svc_insights.domain.model import EventRow
from svc_insights.domain.recommender.marketplace import Marketplace
from svc_insights.service_layer.recommendations import Recommendations

LATER = datetime(2026, 3, 10, tzinfo=UTC)  # after the generated log
_ids = itertools.count()


@pytest.fixture(scope="module")
def generated() -> Generated:
    return generate(WorldSpec(users=400, anonymous_visitors=100, seed=9))


class Service:
    def __init__(self, generated: Generated, store: DuckDBEventStore) -> None:
        self.generated = generated
        self.store = store
        self.source = DuckDBInteractions(store)
        self.clock = FrozenClock(LATER)
        self.recommendations = Recommendations(self.source, self.clock)
        world = generated.world
        self.group_of = {
            t.id: world.artists[world.concerts[t.concert].artist].group for t in world.tickets
        }

    async def record(
        self, type_: str, minutes: float, since: datetime | None = None, **columns
    ) -> None:
        """An event stored now, that happened `minutes` after `since` (naive UTC; LATER)."""
        at = (since or LATER.replace(tzinfo=None)) + timedelta(minutes=minutes)
        await self.store.add_many([EventRow(f"x{next(_ids)}", type_, at, **columns)])

    def open_tickets_of_group(self, group: int, market: Marketplace) -> list[str]:
        return sorted(
            t
            for t, listing in market.listings.items()
            if listing.for_sale and self.group_of[t] == group
        )


@pytest.fixture(scope="module")
async def stored_log(generated: Generated, tmp_path_factory) -> Path:
    """The generated log in a DuckDB file, made once; each test opens a copy of its own."""
    path = tmp_path_factory.mktemp("recommendations") / "events.duckdb"
    store = DuckDBEventStore(str(path))
    store.open()
    await store.add_many(generated.rows)
    store._close_connection()
    return path


@pytest.fixture
async def service(generated: Generated, stored_log: Path, tmp_path) -> AsyncIterator[Service]:
    path = tmp_path / "events.duckdb"
    shutil.copy(stored_log, path)
    store = DuckDBEventStore(str(path))
    store.open()
    yield Service(generated, store)
    store._close_connection()


async def test_the_store_folds_to_the_same_marketplace_as_the_log(service: Service):
    from_store = await service.source.marketplace()
    from_log = Marketplace.of(service.generated.rows)

    assert from_store.listings == from_log.listings
    assert sorted(from_store.interactions(), key=repr) == sorted(from_log.interactions(), key=repr)


async def test_a_visitors_views_since_the_training_count_at_once(service: Service):
    version = await service.recommendations.retrain()
    market = Marketplace.of(service.generated.rows)
    before = await service.recommendations.recommend(None, "newcomer", 10)
    group = next(g for g in range(8) if service.group_of[before.ticket_ids[0]] != g)
    viewed = service.open_tickets_of_group(group, market)[:3]

    for minute, ticket_id in enumerate(viewed):
        await service.record("ticket.viewed", minute, anonymous_id="newcomer", ticket_id=ticket_id)
    after = await service.recommendations.recommend(None, "newcomer", 10)

    assert after.model_version == before.model_version == version.id  # no retraining
    in_group = [t for t in after.ticket_ids if service.group_of[t] == group]
    assert len(in_group) >= 7, after
    assert sum(service.group_of[t] == group for t in before.ticket_ids) < 5
    assert not set(viewed) & set(after.ticket_ids)


async def test_views_stored_late_count_too(service: Service):
    """A view that happened just before the model's last event but was stored after the model
    was trained (it came the long way, through the gateway's stream)."""
    version = await service.recommendations.retrain()
    market = Marketplace.of(service.generated.rows)
    viewed = service.open_tickets_of_group(5, market)[:3]

    for minute, ticket_id in enumerate(viewed):
        await service.record(
            "ticket.viewed",
            -5 + minute,
            since=version.data_until,
            anonymous_id="late",
            ticket_id=ticket_id,
        )
    after = await service.recommendations.recommend(None, "late", 10)

    assert after.model_version == version.id
    assert sum(service.group_of[t] == 5 for t in after.ticket_ids) >= 7, after


async def test_tickets_an_order_took_since_the_training_are_left_out(service: Service):
    await service.recommendations.retrain()
    shown = await service.recommendations.recommend("u00001", None, 10)
    similar = await service.recommendations.similar(shown.ticket_ids[1], None, 10)
    taken = {shown.ticket_ids[0], similar.ticket_ids[0]}

    # Held and released again since: for sale.
    released = next(t for t in shown.ticket_ids if t not in taken)

    for minute, ticket_id in enumerate(sorted(taken)):
        await service.record(
            "ticket.updated", minute, ticket_id=ticket_id, order_id="o-new", version=90
        )
    await service.record("ticket.updated", 3, ticket_id=released, order_id="o-2", version=90)
    await service.record("ticket.updated", 4, ticket_id=released, order_id="", version=91)

    again = await service.recommendations.recommend("u00001", None, 10)
    similar_again = await service.recommendations.similar(shown.ticket_ids[1], None, 10)
    assert not taken & set(again.ticket_ids)
    assert not taken & set(similar_again.ticket_ids)
    assert released in again.ticket_ids


async def test_a_new_model_is_trained_only_when_events_arrived_and_then_served(service: Service):
    first = await service.recommendations.retrain()
    service.clock.advance(60)
    assert (await service.recommendations.retrain()) == first  # nothing new: same model

    market = Marketplace.of(service.generated.rows)
    like = market.listings[service.open_tickets_of_group(2, market)[0]]
    await service.record(
        "ticket.created",
        1,
        user_id="new-seller",
        seller_id="new-seller",
        ticket_id="brand-new",
        title=like.title,
        price=like.price,
        order_id="",
        version=0,
    )
    before = await service.recommendations.similar(like.ticket_id, None, 20)
    assert "brand-new" not in before.ticket_ids  # listed after the model was trained
    second = await service.recommendations.retrain()

    assert second.id != first.id and second.items == first.items + 1
    similar = await service.recommendations.similar(like.ticket_id, None, 20)
    assert similar.model_version == second.id
    assert "brand-new" in similar.ticket_ids
    assert (
        "brand-new"
        not in (await service.recommendations.similar(like.ticket_id, "new-seller", 20)).ticket_ids
    )


@pytest.fixture
async def empty() -> AsyncIterator[Recommendations]:
    store = DuckDBEventStore(":memory:")
    store.open()
    recommendations = Recommendations(DuckDBInteractions(store), FrozenClock(LATER))
    await recommendations.retrain()
    yield recommendations
    store._close_connection()


async def test_an_empty_store_recommends_nothing_yet(empty: Recommendations):
    assert (await empty.recommend(None, "someone", 10)).ticket_ids == []
    assert (await empty.similar("t1", None, 10)).ticket_ids == []


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_must_be_between_1_and_100(empty: Recommendations, first: int):
    with pytest.raises(InvalidInput, match="first"):
        await empty.recommend(None, "someone", first)
    with pytest.raises(InvalidInput, match="first"):
        await empty.similar("t00001", None, first)


async def test_similar_needs_a_ticket_id(empty: Recommendations):
    with pytest.raises(InvalidInput, match="ticket id"):
        await empty.similar("", None, 10)
