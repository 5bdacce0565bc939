"""The ranking both recommenders share (the tickets' model.py and the events' event_model.py):
a caller's profile, item -> how much it counts, scored against every item by the three signals
and their weights (`Params`), the excluded items left out, the best first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np
from scipy import sparse


class SignalWeights(Protocol):
    """How much each signal counts (model.Params is one)."""

    @property
    def collaborative(self) -> float: ...

    @property
    def content(self) -> float: ...

    @property
    def popularity(self) -> float: ...


def scores(
    *,
    popularity: np.ndarray,
    neighbours: sparse.csr_matrix,
    content: sparse.csr_matrix,
    params: SignalWeights,
    profile: Mapping[int, float],
) -> np.ndarray:
    """Every item's score for a profile (item -> how much it counts): the three signals blended.

    popularity: [0, 1] per item; neighbours: items x items, collaborative similarity; content:
    items x features, L2-normalised rows. A profile item's weight is log-damped and the weights
    normalised to sum 1, so the similarities are averages over what the caller did."""
    score = params.popularity * popularity
    if profile and (params.collaborative or params.content):
        cols = np.fromiter(profile, dtype=np.int64, count=len(profile))
        weights = np.log1p(np.fromiter(profile.values(), dtype=np.float32, count=len(cols)))
        weights /= weights.sum()
        if params.collaborative:
            score = score + params.collaborative * (neighbours[cols].T @ weights)
        if params.content:
            taste = content[cols].T @ weights
            score = score + params.content * (content @ taste)
    return np.asarray(score)


def best(score: np.ndarray, excluded: np.ndarray, first: int) -> np.ndarray:
    """The indices of the `first` highest scores not `excluded`, best first (ties: lower index)."""
    if first <= 0:
        return np.empty(0, dtype=np.int64)
    score = np.where(excluded, -np.inf, score)
    take = min(first, int((~excluded).sum()))
    if take == 0:
        return np.empty(0, dtype=np.int64)
    top = np.argpartition(-score, take - 1)[:take] if take < score.size else np.arange(take)
    return top[np.lexsort((top, -score[top]))]


def rank(
    *,
    popularity: np.ndarray,
    neighbours: sparse.csr_matrix,
    content: sparse.csr_matrix,
    params: SignalWeights,
    profile: Mapping[int, float],
    excluded: np.ndarray,
    first: int,
) -> np.ndarray:
    """The indices of the `first` best items for a profile, not `excluded`, best first."""
    if first <= 0:
        return np.empty(0, dtype=np.int64)
    signals = scores(
        popularity=popularity,
        neighbours=neighbours,
        content=content,
        params=params,
        profile=profile,
    )
    return best(signals, excluded, first)
