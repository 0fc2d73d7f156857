"""New topics the model proposed, grouped into candidate topics staff can promote.

A language model names a topic the taxonomy lacks in its own words, so one concern arrives
under several names ("parking at the venue", "venue parking costs", "conference parking").
Proposals are grouped by lexical similarity of their names and evidence: the stemmed content
words of each proposal's name (weighted double) and of its evidence quotes, compared by cosine
similarity, and merged single-link above a threshold. Lexical, not embeddings: proposals are
few (tens to hundreds of distinct names), their names are short and share words when they mean
the same thing, and nothing must be downloaded. Each candidate also names the existing topic
its words are closest to, so staff can see when a "new" topic is an old one in other words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from orchestration.lib.enrichment.schema import slugify
from orchestration.lib.enrichment.text import stem, words
from orchestration.lib.taxonomy import Taxonomy

DEFAULT_THRESHOLD = 0.35
NAME_WEIGHT = 2.0  # a proposal's name says what it is about; evidence only supports it
_FUNCTION_WORDS = frozenset(
    re.findall(
        r"\w+",
        """a an the and or but of to in on at by for with from into about as is are was were be
        been our my your their its this that these those it they we i you he she not no new
        issue issues problem problems concern concerns topic request requests feedback member
        members""",
    )
)


@dataclass(frozen=True)
class Proposal:
    """One proposed topic as it appears in the labels: its key, name, items and evidence."""

    topic_key: str  # 'proposed:<slug>'
    label: str
    items: int
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """A candidate topic: proposals that name the same concern, biggest first."""

    key: str  # a taxonomy-style key for the candidate, from its most used name
    label: str
    proposals: tuple[Proposal, ...]
    closest_topic: str | None  # the existing taxonomy key whose words are nearest
    closest_similarity: float

    @property
    def items(self) -> int:
        return sum(p.items for p in self.proposals)

    @property
    def evidence(self) -> tuple[str, ...]:
        return tuple(q for p in self.proposals for q in p.evidence)


def _term(word: str) -> str:
    term = stem(word)
    # "mentorship" and "mentoring" name one thing; the shared stemmer keeps "-ship" words
    return term[:-4] if term.endswith("ship") and len(term) > 7 else term


def _terms(text: str) -> Counter:
    return Counter(_term(w) for w in words(text) if w not in _FUNCTION_WORDS and len(w) > 1)


def _vector(proposal: Proposal) -> Counter:
    vector = Counter()
    for term, n in _terms(proposal.label.replace("_", " ")).items():
        vector[term] += NAME_WEIGHT * n
    for quote in proposal.evidence:
        vector.update(_terms(quote))
    return vector


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(v * b[k] for k, v in a.items() if k in b)
    if not dot:
        return 0.0
    return dot / (
        math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    )


def _topic_vectors(taxonomy: Taxonomy) -> dict[str, Counter]:
    vectors = {}
    for topic in taxonomy.topics:
        vector = Counter()
        for term, n in _terms(topic.label).items():
            vector[term] += NAME_WEIGHT * n
        for phrase in (*topic.keywords, *topic.examples):
            vector.update(_terms(phrase))
        vectors[topic.key] = vector
    return vectors


def cluster_proposals(
    proposals: Sequence[Proposal],
    taxonomy: Taxonomy,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Candidate]:
    """Candidates, most items first; proposals with no content words stay on their own."""
    vectors = [_vector(p) for p in proposals]
    parent = list(range(len(proposals)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(proposals)):
        for j in range(i + 1, len(proposals)):
            if _cosine(vectors[i], vectors[j]) >= threshold:
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(proposals)):
        groups.setdefault(root(i), []).append(i)

    topic_vectors = _topic_vectors(taxonomy)
    candidates = []
    for members in groups.values():
        group = sorted((proposals[i] for i in members), key=lambda p: (-p.items, p.topic_key))
        combined = sum((vectors[i] for i in members), Counter())
        closest, similarity = max(
            ((key, _cosine(combined, vec)) for key, vec in topic_vectors.items()),
            key=lambda kv: (kv[1], kv[0]),
            default=(None, 0.0),
        )
        label = group[0].label
        candidates.append(
            Candidate(
                key=slugify(label) or group[0].topic_key.removeprefix("proposed:"),
                label=label,
                proposals=tuple(group),
                closest_topic=closest if similarity > 0 else None,
                closest_similarity=round(similarity, 3),
            )
        )
    return sorted(candidates, key=lambda c: (-c.items, c.key))
