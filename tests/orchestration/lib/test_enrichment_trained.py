"""The trained built-in model: its committed artifact, integrity checks, determinism, behaviour.

Uses only the committed artifact (orchestration/lib/enrichment/model/), never ../shared.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from orchestration.lib.config import DEFAULT_TAXONOMY
from orchestration.lib.enrichment.builtin import BuiltinEnricher, TrainedSentimentScorer
from orchestration.lib.enrichment.features import SparseVocab, char_ngrams, word_ngrams
from orchestration.lib.enrichment.schema import EnrichmentInput
from orchestration.lib.enrichment.trained import (
    ARTIFACT_NAME,
    MODEL_DIR,
    ArtifactError,
    TrainedModel,
    file_sha256,
    load_default,
)
from orchestration.lib.enrichment.training import (
    SELECTION_GRID,
    TrainParams,
    fit_arrays,
    held_out,
    load_association_dev,
    save_artifact,
    split_of,
)
from orchestration.lib.taxonomy import Taxonomy

ARTIFACT = MODEL_DIR / ARTIFACT_NAME
MANIFEST = MODEL_DIR / "manifest.json"


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    return load_default()


@pytest.fixture(scope="module")
def scorer(model: TrainedModel) -> TrainedSentimentScorer:
    return TrainedSentimentScorer(model)


# --- the artifact and its manifest ----------------------------------------------------------------
def test_artifact_matches_its_manifest() -> None:
    manifest = json.loads(MANIFEST.read_text())
    assert manifest["artifact"] == ARTIFACT_NAME
    assert file_sha256(ARTIFACT) == manifest["sha256"]
    assert ARTIFACT.stat().st_size == manifest["bytes"] < 20 * 1024 * 1024


def test_manifest_records_data_licences_parameters_and_scores() -> None:
    manifest = json.loads(MANIFEST.read_text())
    assert set(manifest["licences"]) == set(manifest["training_data"])
    assert set(manifest["licences"].values()) <= {"MIT", "CC BY 4.0"}
    assert {"tweeteval_sentiment", "airline_tweets", "forum_urgency"} <= set(
        manifest["never_trained_on"]
    )
    assert manifest["parameters"] and manifest["holdout_scores"]
    assert "python -m orchestration.lib.enrichment.training" in manifest["retrain"]


def test_manifest_records_a_selection_made_on_dev_data_only() -> None:
    manifest = json.loads(MANIFEST.read_text())
    assert manifest["manifest_version"] == 2
    selection = manifest["selection"]
    assert selection["selected"] == manifest["parameters"]
    assert set(selection["grid"]) == set(SELECTION_GRID)
    for stage in selection["stages"].values():
        assert stage["candidates"] and stage["chosen"]
        for row in stage["candidates"]:  # dev scores only: no test or held-out set in sight
            scored = {k for k, v in row.items() if isinstance(v, float) and k not in
                      TrainParams.__dataclass_fields__}  # fmt: skip
            assert all(k.endswith("_dev") or k in ("objective", "association_dev",
                       "vader_dev_mean") for k in scored), scored  # fmt: skip
    assert "HAND-WRITTEN" in manifest["dev_data"]["association_dev.tsv"]
    assert TrainParams() == TrainParams(**manifest["parameters"])  # the defaults = the choice
    assert load_default().domain_prior == manifest["parameters"]["domain_prior"]


def test_dev_and_held_out_splits_are_disjoint_and_the_hand_written_dev_set_loads() -> None:
    keys = [("vader", "tweets", str(i)) for i in range(3000)]
    splits = [split_of(*k) for k in keys]
    assert {s: splits.count(s) for s in set(splits)}.keys() == {"train", "dev", "holdout"}
    assert all((s == "holdout") == held_out(*k) for k, s in zip(keys, splits, strict=True))
    assert 0.07 < splits.count("dev") / len(splits) < 0.13
    rows = load_association_dev()
    assert len(rows) == 90 and {y for _, y in rows} == {0, 1, 2}


def test_artifact_holds_plain_numpy_arrays_only() -> None:
    with np.load(ARTIFACT, allow_pickle=False) as data:
        for name in data.files:
            assert data[name].dtype != object, name


def test_a_tampered_artifact_is_refused(tmp_path: Path) -> None:
    shutil.copy(MANIFEST, tmp_path / "manifest.json")
    data = bytearray(ARTIFACT.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / ARTIFACT_NAME).write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="does not match the manifest"):
        TrainedModel.load(tmp_path / ARTIFACT_NAME)


def test_a_missing_artifact_or_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="missing; retrain"):
        TrainedModel.load(tmp_path / ARTIFACT_NAME)
    shutil.copy(ARTIFACT, tmp_path / ARTIFACT_NAME)
    with pytest.raises(ArtifactError, match=r"manifest\.json"):
        TrainedModel.load(tmp_path / ARTIFACT_NAME)


def test_the_enricher_uses_the_trained_model_by_default() -> None:
    enricher = BuiltinEnricher(Taxonomy.load(DEFAULT_TAXONOMY))
    sha = json.loads(MANIFEST.read_text())["sha256"]
    assert enricher.model_id == f"builtin:trained-v2.{sha[:8]}"


# --- inference ------------------------------------------------------------------------------------
_TEXTS = [
    "The annual conference was fantastic, thank you!",
    "I was charged twice and nobody answers my emails.",
    "Please update my mailing address.",
    "",
    "<PERSON_1> from member services was very helpful.",
]


def test_inference_is_deterministic_and_independent_of_the_batch(model: TrainedModel) -> None:
    again = TrainedModel.load()
    batch = model.sentiment_proba(_TEXTS)
    assert np.array_equal(batch, again.sentiment_proba(_TEXTS))
    for i, text in enumerate(_TEXTS):
        np.testing.assert_allclose(model.sentiment_proba([text])[0], batch[i], rtol=0, atol=1e-12)
    np.testing.assert_allclose(batch.sum(axis=1), 1.0)
    assert np.array_equal(model.action_proba(_TEXTS), again.action_proba(_TEXTS))


def test_inference_features_equal_the_training_features() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = [*_TEXTS, "Not good at all!!! The website isn't working", "soooo good :) @user"]
    for analyzer, name in ((word_ngrams, "word"), (char_ngrams, "char")):
        vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True).fit(corpus)
        vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
        ours = SparseVocab(vocab, vec.idf_, name)
        expected = vec.transform(corpus).toarray()
        for i, text in enumerate(corpus):
            row = np.zeros(len(vocab))
            cols, vals = ours.transform_one(text)
            row[cols] = vals
            np.testing.assert_allclose(row, expected[i], atol=1e-12)


def test_joined_texts_reuse_their_sentences_terms_exactly() -> None:
    model = load_default()
    sentences = [
        "I will not renew", "Thanks for nothing!!", "The CE portal isn't working.",
        "Call me at xnum", "soooo good :) @user", "Don't", "go. Never again",
        "caf\u00e9 &amp; \u00c9T\u00c9 www.example.org/x?y=1", "<3 it", "",
    ]  # fmt: skip
    texts = [*sentences, " ".join(sentences), " ".join(sentences[:3]), " ".join(sentences[5:7])]
    parts = [None] * len(sentences) + [tuple(range(10)), (0, 1, 2), (5, 6)]
    for vocab in (model.word, model.char):
        plain, joined = vocab.transform(texts), vocab.transform(texts, parts)
        for a, b in zip(plain, joined, strict=True):
            assert np.array_equal(a, b)
    assert np.array_equal(model.logits(texts), model.logits(texts, parts=parts))


def test_fast_vader_gives_exactly_vaders_scores() -> None:
    import random

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from orchestration.lib.enrichment.builtin import _LEXICON_OVERRIDES
    from orchestration.lib.enrichment.features import FastVader

    vocabulary = (
        "good GOOD great bad BAD not never no nor or least at very kind of sort the shit bomb "
        "but BUT isn't without doubt so this extremely barely hardly cannot love hate ok :) :( "
        "<3 happy sad !!! ?? ??? the conference was dues fees please help thanks free no-one "
        "\U0001f600 \U0001f494 \u00e9t\u00e9 won't don't aint kinda cut the mustard"
    )
    words = vocabulary.split()
    rng = random.Random(17)
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 25))) for _ in range(3000)]
    texts += ["", "   ", "VADER is VERY smart, handsome, and FUNNY!!!", "not bad at all but meh"]
    for overrides in ({}, _LEXICON_OVERRIDES):
        slow, fast = SentimentIntensityAnalyzer(), FastVader()
        slow.lexicon = {**slow.lexicon, **overrides}
        fast.lexicon = {**fast.lexicon, **overrides}
        for text in texts:
            assert fast.polarity_scores(text) == slow.polarity_scores(text), text


def test_the_same_training_data_gives_the_same_bytes(tmp_path: Path) -> None:
    s_texts = [
        "great event, loved it", "terrible service, very slow", "the meeting is on tuesday",
        "awful, I want a refund", "wonderful speakers", "where is the venue",
    ] * 3  # fmt: skip
    s_labels = [2, 0, 1, 0, 2, 1] * 3
    a_texts = ["please send the invoice", "the report is attached", "call me back today"] * 3
    a_labels = [1, 0, 1] * 3
    params = TrainParams(word_min_df=1, char_min_df=1)
    weights = [1.0] * len(s_texts)
    first = save_artifact(
        fit_arrays(s_texts, s_labels, weights, a_texts, a_labels, params), tmp_path / "a.npz"
    )
    second = save_artifact(
        fit_arrays(s_texts, s_labels, weights, a_texts, a_labels, params), tmp_path / "b.npz"
    )
    assert first == second
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


# --- behaviour on association feedback --------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "The annual conference was excellent and the speakers were inspiring.",
        "Thank you for the quick response, the staff were wonderful.",
        "I really enjoy the monthly webinars, they are very useful.",
        "Renewing was quick and easy this year. Great job!",
    ],
)
def test_positive(scorer: TrainedSentimentScorer, text: str) -> None:
    [estimate] = scorer.score([text])
    assert estimate.label == "positive", estimate
    assert estimate.score > 0


@pytest.mark.parametrize(
    "text",
    [
        "The registration site crashed twice and I lost my booking. Terrible experience.",
        "I am very disappointed with how my complaint was handled.",
        "The dues went up again and the benefits keep getting worse.",
        "The keynote was boring and the rooms were overcrowded.",
    ],
)
def test_negative(scorer: TrainedSentimentScorer, text: str) -> None:
    [estimate] = scorer.score([text])
    assert estimate.label == "negative", estimate
    assert estimate.score < 0


@pytest.mark.parametrize(
    "text",
    [
        "When does registration for the fall meeting open?",
        "Please send me a copy of my membership certificate.",
        "Our chapter meets on the first Monday of each month.",
        "Can you update my mailing address?",
    ],
)
def test_neutral(scorer: TrainedSentimentScorer, text: str) -> None:
    [estimate] = scorer.score([text])
    assert estimate.label == "neutral", estimate


@pytest.mark.parametrize(
    ("negated", "plain"),
    [
        ("The session was not good.", "The session was good."),
        ("The speakers were not helpful at all.", "The speakers were helpful."),
        ("I would never recommend this conference.", "I would recommend this conference."),
    ],
)
def test_negation_flips_the_label(scorer: TrainedSentimentScorer, negated: str, plain: str) -> None:
    neg, pos = scorer.score([negated, plain])
    assert pos.label == "positive", pos
    assert neg.label == "negative", neg


def test_the_action_head_separates_requests_from_statements(scorer: TrainedSentimentScorer) -> None:
    ask, state = scorer.action(
        ["Can you please send me the invoice for my renewal?", "The conference was held in Denver."]
    )
    assert ask > 0.5 > state


def test_a_negative_request_raises_urgency_to_medium() -> None:
    enricher = BuiltinEnricher(Taxonomy.load(DEFAULT_TAXONOMY))
    [result] = enricher.enrich(
        [
            EnrichmentInput.from_text(
                "u:1",
                "The journal has not arrived for three months and I am really frustrated. "
                "Could you send the missing issues?",
                "email",
            )
        ]
    )
    assert result.labels is not None
    assert result.labels.sentiment.label == "negative"
    assert result.labels.urgency.level == "medium"
