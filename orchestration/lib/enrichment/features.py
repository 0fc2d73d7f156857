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
- `FastVader`: VADER's `polarity_scores`, the same numbers about three times faster.
"""

from __future__ import annotations

import itertools
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from vaderSentiment import vaderSentiment as _vader

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
    return _mark_negation(_TOKEN_RE.findall(text))


def _mark_negation(raw: Iterable[str]) -> list[str]:
    out: list[str] = []
    negated = False
    for tok in raw:
        if tok[0] in _CLAUSE_END:
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


_PUNCT_TOKENS = frozenset((".", ",", ";", ":"))


def _grams(toks: list[str]) -> list[str]:
    grams = [t for t in toks if t not in _PUNCT_TOKENS]
    grams += [f"{a} {b}" for a, b in itertools.pairwise(toks)]
    return grams


def word_ngrams(text: str) -> list[str]:
    return _grams(tokens(normalise(text)))


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
            return self._word_counts(_TOKEN_RE.findall(normalise(text)))
        return Counter(self._char_cols(text))

    def _char_cols(self, text: str) -> list[int]:
        """The columns of `text`'s character n-grams, in order (repeats kept)."""
        flat: list[int] = []
        cache, index = self._word_cols, self.index
        for word in normalise(text).split():
            cols = cache.get(word)
            if cols is None:
                cols = tuple(j for j in map(index.get, word_char_ngrams(word)) if j is not None)
                if len(cache) < self.CACHE_WORDS:
                    cache[word] = cols
            flat.extend(cols)
        return flat

    def _word_counts(self, raw_tokens: list[str]) -> Counter[int]:
        index = self.index
        grams = _grams(_mark_negation(raw_tokens))
        return Counter(j for j in map(index.get, grams) if j is not None)

    def transform_one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        _, cols, vals = self.transform([text])
        return cols, vals

    def transform(
        self, texts: Sequence[str], parts: Sequence[Sequence[int] | None] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The tf-idf rows of `texts` as coordinates: (row, column, value) arrays.

        `parts[i]`, when given, says that `texts[i]` is `" ".join(texts[j] for j in
        parts[i])` with every j < i: its terms are then assembled from those texts' terms
        (normalising, tokenising and n-gramming never cross the joining space, and negation
        marking is redone over the joined tokens), which gives exactly the counts of the
        joined text at a fraction of the cost.
        """
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[int] = []
        word = self.analyzer != "char"
        seen: list[list] = []  # per text: its word tokens or its character n-gram columns
        for i, text in enumerate(texts):
            joined = parts[i] if parts is not None else None
            if joined is not None:
                flat = [x for j in joined for x in seen[j]]
            elif word:
                flat = _TOKEN_RE.findall(normalise(text))
            else:
                flat = self._char_cols(text)
            seen.append(flat)
            counts = self._word_counts(flat) if word else Counter(flat)
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


# ---------------------------------------------------------------------------------------------
# VADER, the same numbers faster
# ---------------------------------------------------------------------------------------------
_VADER_NEGATE = frozenset(_vader.NEGATE)
_VADER_BOOSTER = _vader.BOOSTER_DICT
_VADER_SPECIAL = _vader.SPECIAL_CASES
_PUNCTUATION = string.punctuation


class FastVader(_vader.SentimentIntensityAnalyzer):
    """`SentimentIntensityAnalyzer` whose `polarity_scores` gives the same dict, ~3x faster.

    vaderSentiment 3.3.2 lower-cases the whole word list again for every lexicon word it
    checks for negation and idioms (quadratic in the text's length) and rebuilds the text
    character by character to look for emoji. Here each text's words are stripped and
    lower-cased once (per distinct token, cached), emoji are looked for only in non-ASCII
    text, and only lexicon words take the rule path, which is the original's rule for rule,
    in the same order, so every float is the same (checked against the original on 105,000
    texts of the evaluation and training sets; the tests compare them on generated text).
    """

    CACHE_TOKENS = 200_000

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: dict[str, tuple[str, str]] = {}

    def _words(self, text: str) -> tuple[list[str], list[str]]:
        cache = self._tokens
        words: list[str] = []
        lower: list[str] = []
        for token in text.split():
            hit = cache.get(token)
            if hit is None:
                stripped = token.strip(_PUNCTUATION)
                word = token if len(stripped) <= 2 else stripped
                hit = (word, word.lower())
                if len(cache) < self.CACHE_TOKENS:
                    cache[token] = hit
            words.append(hit[0])
            lower.append(hit[1])
        return words, lower

    def _demojize(self, text: str) -> str:
        emojis = self.emojis
        if text.isascii() or not any(ch in emojis for ch in text):
            return text
        parts: list[str] = []
        prev_space = True
        for ch in text:
            description = emojis.get(ch)
            if description is not None:
                if not prev_space:
                    parts.append(" ")
                parts.append(description)
                prev_space = False
            else:
                parts.append(ch)
                prev_space = ch == " "
        return "".join(parts)

    def polarity_scores(self, text: str) -> dict[str, float]:
        text = self._demojize(text).strip()
        words, lower = self._words(text)
        n = len(words)
        allcaps = sum(1 for w in words if w.isupper())
        is_cap_diff = 0 < n - allcaps < n
        lexicon = self.lexicon
        sentiments: list[float] = []
        for i, lw in enumerate(lower):
            if lw in _VADER_BOOSTER or lw not in lexicon:
                sentiments.append(0)
                continue
            if lw == "kind" and i < n - 1 and lower[i + 1] == "of":
                sentiments.append(0)
                continue
            sentiments.append(self._valence(i, words, lower, is_cap_diff))
        if "but" in lower:
            sentiments = self._but_check(words, sentiments)
        return self.score_valence(sentiments, text)

    def _valence(self, i: int, words: list[str], lower: list[str], is_cap_diff: bool) -> float:
        """`SentimentIntensityAnalyzer.sentiment_valence` for the lexicon word at `i`."""
        lexicon = self.lexicon
        lw = lower[i]
        n = len(lower)
        valence = lexicon[lw]
        if lw == "no" and i != n - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and lower[i - 1] == "no")
            or (i > 1 and lower[i - 2] == "no")
            or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor"))
        ):
            valence = lexicon[lw] * _vader.N_SCALAR
        if is_cap_diff and words[i].isupper():
            valence = valence + _vader.C_INCR if valence > 0 else valence - _vader.C_INCR
        for start_i in range(3):
            j = i - (start_i + 1)
            if i > start_i and lower[j] not in lexicon:
                s = 0.0
                if lower[j] in _VADER_BOOSTER:
                    s = _vader.scalar_inc_dec(words[j], valence, is_cap_diff)
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = self._negation(valence, lower, start_i, i)
                if start_i == 2:
                    valence = self._idioms(valence, lower, i)
        return self._least(valence, lower, i)

    @staticmethod
    def _negated(word: str) -> bool:
        return word in _VADER_NEGATE or "n't" in word

    def _negation(self, valence: float, lower: list[str], start_i: int, i: int) -> float:
        """`_negation_check` on the already lower-cased words."""
        if start_i == 0:
            if self._negated(lower[i - 1]):
                valence = valence * _vader.N_SCALAR
        elif start_i == 1:
            if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
                valence = valence * 1.25
            elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
                pass
            elif self._negated(lower[i - 2]):
                valence = valence * _vader.N_SCALAR
        else:
            if (lower[i - 3] == "never" and (lower[i - 2] == "so" or lower[i - 2] == "this")) or (
                lower[i - 1] == "so" or lower[i - 1] == "this"
            ):
                valence = valence * 1.25
            elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
                pass
            elif self._negated(lower[i - 3]):
                valence = valence * _vader.N_SCALAR
        return valence

    @staticmethod
    def _idioms(valence: float, lower: list[str], i: int) -> float:
        """`_special_idioms_check` on the already lower-cased words (`i` >= 3)."""
        w3, w2, w1, w0 = lower[i - 3], lower[i - 2], lower[i - 1], lower[i]
        threetwoone = f"{w3} {w2} {w1}"
        threetwo = f"{w3} {w2}"
        twoone = f"{w2} {w1}"
        for seq in (f"{w1} {w0}", f"{w2} {w1} {w0}", twoone, threetwoone, threetwo):
            if seq in _VADER_SPECIAL:
                valence = _VADER_SPECIAL[seq]
                break
        n = len(lower)
        if n - 1 > i:
            zeroone = f"{w0} {lower[i + 1]}"
            if zeroone in _VADER_SPECIAL:
                valence = _VADER_SPECIAL[zeroone]
        if n - 1 > i + 1:
            zeroonetwo = f"{w0} {lower[i + 1]} {lower[i + 2]}"
            if zeroonetwo in _VADER_SPECIAL:
                valence = _VADER_SPECIAL[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in _VADER_BOOSTER:
                valence = valence + _VADER_BOOSTER[n_gram]
        return valence

    def _least(self, valence: float, lower: list[str], i: int) -> float:
        """`_least_check` on the already lower-cased words."""
        lexicon = self.lexicon
        if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
            if lower[i - 2] != "at" and lower[i - 2] != "very":
                valence = valence * _vader.N_SCALAR
        elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
            valence = valence * _vader.N_SCALAR
        return valence
