"""Text features shared by the trained built-in model and its training command.

The same functions run at training time (as scikit-learn `analyzer` callables) and at inference
time (with the shipped vocabulary), so the two can never drift apart. Everything is pure Python
plus numpy: the shipped model needs no scikit-learn at inference.

- `normalise`: lower case, URLs, @mentions, numbers and redaction placeholders folded to tokens,
  elongated words shortened ("soooo" -> "soo").
- `word_ngrams`: word unigrams and bigrams, with words after a negation ("not", "never", "n't")
  marked `_neg` up to the next punctuation mark ("not good" -> "good_neg").
- `char_ngrams`: character 2..5-grams inside word boundaries (like scikit-learn's `char_wb`).
- `dense_features`: the built-in lexicon scorer's parts (VADER neg/neu/pos/compound with the
  association lexicon adjustments, the association-domain phrase valence, their combined
  compound) plus a few counts, scaled to about -1..1. The domain phrases ("charged twice",
  "locked out", "worth every penny") thereby reach the trained model as one learned weight.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from orchestration.lib.enrichment.text import PLACEHOLDER_RE, PLACEHOLDER_WORD

if TYPE_CHECKING:
    from orchestration.lib.enrichment.builtin import LexiconSentimentScorer

FEATURES_VERSION = "feat-2"

_URL_RE = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_USER_RE = re.compile(r"@\w+")
_NUM_RE = re.compile(r"\b\d+(?:[.,:]\d+)*\b")
_ELONGATED_RE = re.compile(r"(\w)\1{2,}")
_HTML_ENTITIES = (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"))
_TOKEN_RE = re.compile(r"[a-z0-9_]+(?:'[a-z]+)?|[!?]+|[:;=][-']?[()dp]|<3|[.,;:]")
_NEGATORS = frozenset(
    ("not", "no", "never", "nothing", "nobody", "none", "nor", "neither", "cannot", "without",
     "hardly", "barely")
)  # fmt: skip
_CLAUSE_END = frozenset(".,;:!?")


@lru_cache(maxsize=512)  # the word and the character vocabularies normalise the same text
def normalise(text: str) -> str:
    for entity, char in _HTML_ENTITIES:
        text = text.replace(entity, char)
    text = PLACEHOLDER_RE.sub(" xph ", text)
    text = _URL_RE.sub(" xurl ", text)
    text = _USER_RE.sub(" xuser ", text)
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = _NUM_RE.sub(" xnum ", text)
    return _ELONGATED_RE.sub(r"\1\1", text)


def tokens(text: str) -> list[str]:
    """Word tokens of normalised text, negation-marked."""
    out: list[str] = []
    negated = False
    for tok in _TOKEN_RE.findall(text):
        if tok[0] in _CLAUSE_END or tok[0] == "?":
            negated = False
            out.append(tok[0])
            continue
        if negated:
            out.append(tok + "_neg")
        else:
            out.append(tok)
        if tok in _NEGATORS or tok.endswith("n't"):
            negated = True
    return out


def word_ngrams(text: str) -> list[str]:
    toks = tokens(normalise(text))
    grams = [t for t in toks if t not in {".", ",", ";", ":"}]
    grams += [f"{a} {b}" for a, b in itertools.pairwise(toks)]
    return grams


def word_char_ngrams(word: str, n_min: int = 2, n_max: int = 5) -> list[str]:
    """Character n-grams of one (normalised) word padded with spaces."""
    padded = f" {word} "
    size = len(padded)
    grams: list[str] = []
    for n in range(n_min, min(n_max, size) + 1):
        grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return grams


def char_ngrams(text: str) -> list[str]:
    """Character 2..5-grams inside word boundaries (like scikit-learn's `char_wb`)."""
    grams: list[str] = []
    for word in normalise(text).split():
        grams.extend(word_char_ngrams(word))
    return grams


_LEXICON: LexiconSentimentScorer | None = None

DENSE_NAMES: tuple[str, ...] = (
    "vader_neg", "vader_neu", "vader_pos", "vader_compound", "vader_compound_pos",
    "vader_compound_neg", "domain_pos", "domain_neg", "lexicon_compound", "exclaim",
    "question", "length",
)  # fmt: skip


def _lexicon() -> LexiconSentimentScorer:
    global _LEXICON
    if _LEXICON is None:
        from orchestration.lib.enrichment.builtin import LexiconSentimentScorer

        _LEXICON = LexiconSentimentScorer()
    return _LEXICON


def dense_features(texts: Iterable[str]) -> np.ndarray:
    lexicon = _lexicon()
    rows = []
    for text in texts:
        plain = PLACEHOLDER_RE.sub(PLACEHOLDER_WORD, text)
        s, domain, compound = lexicon.components(plain)
        c = s["compound"]
        n_words = len(text.split())
        rows.append(
            (
                s["neg"], s["neu"], s["pos"], c, max(c, 0.0), max(-c, 0.0),
                min(max(domain, 0.0), 4.0) / 4, min(max(-domain, 0.0), 4.0) / 4, compound,
                min(text.count("!"), 3) / 3, min(text.count("?"), 3) / 3,
                min(n_words, 60) / 60,
            )
        )  # fmt: skip
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(DENSE_NAMES))


class SparseVocab:
    """A fixed vocabulary with idf weights: text -> L2-normalised tf-idf (sublinear tf).

    Gives exactly what scikit-learn's `TfidfVectorizer(analyzer=..., sublinear_tf=True)` gave
    at training time. Character n-grams are looked up per distinct word and cached (bounded),
    which makes them several times faster on real text, where words repeat.
    """

    CACHE_WORDS = 200_000

    def __init__(self, vocab: Sequence[str], idf: np.ndarray, analyzer: str) -> None:
        self.index = {term: i for i, term in enumerate(vocab)}
        self.idf = np.asarray(idf, dtype=np.float64)
        self.analyzer = analyzer
        self._word_cols: dict[str, tuple[int, ...]] = {}

    def counts(self, text: str) -> Counter[int]:
        """Column -> term count of `text` (terms outside the vocabulary dropped)."""
        if self.analyzer != "char":
            index = self.index
            return Counter(j for j in map(index.get, word_ngrams(text)) if j is not None)
        flat: list[int] = []
        cache, index = self._word_cols, self.index
        for word in normalise(text).split():
            cols = cache.get(word)
            if cols is None:
                cols = tuple(j for j in map(index.get, word_char_ngrams(word)) if j is not None)
                if len(cache) < self.CACHE_WORDS:
                    cache[word] = cols
            flat.extend(cols)
        return Counter(flat)

    def transform_one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        _, cols, vals = self.transform([text])
        return cols, vals

    def transform(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The tf-idf rows of `texts` as coordinates: (row, column, value) arrays."""
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[int] = []
        for i, text in enumerate(texts):
            counts = self.counts(text)
            rows.extend([i] * len(counts))
            cols.extend(counts.keys())
            tfs.extend(counts.values())
        r = np.asarray(rows, dtype=np.int64)
        c = np.asarray(cols, dtype=np.int64)
        vals = (1.0 + np.log(np.asarray(tfs, dtype=np.float64))) * self.idf[c]
        norms = np.sqrt(np.bincount(r, weights=vals * vals, minlength=len(texts)))
        if len(vals):
            vals = vals / np.where(norms > 0, norms, 1.0)[r]
        return r, c, vals
