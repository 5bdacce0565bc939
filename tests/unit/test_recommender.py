"""The recommender on the synthetic marketplace (bench/recs): what a visitor is shown after a few
views, and what is never shown (their own tickets, sold or held ones)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from bench.recs.generator import Generated, generate
from bench.recs.world import WorldSpec
from svc_insights.domain.recommender.marketplace import Interaction, Kind, Marketplace
from svc_insights.domain.recommender.model import POPULARITY_ONLY, Model, Params, Query, train

TOP = 10


class Trained:
    def __init__(
        self, generated: Generated, params: Params | None = None, until: datetime | None = None
    ) -> None:
        self.generated = generated
        self.world = generated.world
        rows = [r for r in generated.rows if until is None or r.occurred_at <= until]
        self.market = Marketplace.of(rows)
        self.end = rows[-1].occurred_at
        self.model: Model = train(self.market, self.end, params)
        self.tickets = {t.id: t for t in self.world.tickets}
        self.group_of = {
            t.id: self.world.artists[self.world.concerts[t.concert].artist].group
            for t in self.world.tickets
        }

    def for_sale(self, ticket_id: str) -> bool:
        listing = self.market.listings.get(ticket_id)
        return listing is not None and listing.for_sale

    def open_tickets_of_group(self, group: int, count: int) -> list[str]:
        """`count` tickets for sale, each of a different artist of the group."""
        picked = []
        for artist in self.world.groups[group].artists:
            for ticket in self.world.tickets:
                concert = self.world.concerts[ticket.concert]
                if concert.artist == artist and self.for_sale(ticket.id):
                    picked.append(ticket.id)
                    break
            if len(picked) == count:
                return picked
        raise AssertionError(f"group {group} has fewer than {count} artists with tickets")

    def viewed(self, actor: str, ticket_ids: list[str]) -> tuple[Interaction, ...]:
        return tuple(Interaction(actor, t, Kind.VIEWED, self.end) for t in ticket_ids)

    def share_of_group(self, ranked: list[str], group: int) -> float:
        return sum(self.group_of[t] == group for t in ranked) / TOP


@pytest.fixture(scope="module")
def trained() -> Trained:
    return Trained(generate(WorldSpec(users=800, anonymous_visitors=200, seed=3)))


def test_a_new_visitor_who_viewed_three_tickets_of_a_taste_group_is_shown_that_group(trained):
    popularity = replace(trained.model, params=POPULARITY_ONLY)
    for group in range(trained.world.spec.groups):
        views = trained.viewed("a:newcomer", trained.open_tickets_of_group(group, 3))
        query = Query(actors=("a:newcomer",), fresh=views, first=TOP)

        shown = trained.model.recommend(query)
        by_popularity = popularity.recommend(query)

        assert len(shown) == TOP
        assert trained.share_of_group(shown, group) >= 0.7, (group, shown)
        # Popularity alone, asked the same, does not show the group.
        assert trained.share_of_group(by_popularity, group) < 0.5, (group, by_popularity)
        assert not {v.ticket_id for v in views} & set(shown)  # already seen


def test_similar_tickets_are_of_the_same_taste_group_and_never_the_ticket_itself(trained):
    for group in range(trained.world.spec.groups):
        (ticket_id,) = trained.open_tickets_of_group(group, 1)

        similar = trained.model.similar(ticket_id, first=TOP)

        assert ticket_id not in similar
        assert trained.share_of_group(similar, group) > 0.5, (group, similar)


def test_a_sellers_own_tickets_are_never_recommended_to_them(trained):
    market = trained.market
    listed: dict[str, list[str]] = {}
    for listing in market.listings.values():
        if listing.for_sale:
            listed.setdefault(listing.seller_id, []).append(listing.ticket_id)
    seller, own = max(listed.items(), key=lambda item: len(item[1]))
    # They view tickets of the concerts they sell for: their own are the nearest of all.
    concerts = {trained.tickets[t].concert for t in own}
    neighbours = [
        t.id
        for t in trained.world.tickets
        if t.concert in concerts and t.seller != seller and trained.for_sale(t.id)
    ][:3]
    views = trained.viewed(f"u:{seller}", neighbours)

    as_anyone = trained.model.recommend(Query(fresh=views, first=TOP))
    as_seller = trained.model.recommend(
        Query(actors=(f"u:{seller}",), fresh=views, viewer=seller, first=TOP)
    )
    similar = trained.model.similar(neighbours[0], viewer=seller, first=TOP)

    assert set(own) & set(as_anyone), "the same views without the viewer show their tickets"
    assert not set(own) & set(as_seller)
    assert not set(own) & set(similar)
    assert len(as_seller) == TOP


def test_sold_and_held_tickets_are_never_recommended():
    generated = generate(WorldSpec(users=800, anonymous_visitors=200, seed=3))
    # Just after the last order: its ticket is held, not yet paid.
    last_order = max(r.occurred_at for r in generated.rows if r.type == "order.created")
    trained = Trained(generated, until=last_order + timedelta(seconds=1))
    market = trained.market
    sold = market.sold()
    held = {t for t, listing in market.listings.items() if listing.order_id and not listing.sold}
    assert sold and held
    # Views of the concerts whose tickets sold: the sold ones would be nearest.
    concerts = {trained.tickets[t].concert for t in sorted(sold)[:20]}
    views = trained.viewed(
        "a:shopper",
        [t.id for t in trained.world.tickets if t.concert in concerts and trained.for_sale(t.id)][
            :3
        ],
    )

    shown = trained.model.recommend(Query(actors=("a:shopper",), fresh=views, first=50))

    assert shown
    assert not (sold | held) & set(shown)
    assert all(trained.for_sale(t) for t in shown)
    # Sold after the model was trained: left out as soon as the caller says so.
    sold_since = {shown[0]}
    again = trained.model.recommend(
        Query(actors=("a:shopper",), fresh=views, sold=sold_since, first=50)
    )
    assert shown[0] not in again
    assert set(shown[1:10]) & set(again)


def test_cold_start_shows_the_most_popular_tickets_for_sale():
    # Every interaction weighs the same and nothing fades: popularity is the count.
    flat = Params(weights=dict.fromkeys(Kind, 1.0), half_life_days=1e9)
    trained = Trained(generate(WorldSpec(users=500, anonymous_visitors=100, seed=5)), flat)
    counts: dict[str, int] = {}
    for item in trained.market.interactions():
        counts[item.ticket_id] = counts.get(item.ticket_id, 0) + 1
    open_counts = sorted(
        (counts.get(t, 0) for t, listing in trained.market.listings.items() if listing.for_sale),
        reverse=True,
    )

    shown = trained.model.recommend(Query(actors=("a:first-visit",), first=TOP))
    for_a_new_user = trained.model.recommend(Query(actors=("u:just-signed-up",), first=TOP))

    assert all(trained.for_sale(t) for t in shown)
    assert sorted((counts.get(t, 0) for t in shown), reverse=True) == open_counts[:TOP]
    assert for_a_new_user == shown
    # An unknown ticket has no neighbours: its similar tickets are the popular ones too.
    assert trained.model.similar("never-listed", first=TOP) == shown


def test_a_model_says_what_it_was_trained_on(trained):
    version = trained.model.version
    assert version.trained_at == trained.end
    assert version.items == len(trained.market.listings)
    assert version.open_items == sum(x.for_sale for x in trained.market.listings.values())
    assert version.interactions == len(trained.market.interactions())
    assert version.id == train(trained.market, trained.end).version.id  # same data, same id
