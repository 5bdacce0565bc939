"""How search reads text: one analyzer for the documents and the queries, so both fold alike.

tantivy's simple tokenizer (splits on anything not alphanumeric), lowercase, then ASCII folding:
"Zürich" → ["zurich"], "BEYONCÉ" → ["beyonce"], "AC/DC" → ["ac", "dc"], "a.*b(" → ["a", "b"].
The index registers the same analyzer under `FOLDED` for its text fields, and the query side
runs the user's text through it here, so a query word and an indexed word are folded by the
same code (no second, Python-side folding to drift from tantivy's).
"""

from __future__ import annotations

import tantivy

from common.errors import InvalidInput

# The name the index registers the analyzer under; the schema's text fields name it.
FOLDED = "folded"

# A query word longer than this is cut to it: a prefix of a long word still finds the word, and
# no automaton of user-sized length is built.
MAX_WORD_CHARS = 64
# More query words than this are refused: each is a required clause over four fields.
MAX_WORDS = 32


def folded_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


_ANALYZER = folded_analyzer()


def fold(text: str) -> list[str]:
    """The words of `text` as the index holds them."""
    return list(_ANALYZER.analyze(text))


def query_words(text: str) -> list[str]:
    """The distinct words of a user's query, folded, in order, each cut to MAX_WORD_CHARS.
    Anything else in the text (punctuation, quotes, regex syntax) separates words and is
    otherwise ignored: a query is plain text."""
    words: list[str] = []
    for word in fold(text):
        word = word[:MAX_WORD_CHARS]
        if word not in words:
            words.append(word)
    if len(words) > MAX_WORDS:
        raise InvalidInput(f"a search takes at most {MAX_WORDS} words", field="text")
    return words


def city_key(city: str) -> str:
    """What the city filter compares: "Zürich", "zurich" and "ZURICH" are one city, and so are
    "São Paulo" and "sao-paulo"."""
    return " ".join(fold(city))
