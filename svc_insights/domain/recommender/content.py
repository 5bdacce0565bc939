"""Content similarity of tickets: TF-IDF over their titles (words, word pairs and character
trigrams within words, so "Arctic Monkeys - O2 Arena London" and "arctic monkeys @ the O2,
London" share most of their weight) and a token for the price band (taste has a budget).

Made here in ~60 lines with scipy.sparse rather than with scikit-learn's TfidfVectorizer: the
titles are short and few, and the image keeps ~40 MB less.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

WORD = re.compile(r"\w+", re.UNICODE)
# A family's share of a title's vector: whole words carry the most.
WORD_WEIGHT, PAIR_WEIGHT, TRIGRAM_WEIGHT, PRICE_WEIGHT = 1.0, 0.6, 0.4, 0.5


def price_band(price: float) -> int:
    """Bands that double: ..., 20-40, 40-80, 80-160, ..."""
    return math.floor(math.log2(price / 10.0)) if price > 10 else 0


def features(title: str, price: float) -> Counter[str]:
    words = WORD.findall(title.lower())
    weights: Counter[str] = Counter()
    for word in words:
        weights["w:" + word] += WORD_WEIGHT
        padded = f" {word} "
        for i in range(len(padded) - 2):
            weights["c:" + padded[i : i + 3]] += TRIGRAM_WEIGHT
    for first, second in itertools.pairwise(words):
        weights[f"p:{first} {second}"] += PAIR_WEIGHT
    weights[f"b:{price_band(price)}"] += PRICE_WEIGHT
    return weights


@dataclass(frozen=True)
class TitleVectors:
    """Fitted on the listings of one training: the vocabulary, its IDF and each row's vector."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    matrix: sparse.csr_matrix  # one L2-normalised row per ticket, in the order given to `fit`

    @classmethod
    def fit(cls, titles: Sequence[str], prices: Sequence[float]) -> TitleVectors:
        docs = [features(title, price) for title, price in zip(titles, prices, strict=True)]
        vocabulary: dict[str, int] = {}
        for doc in docs:
            for term in doc:
                vocabulary.setdefault(term, len(vocabulary))
        df = np.zeros(len(vocabulary))
        rows, cols, vals = [], [], []
        for row, doc in enumerate(docs):
            for term, weight in doc.items():
                col = vocabulary[term]
                df[col] += 1
                rows.append(row)
                cols.append(col)
                vals.append(1.0 + math.log(weight) if weight >= 1 else weight)
        idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
        matrix = sparse.csr_matrix(
            (np.asarray(vals) * idf[cols], (rows, cols)),
            shape=(len(docs), len(vocabulary)),
            dtype=np.float32,
        )
        return cls(vocabulary, idf, normalised_rows(matrix))


def normalised_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix, dtype=np.float32)
