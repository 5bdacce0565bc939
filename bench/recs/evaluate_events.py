"""Offline evaluation of the event recommender (svc_insights/domain/recommender/event_model.py)
on the synthetic marketplace, split in time as the tickets' evaluation is (evaluate.py).

The model is trained on every event before the split (85 % of the span). What a person went on
to show interest in afterwards (an event page viewed, a listing of it viewed or ordered) is the
truth; only events open at the split (a listing for sale) and not already seen by the person
count as targets. Two questions, each against popularity:
- for you: returning people (history in the model), their next `TARGETS` new events; new people
  (nothing before the split), their first `FRESH_EVENTS` events after it as the query (fresh
  interactions, as the service passes them), the next new events after those the targets;
- similar events: for a returning person, the events similar to the last one they showed
  interest in before the split; the same targets.
Metrics: hit rate@10, NDCG@10 and taste precision@10, as in evaluate.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from bench.recs.evaluate import SPLIT, TARGETS, TOP, Scores
from bench.recs.generator import Generated
from bench.recs.world import Person
from svc_insights.domain.recommender.catalogue_events import EventInteraction, EventMarketplace
from svc_insights.domain.recommender.event_model import (
    EVENT_POPULARITY_ONLY,
    EventModel,
    EventQuery,
    train_events,
)
from svc_insights.domain.recommender.marketplace import Kind, actors_of
from svc_insights.domain.recommender.model import Params

FRESH_EVENTS = 2
KINDS = {
    "event.viewed": Kind.VIEWED,
    "ticket.viewed": Kind.VIEWED,
    "order.started": Kind.ORDER_STARTED,
    "order.created": Kind.ORDERED,
}


@dataclass(frozen=True)
class EventCase:
    person: Person
    query: EventQuery
    last_seen: str  # the event the person showed interest in last before the split ('' if new)
    targets: frozenset[str]


@dataclass
class EventEvaluation:
    generated: Generated
    split: datetime
    model: EventModel
    returning: list[EventCase]
    new: list[EventCase]
    train_seconds: float


def prepare(generated: Generated, params: Params | None = None) -> EventEvaluation:
    world = generated.world
    split = generated.at(world.spec.days * SPLIT)
    past = EventMarketplace.of(row for row in generated.rows if row.occurred_at < split)
    started = time.perf_counter()
    model = train_events(past, split, params)
    train_seconds = time.perf_counter() - started

    history: dict[str, list[tuple[datetime, str]]] = {}
    for item in past.interactions():
        history.setdefault(item.actor, []).append((item.at, item.event_id))

    event_of_ticket = {t.id: world.concerts[t.concert].event_id for t in world.tickets}
    person_of: dict[str, Person] = {}
    for person in world.people:
        person_of[person.anonymous_id] = person
        if person.id:
            person_of[person.id] = person
    future: dict[str, list[tuple[str, Kind, datetime]]] = {}
    for row in generated.rows:
        kind = KINDS.get(row.type)
        if row.occurred_at < split or kind is None:
            continue
        event_id = row.catalogue_event_id or event_of_ticket.get(row.ticket_id or "")
        person = person_of.get(row.user_id or "") or person_of.get(row.anonymous_id or "")
        if event_id and person is not None:
            future.setdefault(person.anonymous_id, []).append((event_id, kind, row.occurred_at))

    open_events = {e for e, i in model.index.items() if model.open[i]}
    returning, new = [], []
    for person in world.people:
        signed_up = person.id is not None and generated.at(person.signed_up_day) < split
        actors = actors_of(person.id if signed_up else None, person.anonymous_id)
        seen_at = sorted(step for a in actors for step in history.get(a, []))
        later = future.get(person.anonymous_id, [])
        if seen_at:
            seen = {event_id for _, event_id in seen_at}
            targets = _targets(later, seen, open_events)
            if targets:
                query = EventQuery(actors=actors, first=TOP)
                returning.append(EventCase(person, query, seen_at[-1][1], targets))
            continue
        fresh: list[EventInteraction] = []
        consumed = 0
        for event_id, kind, at in later:
            if len(fresh) == FRESH_EVENTS:
                break
            consumed += 1
            if event_id not in {f.event_id for f in fresh}:
                fresh.append(EventInteraction(actors[0], event_id, kind, at))
        if len(fresh) < FRESH_EVENTS:
            continue
        targets = _targets(later[consumed:], {f.event_id for f in fresh}, open_events)
        if targets:
            query = EventQuery(actors=actors, fresh=tuple(fresh), first=TOP)
            new.append(EventCase(person, query, fresh[-1].event_id, targets))
    return EventEvaluation(generated, split, model, returning, new, train_seconds)


def _targets(
    later: list[tuple[str, Kind, datetime]], seen: set[str], open_events: set[str]
) -> frozenset[str]:
    targets: list[str] = []
    for event_id, _, _ in later:
        if len(targets) == TARGETS:
            break
        if event_id in seen or event_id in targets or event_id not in open_events:
            continue
        targets.append(event_id)
    return frozenset(targets)


RankFor = Callable[[EventCase], list[str]]


def models(model: EventModel) -> dict[str, EventModel]:
    """The recommender, its halves alone and popularity, on the same trained model."""
    tie_break = 0.01  # the ablations rank by one signal; popularity only orders what it leaves tied
    return {
        "popularity": model.with_params(EVENT_POPULARITY_ONLY),
        "content only": model.with_params(
            replace(model.params, collaborative=0.0, popularity=tie_break)
        ),
        "CF only": model.with_params(replace(model.params, content=0.0, popularity=tie_break)),
        "recommender (blend)": model,
    }


def methods(model: EventModel, seed: int) -> dict[str, dict[str, RankFor]]:
    """Per question ('for you', 'similar events'), each method's ranking of a case."""
    rng = np.random.default_rng(seed)

    def random_pick(case: EventCase) -> list[str]:
        candidates = model.recommend(replace(case.query, first=len(model.event_ids)))
        picked = rng.choice(len(candidates), min(TOP, len(candidates)), replace=False)
        return [candidates[i] for i in picked]

    for_you: dict[str, RankFor] = {"random": random_pick}
    similar: dict[str, RankFor] = {}
    for name, variant in models(model).items():
        for_you[name] = lambda case, m=variant: m.recommend(case.query)
        similar[name] = lambda case, m=variant: m.similar(case.last_seen, first=TOP)
    return {"for you": for_you, "similar events": similar}


def score(evaluation: EventEvaluation, seed: int) -> dict[str, dict[str, dict[str, dict]]]:
    """question -> method -> people ('returning', 'new') -> figures."""
    world = evaluation.generated.world
    groups_of = {c.event_id: world.artists[c.artist].group for c in world.concerts}
    out: dict[str, dict[str, dict[str, dict]]] = {}
    for question, ranked_by in methods(evaluation.model, seed).items():
        out[question] = {}
        for name, rank in ranked_by.items():
            out[question][name] = {}
            for label, cases in (("returning", evaluation.returning), ("new", evaluation.new)):
                scores = Scores()
                for case in cases:
                    scores.add(rank(case), case.targets, case.person.groups, groups_of)
                out[question][name][label] = scores.summary()
    return out
