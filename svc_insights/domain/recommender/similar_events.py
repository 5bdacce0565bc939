""" "Similar events" as a mixture of what follows an event: either an event like it, or one of the
events everyone looks at.

An event's likeness (its co-viewers' cosine and its catalogue features') finds its taste, but not
which of that taste's events someone looks at next. Demand follows the headliner (the first-billed
performer): among the like events, those whose headliner draws more interest are likelier, and
most likely another event of the seed's own headliner (whoever looked at the seed may well be a
fan). And people come back to the most wanted events of any taste, so part of the list is the
events whose headliners draw the most interest overall.

  like share(e)    = like(seed, e) * expected_interest(e) ** interest_power
                     * (same_headliner if e has the seed's headliner else 1),
                     as a share of the candidates' sum
  popular share(e) = expected_interest(e), as a share of the candidates' sum
  score(e)         = like share(e) + popular_share * popular share(e)

An event's expected interest is its headliner's: the faded feedback on all the events they
headline, spread over those open now (what each can expect); an event without performers has its
own. An event nobody showed interest in yet (a new performer's) is expected to draw a tenth of
an open event's mean, so that its likeness still counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class SimilarParams:
    collaborative: float = 1.0  # the likeness: the co-viewers' cosine ...
    content: float = 0.5  # ... and the catalogue features'
    interest_power: float = 0.5  # how much a like event's expected interest counts
    same_headliner: float = 2.0  # the factor for another event of the seed's headliner
    popular_share: float = 0.4  # the popular events' share beside the like ones'
    # What an event nobody showed interest in yet is expected to draw, as a part of the open
    # events' mean, so that its likeness still counts.
    unknown_interest: float = 0.1


# Tuned on the bench's seed 7 (bench/recs/evaluate_events.py), the full world and the quick one.
SIMILAR_PARAMS = SimilarParams()


def performer_matrix(performers: Sequence[Sequence[str]]) -> sparse.csr_matrix:
    """events x performers, 1 where the list given for the event names the performer."""
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for row, names in enumerate(performers):
        for name in dict.fromkeys(names):
            rows.append(row)
            cols.append(vocabulary.setdefault(name, len(vocabulary)))
    return sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)),
        shape=(len(performers), max(len(vocabulary), 1)),
    )


def expected_interest(
    headliners: sparse.csr_matrix, interest: np.ndarray, open_: np.ndarray
) -> np.ndarray:
    """Per event, the interest in its headliner's events over the number of them open (its own
    interest when it has no headliner)."""
    per_headliner = headliners.T @ interest.astype(np.float64)
    open_events = headliners.T @ open_.astype(np.float64)
    per_open_event = per_headliner / np.maximum(open_events, 1.0)
    expected = headliners @ per_open_event
    has_headliner = np.diff(headliners.indptr) > 0
    return np.where(has_headliner, expected, interest).astype(np.float64)


def shares(values: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """Each candidate's share of the candidates' sum (excluded ones 0; all 0 if nothing counts)."""
    kept = np.where(excluded, 0.0, np.maximum(values, 0.0)).astype(np.float64)
    total = kept.sum()
    return kept / total if total > 0 else kept


def similar_scores(
    *,
    seed: int,
    like: np.ndarray,
    headliners: sparse.csr_matrix,
    expected: np.ndarray,
    excluded: np.ndarray,
    params: SimilarParams,
) -> np.ndarray:
    """Every event's score as similar to `seed` (the mixture above): `like` is the seed's likeness
    to every event, `expected` what expected_interest gave."""
    candidates = expected[~excluded]
    floor = params.unknown_interest * float(candidates.mean()) if candidates.size else 0.0
    same_headliner = np.asarray((headliners @ headliners[seed].T).todense()).ravel() > 0
    boost = np.where(same_headliner, params.same_headliner, 1.0)
    liked = np.maximum(like, 0.0) * np.maximum(expected, floor) ** params.interest_power * boost
    return shares(liked, excluded) + params.popular_share * shares(expected, excluded)
