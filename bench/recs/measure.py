"""The offline evaluation (evaluate.py) as rows of the bench's table, and the recommender's
serving time per call at the generator's scale (bench/scenarios/recs.py runs it in `make bench`,
__main__.py alone)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bench.recs import evaluate, evaluate_events
from bench.recs.generator import Generated, generate
from bench.recs.world import WorldSpec
from bench.report import Latency, Row

TARGET_LIFT = 1.5  # hit rate@10 of the recommender over popularity's, returning users
# The event recommender's questions, and which of them the target applies to.
EVENT_QUESTIONS = ("for you", "similar events")
EVENT_TARGETED = EVENT_QUESTIONS  # the bar is for both
QUICK_USERS = 1200


@dataclass(frozen=True)
class Outcome:
    rows: list[Row]
    table: str  # the evaluation as a Markdown table (methods x people)
    events_table: str = ""  # the event recommender's, per question


def spec_for(*, quick: bool) -> WorldSpec:
    return WorldSpec(users=QUICK_USERS, anonymous_visitors=400) if quick else WorldSpec()


def measure(*, quick: bool) -> Outcome:
    spec = spec_for(quick=quick)
    started = time.perf_counter()
    generated = generate(spec)
    generate_seconds = time.perf_counter() - started
    prepared = evaluate.prepare(generated)
    scores = evaluate.score(prepared, seed=spec.seed)
    version = prepared.model.version
    load = (
        f"{len(generated.rows):,} events, {version.items:,} tickets ({version.open_items:,} for "
        f"sale), {version.actors:,} actors; seed {spec.seed}"
    )
    popularity = scores["popularity"]["returning"]["hit_rate"]
    rows = []
    for method, by_people in scores.items():
        for people, figures in by_people.items():
            lift = figures["hit_rate"] / popularity if popularity else None
            is_subject = method == "recommender (blend)" and people == "returning"
            rows.append(
                Row(
                    scenario=f"recs: {method}, {people} users",
                    load=load,
                    count=int(figures["users"]),
                    target=f"hit rate@10 ≥ {TARGET_LIFT:g} x popularity's" if is_subject else "",
                    met=(lift is not None and lift >= TARGET_LIFT) if is_subject else None,
                    notes=(
                        f"hit rate@10 {figures['hit_rate']:.3f}, NDCG@10 {figures['ndcg']:.3f}, "
                        f"taste precision@10 {figures['taste_precision']:.2f}"
                        + (f"; x{lift:.2f} popularity's hit rate" if people == "returning" else "")
                    ),
                    extra=dict(figures),
                )
            )
    by_event, events_scores = event_rows(generated, spec.seed)
    rows += by_event
    for call, samples in evaluate.serving_samples(prepared).items():
        rows.append(
            Row(
                scenario=f"recs: serving {call}",
                load=f"one process, the model in memory; {load}",
                latency=Latency.of(samples),
                notes="per call, warm",
            )
        )
    service = asyncio.run(evaluate.service_samples(prepared))
    for call in ("recommend", "similar"):
        rows.append(
            Row(
                scenario=f"recs: service {call}",
                load=f"the model + the caller's events since, read from DuckDB; {load}",
                latency=Latency.of(service[call]),
                notes="per call in the service, without gRPC",
            )
        )
    rows.append(
        Row(
            scenario="recs: retraining from the store",
            load=load,
            count=version.interactions,
            notes=f"{service['retrain_seconds']:.2f} s: read and fold the events, train, swap",
            extra={"retrain_seconds": service["retrain_seconds"]},
        )
    )
    rows.append(
        Row(
            scenario="recs: training",
            load=load,
            count=version.interactions,
            notes=(
                f"train {prepared.train_seconds:.2f} s for {version.interactions:,} "
                f"interactions (generating the log took {generate_seconds:.1f} s)"
            ),
            extra={"train_seconds": prepared.train_seconds},
        )
    )
    return Outcome(rows, evaluation_table(scores), events_table(events_scores))


def event_lift(scores: dict, question: str) -> float | None:
    """The event recommender's hit rate@10 over popularity's, returning users."""
    popularity = scores[question]["popularity"]["returning"]["hit_rate"]
    blend = scores[question]["recommender (blend)"]["returning"]["hit_rate"]
    return blend / popularity if popularity else None


def event_rows(generated: Generated, seed: int) -> tuple[list[Row], dict]:
    """The event recommender's evaluation (evaluate_events.py) as rows of the table, and its
    scores."""
    started = time.perf_counter()
    prepared = evaluate_events.prepare(generated)
    scores = evaluate_events.score(prepared, seed=seed)
    seconds = time.perf_counter() - started
    version = prepared.model.version
    load = (
        f"{version.items:,} events ({version.open_items:,} open), {version.actors:,} actors, "
        f"{version.interactions:,} interactions; seed {seed}"
    )
    rows = []
    for question in EVENT_QUESTIONS:
        lift = event_lift(scores, question)
        for method, by_people in scores[question].items():
            figures = by_people["returning"]
            is_subject = method == "recommender (blend)" and question in EVENT_TARGETED
            rows.append(
                Row(
                    scenario=f"recs events: {question}, {method}, returning users",
                    load=load,
                    count=int(figures["users"]),
                    target=f"hit rate@10 ≥ {TARGET_LIFT:g} x popularity's" if is_subject else "",
                    met=(lift is not None and lift >= TARGET_LIFT) if is_subject else None,
                    notes=(
                        f"hit rate@10 {figures['hit_rate']:.3f}, NDCG@10 {figures['ndcg']:.3f}, "
                        f"taste precision@10 {figures['taste_precision']:.2f}"
                        + (
                            f"; x{lift:.2f} popularity's hit rate"
                            if method == "recommender (blend)" and lift is not None
                            else ""
                        )
                    ),
                    extra=dict(figures),
                )
            )
    rows.append(
        Row(
            scenario="recs events: train and evaluate",
            load=load,
            count=version.interactions,
            notes=f"{prepared.train_seconds:.2f} s training; {seconds:.1f} s in all",
            extra={"train_seconds": prepared.train_seconds},
        )
    )
    return rows, scores


def events_table(scores: dict) -> str:
    """The event recommender's evaluation: per question, methods x people."""
    lines = []
    for question in EVENT_QUESTIONS:
        lines.append(f"### Events: {question}")
        lines.append("")
        new = f"new ({evaluate_events.FRESH_EVENTS} fresh events)"
        lines.append(evaluation_table(scores[question], new))
        lift = event_lift(scores, question)
        if lift is not None:
            lines.append(f"Blend over popularity, returning users: x{lift:.2f} hit rate@10.")
        lines.append("")
    return "\n".join(lines)


def evaluation_table(
    scores: dict[str, dict[str, dict[str, float]]], new: str = "new (3 fresh views)"
) -> str:
    head = (
        "| method | returning: hit rate@10 | NDCG@10 | taste precision@10 "
        f"| {new}: hit rate@10 | NDCG@10 | taste precision@10 |"
    )
    lines = [head, "|" + " --- |" * 7]
    for method, by_people in scores.items():
        cells = [method]
        for people in ("returning", "new"):
            figures = by_people[people]
            cells += [
                f"{figures['hit_rate']:.3f}",
                f"{figures['ndcg']:.3f}",
                f"{figures['taste_precision']:.2f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    counts = scores["popularity"]
    lines.append("")
    lines.append(
        f"{int(counts['returning']['users'])} returning users, {int(counts['new']['users'])} new."
    )
    return "\n".join(lines)
