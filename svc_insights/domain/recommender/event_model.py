"""The event recommender: "similar events" for an event and "for you" for a caller, trained from
an `EventMarketplace`, immutable once made, queried in memory. It follows the tickets' model
(model.py) one level up, where a visitor's taste shows better: an event gathers the interest of
all its listings.

An event's score blends the same three signals, each in [0, 1]:
- collaborative filtering: item-item cosine over the actors x events matrix of implicit feedback
  (the tickets' weights and half-life), the `neighbours` nearest kept per event;
- content: what the catalogue says of the event (its performers, category and city), cosine of
  those features, which is what knows an event nobody has looked at yet;
- popularity, all a caller with no history gets.
"Similar events" ranks by a mixture of the like events and the popular ones (similar_events.py).
Only events open at training are returned (not cancelled, not started, a listing for sale),
never the event asked about, and (for you) none the caller already interacted with.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from scipy import sparse

from svc_insights.domain.recommender.catalogue_events import (
    CatalogueEvent,
    EventInteraction,
    EventMarketplace,
)
from svc_insights.domain.recommender.content import normalised_rows
from svc_insights.domain.recommender.model import ModelVersion, Params, item_neighbours
from svc_insights.domain.recommender.ranking import best, rank
from svc_insights.domain.recommender.similar_events import (
    SIMILAR_PARAMS,
    SimilarParams,
    expected_interest,
    performer_matrix,
    similar_scores,
)

# A feature's share of an event's description: the performers say the most.
PERFORMER_WEIGHT, CITY_WEIGHT, CATEGORY_WEIGHT = 1.0, 0.5, 0.3

# Tuned on the bench's generator (bench/recs/evaluate_events.py): the catalogue says more of an
# event than its co-viewers do, so content weighs more here than in the tickets' model.
EVENT_PARAMS = Params(collaborative=0.5, content=1.0, popularity=0.05)
EVENT_POPULARITY_ONLY = Params(collaborative=0.0, content=0.0, popularity=1.0)


def event_features(event: CatalogueEvent) -> Counter[str]:
    weights: Counter[str] = Counter()
    for performer in event.performers:
        weights["p:" + performer] += PERFORMER_WEIGHT
    if event.city:
        weights["city:" + event.city.lower()] += CITY_WEIGHT
    if event.category:
        weights["cat:" + event.category] += CATEGORY_WEIGHT
    return weights


def content_matrix(events: Sequence[CatalogueEvent]) -> sparse.csr_matrix:
    """One L2-normalised row of catalogue features per event, in the order given."""
    vocabulary: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for row, event in enumerate(events):
        for term, weight in event_features(event).items():
            rows.append(row)
            cols.append(vocabulary.setdefault(term, len(vocabulary)))
            vals.append(weight)
    matrix = sparse.csr_matrix(
        (vals, (rows, cols)), shape=(len(events), max(len(vocabulary), 1)), dtype=np.float32
    )
    return normalised_rows(matrix)


@dataclass(frozen=True)
class EventQuery:
    actors: Sequence[str] = ()  # whose history: marketplace.actors_of(user_id, anonymous_id)
    fresh: Sequence[EventInteraction] = ()  # what they did after the model's data_until
    first: int = 10


@dataclass(frozen=True)
class EventModel:
    version: ModelVersion
    params: Params
    event_ids: list[str]
    index: dict[str, int]
    open: np.ndarray  # bool per event, at training
    actor_rows: dict[str, int]
    feedback: sparse.csr_matrix  # actors x events, faded weights
    neighbours: sparse.csr_matrix  # events x events, cosine, top `neighbours` per row
    content: sparse.csr_matrix  # events x features, L2-normalised
    popularity: np.ndarray  # [0, 1] per event
    headliners: sparse.csr_matrix  # events x performers, 1 for the event's first-billed one
    expected: np.ndarray  # per event, what its headliner's open events each can expect
    similar_params: SimilarParams | None  # None: similar events rank by `params`' blend

    def recommend(self, query: EventQuery) -> list[str]:
        """For you: the open events nearest to what the caller did, none they already saw."""
        profile = self._profile(query)
        excluded = ~self.open
        if profile:
            excluded = excluded.copy()
            excluded[np.fromiter(profile, dtype=np.int64)] = True
        return self._rank(profile, excluded, query.first)

    def similar(self, event_id: str, first: int = 10) -> list[str]:
        """The open events likeliest to interest whoever looked at `event_id`: like it (seen by
        the same people, of the same performers, city and category), weighed by how much their
        headliners draw, and the most wanted ones (similar_events.py); the popular ones for an
        event the model does not know."""
        at = self.index.get(event_id)
        excluded = ~self.open
        if at is None:
            return self._rank({}, excluded, first)
        excluded = excluded.copy()
        excluded[at] = True
        mix = self.similar_params
        if mix is None:
            return self._rank({at: 1.0}, excluded, first)
        like = mix.collaborative * self.neighbours[at].toarray().ravel()
        like = like + mix.content * (self.content @ self.content[at].T).toarray().ravel()
        score = similar_scores(
            seed=at,
            like=like,
            headliners=self.headliners,
            expected=self.expected,
            excluded=excluded,
            params=mix,
        )
        return [self.event_ids[i] for i in best(score, excluded, first)]

    def with_params(self, params: Params) -> EventModel:
        """The same trained model, ranking with other weights (the evaluation's ablations):
        similar events by those weights' blend alone."""
        return replace(self, params=params, similar_params=None)

    def _profile(self, query: EventQuery) -> dict[int, float]:
        profile: dict[int, float] = {}
        for actor in query.actors:
            row = self.actor_rows.get(actor)
            if row is None:
                continue
            start, end = self.feedback.indptr[row], self.feedback.indptr[row + 1]
            for col, value in zip(
                self.feedback.indices[start:end], self.feedback.data[start:end], strict=True
            ):
                profile[int(col)] = profile.get(int(col), 0.0) + float(value)
        for item in query.fresh:
            col = self.index.get(item.event_id)
            if col is not None:
                profile[col] = profile.get(col, 0.0) + self.params.weights[item.kind]
        return profile

    def _rank(self, profile: dict[int, float], excluded: np.ndarray, first: int) -> list[str]:
        top = rank(
            popularity=self.popularity,
            neighbours=self.neighbours,
            content=self.content,
            params=self.params,
            profile=profile,
            excluded=excluded,
            first=first,
        )
        return [self.event_ids[i] for i in top]


def train_events(
    market: EventMarketplace,
    now: datetime,
    params: Params | None = None,
    version_id: str | None = None,
    similar: SimilarParams | None = SIMILAR_PARAMS,
) -> EventModel:
    """A model of every event in `market` as of `now` (interactions after it are left out)."""
    params = params or EVENT_PARAMS
    known = set(market.events) | set(market.listing_events.values())
    event_ids = sorted(known)
    index = {event_id: i for i, event_id in enumerate(event_ids)}
    events = [market.events.get(e) or CatalogueEvent(e) for e in event_ids]
    interactions = [i for i in market.interactions() if i.at <= now and i.event_id in index]

    actor_rows: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for item in interactions:
        rows.append(actor_rows.setdefault(item.actor, len(actor_rows)))
        cols.append(index[item.event_id])
        vals.append(params.weight(item.kind, (now - item.at).total_seconds()))
    shape = (len(actor_rows), len(event_ids))
    feedback = sparse.csr_matrix((vals, (rows, cols)), shape=shape, dtype=np.float32)
    feedback.sum_duplicates()

    interest = np.asarray(feedback.sum(axis=0)).ravel()
    popularity = np.log1p(interest)
    if popularity.size and popularity.max() > 0:
        popularity = popularity / popularity.max()
    for_sale = market.events_for_sale(now)
    open_ = np.fromiter((e in for_sale for e in event_ids), dtype=bool, count=len(event_ids))
    headliners = performer_matrix([event.performers[:1] for event in events])
    data_until = min(market.latest, now) if market.latest is not None else None
    counts = (len(actor_rows), len(event_ids), int(open_.sum()), len(interactions))
    if version_id is None:
        digest = hashlib.sha1(f"events|{now.isoformat()}|{counts}".encode()).hexdigest()[:8]
        version_id = f"{now:%Y%m%dT%H%M%S}-{digest}"
    return EventModel(
        version=ModelVersion(version_id, now, data_until, *counts),
        params=params,
        event_ids=event_ids,
        index=index,
        open=open_,
        actor_rows=actor_rows,
        feedback=feedback,
        neighbours=item_neighbours(feedback, params.neighbours, params.shrink),
        content=content_matrix(events),
        popularity=popularity.astype(np.float32),
        headliners=headliners,
        expected=expected_interest(headliners, interest, open_),
        similar_params=similar,
    )
