"""The recommender: trained from a `Marketplace`, immutable once made, queried in memory.

A ticket's score for a caller blends three signals, each in [0, 1]:
- collaborative filtering: item-item cosine over the actors x tickets matrix of implicit feedback
  (a purchase weighs more than an order, an order more than a view; every interaction fades
  with a half-life), the `neighbours` nearest kept per ticket;
- content: TF-IDF similarity of titles and price bands (content.py), which is what knows a
  ticket nobody has looked at yet;
- popularity (the same faded feedback summed per ticket), all a caller with no history gets.
The two similarities are averaged over the caller's tickets, weighted by how much each counts, so
a weak likeness stays weak (cosines between tickets are small: few people share any two).
The caller's history is the query: what the model saw of them at training plus whatever they did
since (`Query.fresh`), so a visitor who just viewed three tickets is answered without a retrain.
Only tickets for sale at training and not sold since are returned, never the caller's own, and
(for recommendations) none the caller already interacted with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from scipy import sparse

from svc_insights.domain.recommender.content import TitleVectors
from svc_insights.domain.recommender.marketplace import Interaction, Kind, Marketplace
from svc_insights.domain.recommender.ranking import rank

DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class Params:
    weights: Mapping[Kind, float] = field(
        default_factory=lambda: {
            Kind.VIEWED: 1.0,
            Kind.ORDER_STARTED: 2.0,
            Kind.ORDERED: 3.0,
            Kind.PURCHASED: 5.0,
        }
    )
    half_life_days: float = 30.0
    neighbours: int = 100
    shrink: float = 5.0  # cosine's denominator + this: fewer shared viewers, less similar
    collaborative: float = 4.0
    content: float = 0.5
    popularity: float = 0.05

    def weight(self, kind: Kind, age_seconds: float) -> float:
        fade = 0.5 ** (max(age_seconds, 0.0) / (self.half_life_days * DAY_SECONDS))
        return self.weights[kind] * fade


POPULARITY_ONLY = Params(collaborative=0.0, content=0.0, popularity=1.0)


@dataclass(frozen=True)
class ModelVersion:
    id: str
    trained_at: datetime
    data_until: datetime | None  # the latest event the model saw: fresh events are after it
    actors: int
    items: int  # what the model ranks: tickets, or events for the event model
    open_items: int  # of those, the ones it may recommend now
    interactions: int


@dataclass(frozen=True)
class Query:
    actors: Sequence[str] = ()  # whose history: marketplace.actors_of(user_id, anonymous_id)
    fresh: Sequence[Interaction] = ()  # what they did after the model's data_until
    viewer: str | None = None  # the caller's user id: their own tickets are never returned
    sold: Collection[str] = ()  # tickets sold or held since the model was trained
    first: int = 10


@dataclass(frozen=True)
class Model:
    version: ModelVersion
    params: Params
    ticket_ids: list[str]
    index: dict[str, int]
    for_sale: np.ndarray  # bool per ticket, at training
    seller_tickets: dict[str, np.ndarray]
    actor_rows: dict[str, int]
    feedback: sparse.csr_matrix  # actors x tickets, faded weights
    neighbours: sparse.csr_matrix  # tickets x tickets, cosine, top `neighbours` per row
    titles: sparse.csr_matrix  # tickets x terms, L2-normalised TF-IDF
    popularity: np.ndarray  # [0, 1] per ticket

    def recommend(self, query: Query) -> list[str]:
        profile = self._profile(query)
        excluded = self._excluded(query, np.fromiter(profile, dtype=np.int64))
        return self._rank(profile, excluded, query.first)

    def similar(
        self, ticket_id: str, viewer: str | None = None, sold: Collection[str] = (), first: int = 10
    ) -> list[str]:
        at = self.index.get(ticket_id)
        profile = {at: 1.0} if at is not None else {}
        query = Query(viewer=viewer, sold=sold, first=first)
        excluded = self._excluded(query, np.asarray([] if at is None else [at], dtype=np.int64))
        return self._rank(profile, excluded, first)

    def _profile(self, query: Query) -> dict[int, float]:
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
            col = self.index.get(item.ticket_id)
            if col is not None:
                profile[col] = profile.get(col, 0.0) + self.params.weights[item.kind]
        return profile

    def _excluded(self, query: Query, seen: np.ndarray) -> np.ndarray:
        excluded = ~self.for_sale
        if seen.size or query.sold or query.viewer in self.seller_tickets:
            excluded = excluded.copy()
            excluded[seen] = True
            for ticket_id in query.sold:
                col = self.index.get(ticket_id)
                if col is not None:
                    excluded[col] = True
            if query.viewer is not None and query.viewer in self.seller_tickets:
                excluded[self.seller_tickets[query.viewer]] = True
        return excluded

    def _rank(self, profile: dict[int, float], excluded: np.ndarray, first: int) -> list[str]:
        top = rank(
            popularity=self.popularity,
            neighbours=self.neighbours,
            content=self.titles,
            params=self.params,
            profile=profile,
            excluded=excluded,
            first=first,
        )
        return [self.ticket_ids[i] for i in top]


def train(
    market: Marketplace, now: datetime, params: Params | None = None, version_id: str | None = None
) -> Model:
    """A model of everything in `market` as of `now` (interactions after it are left out)."""
    params = params or Params()
    listings = sorted(market.listings.values(), key=lambda listing: listing.ticket_id)
    ticket_ids = [listing.ticket_id for listing in listings]
    index = {ticket_id: i for i, ticket_id in enumerate(ticket_ids)}
    interactions = [i for i in market.interactions() if i.at <= now and i.ticket_id in index]

    actor_rows: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for item in interactions:
        rows.append(actor_rows.setdefault(item.actor, len(actor_rows)))
        cols.append(index[item.ticket_id])
        vals.append(params.weight(item.kind, (now - item.at).total_seconds()))
    shape = (len(actor_rows), len(ticket_ids))
    feedback = sparse.csr_matrix((vals, (rows, cols)), shape=shape, dtype=np.float32)
    feedback.sum_duplicates()

    popularity = np.log1p(np.asarray(feedback.sum(axis=0)).ravel())
    if popularity.size and popularity.max() > 0:
        popularity = popularity / popularity.max()

    sellers: dict[str, list[int]] = {}
    for i, listing in enumerate(listings):
        sellers.setdefault(listing.seller_id, []).append(i)
    for_sale = np.fromiter(
        (listing.for_sale for listing in listings), dtype=bool, count=len(ticket_ids)
    )
    titles = TitleVectors.fit(
        [listing.title for listing in listings], [listing.price for listing in listings]
    ).matrix
    data_until = min(market.latest, now) if market.latest is not None else None
    counts = (len(actor_rows), len(ticket_ids), int(for_sale.sum()), len(interactions))
    if version_id is None:
        digest = hashlib.sha1(f"{now.isoformat()}|{counts}".encode()).hexdigest()[:8]
        version_id = f"{now:%Y%m%dT%H%M%S}-{digest}"
    return Model(
        version=ModelVersion(version_id, now, data_until, *counts),
        params=params,
        ticket_ids=ticket_ids,
        index=index,
        for_sale=for_sale,
        seller_tickets={s: np.asarray(ix, dtype=np.int64) for s, ix in sellers.items()},
        actor_rows=actor_rows,
        feedback=feedback,
        neighbours=item_neighbours(feedback, params.neighbours, params.shrink),
        titles=titles,
        popularity=popularity.astype(np.float32),
    )


def item_neighbours(feedback: sparse.csr_matrix, keep: int, shrink: float) -> sparse.csr_matrix:
    """Cosine between tickets' columns of log-damped feedback, shrunk towards 0 for tickets few
    people share (one person who viewed both would otherwise make them identical), the `keep`
    largest per ticket."""
    damped = feedback.copy()
    damped.data = np.log1p(damped.data)
    columns = damped.tocsc()
    norms = np.sqrt(np.asarray(columns.multiply(columns).sum(axis=0)).ravel())
    shared = sparse.coo_matrix(damped.T @ damped, dtype=np.float32)
    off_diagonal = shared.row != shared.col
    rows, cols = shared.row[off_diagonal], shared.col[off_diagonal]
    values = shared.data[off_diagonal] / (norms[rows] * norms[cols] + shrink)
    similarity = sparse.csr_matrix((values, (rows, cols)), shape=shared.shape, dtype=np.float32)
    return _top_per_row(similarity, keep)


def _top_per_row(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    out_rows, out_cols, out_vals = [], [], []
    for row in range(matrix.shape[0]):
        start, end = indptr[row], indptr[row + 1]
        if end - start > keep:
            best = start + np.argpartition(-data[start:end], keep - 1)[:keep]
        else:
            best = np.arange(start, end)
        out_rows.append(np.full(best.size, row))
        out_cols.append(indices[best])
        out_vals.append(data[best])
    if not out_rows:
        return sparse.csr_matrix(matrix.shape, dtype=np.float32)
    return sparse.csr_matrix(
        (np.concatenate(out_vals), (np.concatenate(out_rows), np.concatenate(out_cols))),
        shape=matrix.shape,
        dtype=np.float32,
    )
