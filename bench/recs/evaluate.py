"""Offline evaluation of the recommender on the synthetic marketplace, split in time.

The model is trained on every event before the split (85 % of the span) and asked, at the
split, for each person's top 10; what the person went on to view, order or buy afterwards is the
truth. Only what could have been recommended counts as a target: tickets listed and for sale at
the split, not the person's own, and not already seen by them before it (recommendations leave
those out). Two sets of people:
- returning: seen before the split (history in the model), their next `TARGETS` new tickets;
- new: nothing before the split; their first `FRESH_VIEWS` views after it are the query (given
  as fresh interactions, as the service does for a caller the model has not seen yet), the next
  new tickets after those the targets.
Metrics: hit rate@10 (a target among the 10) and NDCG@10 (binary relevance, ideal DCG over
min(targets, 10)); and taste precision@10, the share of the 10 from one of the person's taste
groups (the generator's hidden truth).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np

from bench.recs.generator import Generated
from bench.recs.world import Person
from svc_insights.domain.recommender.marketplace import (
    Interaction,
    Kind,
    Marketplace,
    actors_of,
)
from svc_insights.domain.recommender.model import POPULARITY_ONLY, Model, Params, Query, train

TOP = 10
TARGETS = 10
FRESH_VIEWS = 3
SPLIT = 0.85
KINDS = {"ticket.viewed": Kind.VIEWED, "order.started": Kind.ORDER_STARTED}


@dataclass(frozen=True)
class Case:
    person: Person
    query: Query
    targets: frozenset[str]


@dataclass
class Scores:
    hits: list[float] = field(default_factory=list)
    ndcg: list[float] = field(default_factory=list)
    taste: list[float] = field(default_factory=list)

    def add(
        self,
        ranked: Sequence[str],
        targets: Collection[str],
        taste: Collection[int],
        groups_of: dict[str, int],
    ) -> None:
        """One person's ranking: their targets, their taste groups, each item's group."""
        gains = [1.0 if t in targets else 0.0 for t in ranked[:TOP]]
        self.hits.append(1.0 if any(gains) else 0.0)
        dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(targets), TOP)))
        self.ndcg.append(dcg / ideal)
        tasteful = [groups_of[t] in taste for t in ranked[:TOP]]
        self.taste.append(sum(tasteful) / len(tasteful) if tasteful else 0.0)

    def summary(self) -> dict[str, float]:
        return {
            "hit_rate": float(np.mean(self.hits)),
            "ndcg": float(np.mean(self.ndcg)),
            "taste_precision": float(np.mean(self.taste)),
            "users": len(self.hits),
        }


@dataclass
class Evaluation:
    generated: Generated
    split: datetime
    model: Model
    returning: list[Case]
    new: list[Case]
    train_seconds: float


def split_time(generated: Generated) -> datetime:
    return generated.at(generated.world.spec.days * SPLIT)


def prepare(generated: Generated, params: Params | None = None) -> Evaluation:
    split = split_time(generated)
    past = Marketplace.of(row for row in generated.rows if row.occurred_at < split)
    started = time.perf_counter()
    model = train(past, split, params)
    train_seconds = time.perf_counter() - started
    history: dict[str, set[str]] = {}
    for item in past.interactions():
        history.setdefault(item.actor, set()).add(item.ticket_id)

    future: dict[str, list[tuple[str, Kind, datetime]]] = {}
    person_of: dict[str, Person] = {}
    for person in generated.world.people:
        person_of[person.anonymous_id] = person
        if person.id:
            person_of[person.id] = person
    for row in generated.rows:
        if row.occurred_at < split or not row.ticket_id:
            continue
        kind = KINDS.get(row.type) or (Kind.ORDERED if row.type == "order.created" else None)
        if kind is None:
            continue
        person = person_of.get(row.user_id or "") or person_of.get(row.anonymous_id or "")
        if person is not None:
            step = (row.ticket_id, kind, row.occurred_at)
            future.setdefault(person.anonymous_id, []).append(step)

    open_tickets = {t for t, i in model.index.items() if model.for_sale[i]}
    owner = {t: listing.seller_id for t, listing in past.listings.items()}
    returning, new = [], []
    for person in generated.world.people:
        signed_up = person.id is not None and generated.at(person.signed_up_day) < split
        actors = actors_of(person.id if signed_up else None, person.anonymous_id)
        seen = set().union(*(history.get(a, set()) for a in actors))
        later = future.get(person.anonymous_id, [])
        viewer = person.id if signed_up else None
        if seen:
            targets = _targets(later, seen, open_tickets, owner, person.id)
            if targets:
                query = Query(actors=actors, viewer=viewer, first=TOP)
                returning.append(Case(person, query, targets))
            continue
        fresh: list[Interaction] = []
        for ticket_id, kind, at in later:
            if len(fresh) == FRESH_VIEWS:
                break
            if kind is Kind.VIEWED and ticket_id not in {f.ticket_id for f in fresh}:
                fresh.append(Interaction(actors[0], ticket_id, kind, at))
        rest = later[len(fresh) :] if len(fresh) == FRESH_VIEWS else []
        known = {f.ticket_id for f in fresh}
        targets = _targets(rest, known, open_tickets, owner, person.id)
        if targets:
            query = Query(actors=actors, fresh=tuple(fresh), viewer=person.id, first=TOP)
            new.append(Case(person, query, targets))
    return Evaluation(generated, split, model, returning, new, train_seconds)


def _targets(
    later: list[tuple[str, Kind, datetime]],
    seen: set[str],
    open_tickets: set[str],
    owner: dict[str, str],
    person_id: str | None,
) -> frozenset[str]:
    targets: list[str] = []
    for ticket_id, _, _ in later:
        if len(targets) == TARGETS:
            break
        if ticket_id in seen or ticket_id in targets or ticket_id not in open_tickets:
            continue
        if person_id is not None and owner.get(ticket_id) == person_id:
            continue
        targets.append(ticket_id)
    return frozenset(targets)


Recommend = Callable[[Query], list[str]]


def methods(model: Model, seed: int) -> dict[str, Recommend]:
    """The recommender, its halves alone, and the two baselines, on the same trained model."""
    rng = np.random.default_rng(seed)

    def random_pick(query: Query) -> list[str]:
        candidates = model.recommend(replace(query, first=len(model.ticket_ids)))
        if not candidates:
            return []
        picked = rng.choice(len(candidates), min(query.first, len(candidates)), replace=False)
        return [candidates[i] for i in picked]

    tie_break = 0.01  # the ablations rank by one signal; popularity only orders what it leaves tied
    return {
        "random": random_pick,
        "popularity": replace(model, params=POPULARITY_ONLY).recommend,
        "content only": replace(
            model, params=replace(model.params, collaborative=0.0, popularity=tie_break)
        ).recommend,
        "CF only": replace(
            model, params=replace(model.params, content=0.0, popularity=tie_break)
        ).recommend,
        "recommender (blend)": model.recommend,
    }


def score(evaluation: Evaluation, seed: int) -> dict[str, dict[str, dict[str, float]]]:
    groups_of = evaluation.generated.world._ticket_groups()
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, recommend in methods(evaluation.model, seed).items():
        out[name] = {}
        for label, cases in (("returning", evaluation.returning), ("new", evaluation.new)):
            scores = Scores()
            for case in cases:
                scores.add(recommend(case.query), case.targets, case.person.groups, groups_of)
            out[name][label] = scores.summary()
    return out


def _for_sale(model: Model, limit: int) -> list[str]:
    """The first `limit` tickets the model holds for sale."""
    return [t for t, i in model.index.items() if model.for_sale[i]][:limit]


def serving_samples(evaluation: Evaluation, limit: int = 2000) -> dict[str, list[float]]:
    """Milliseconds per call, in this process, of the calls the service makes."""
    model = evaluation.model
    cases = (evaluation.returning + evaluation.new)[:limit]
    recommend, similar, cold = [], [], []
    for case in cases:
        started = time.perf_counter()
        model.recommend(case.query)
        recommend.append((time.perf_counter() - started) * 1000)
    for ticket_id in _for_sale(model, limit):
        started = time.perf_counter()
        model.similar(ticket_id, viewer="u00001", first=TOP)
        similar.append((time.perf_counter() - started) * 1000)
    for _ in range(min(limit, 500)):
        started = time.perf_counter()
        model.recommend(Query(actors=("a:nobody",), first=TOP))
        cold.append((time.perf_counter() - started) * 1000)
    return {"recommend": recommend, "similar": similar, "cold start": cold}


async def service_samples(evaluation: Evaluation, limit: int = 1000) -> dict[str, object]:
    """Milliseconds per call of the insights service's own path, without gRPC: the model plus
    the DuckDB read of what the caller did since the model's data (an in-memory store holding the
    whole generated log), and seconds per retraining from that store."""
    from common.clock import FrozenClock
    from svc_insights.adapters.duckdb_store import DuckDBEventStore
    from svc_insights.adapters.interactions import DuckDBInteractions
    from svc_insights.service_layer.recommendations import Recommendations

    rows = evaluation.generated.rows
    store = DuckDBEventStore(":memory:")
    store.open()
    try:
        await store.add_many(rows)
        end = rows[-1].occurred_at.replace(tzinfo=UTC)
        recommendations = Recommendations(DuckDBInteractions(store), FrozenClock(end))
        started = time.perf_counter()
        await recommendations.retrain()
        retrain_seconds = time.perf_counter() - started
        people = [c.person for c in evaluation.returning + evaluation.new][:limit]
        recommend, similar = [], []
        for person in people:
            started = time.perf_counter()
            await recommendations.recommend(person.id, person.anonymous_id, TOP)
            recommend.append((time.perf_counter() - started) * 1000)
        for ticket_id in _for_sale(evaluation.model, limit):
            started = time.perf_counter()
            await recommendations.similar(ticket_id, None, TOP)
            similar.append((time.perf_counter() - started) * 1000)
        return {"recommend": recommend, "similar": similar, "retrain_seconds": retrain_seconds}
    finally:
        await store.close()
