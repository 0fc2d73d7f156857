from __future__ import annotations

import json
from datetime import date, datetime

import duckdb
import pytest
from pydantic import ValidationError

from orchestration.lib.config import DEFAULT_TAXONOMY
from orchestration.lib.enrichment.schema import (
    ITEM_LABEL_COLUMNS,
    ITEM_TOPIC_COLUMNS,
    EnrichmentInput,
    ItemLabels,
    LabelResult,
    LabelValidationError,
    Sentiment,
    TopicLabel,
    Urgency,
    text_sha256,
    warehouse_rows,
)
from orchestration.lib.taxonomy import Taxonomy
from orchestration.lib.warehouse import SCHEMA_SQL, replace_rows

TEXT = "I was charged twice for my renewal. The keynote was great though!"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load(DEFAULT_TAXONOMY)


def _labels(**overrides) -> ItemLabels:
    data = {
        "sentiment": {"label": "negative", "score": -0.4, "confidence": 0.7},
        "topics": [
            {
                "key": "renewal_billing",
                "sentiment": "negative",
                "evidence": "I was charged twice for my renewal.",
            },
            {
                "proposed": "Keynote speakers",
                "sentiment": "positive",
                "evidence": "The keynote was great though!",
            },
        ],
        "urgency": {"level": "high", "reasons": ["double charge"], "signals": ["billing_error"]},
        "language": "en",
        "summary": "Member was charged twice for a renewal.",
    }
    data.update(overrides)
    return ItemLabels.model_validate(data)


def test_valid_labels_pass_validation_against_text(taxonomy: Taxonomy) -> None:
    labels = _labels()
    assert labels.validate_against(TEXT, taxonomy) is labels
    assert [t.topic_key for t in labels.topics] == ["renewal_billing", "proposed:keynote_speakers"]


def test_evidence_must_be_an_exact_substring(taxonomy: Taxonomy) -> None:
    labels = _labels(
        topics=[
            {
                "key": "renewal_billing",
                "sentiment": "negative",
                "evidence": "I was charged two times",
            }
        ]
    )
    with pytest.raises(LabelValidationError, match="not an exact substring"):
        labels.validate_against(TEXT, taxonomy)
    # case and white space count: a paraphrase or re-spacing is not evidence
    labels = _labels(
        topics=[
            {"key": "renewal_billing", "sentiment": "negative", "evidence": "i was charged twice"}
        ]
    )
    with pytest.raises(LabelValidationError):
        labels.validate_against(TEXT, taxonomy)


def test_unknown_topic_key_is_rejected(taxonomy: Taxonomy) -> None:
    labels = _labels(
        topics=[{"key": "parking_fines", "sentiment": "negative", "evidence": "charged twice"}]
    )
    with pytest.raises(LabelValidationError, match="'parking_fines' is not a key of taxonomy"):
        labels.validate_against(TEXT, taxonomy)


def test_proposal_that_is_already_a_key_is_rejected(taxonomy: Taxonomy) -> None:
    labels = _labels(
        topics=[{"proposed": "Dues pricing", "sentiment": "negative", "evidence": "charged twice"}]
    )
    with pytest.raises(LabelValidationError, match="already taxonomy key"):
        labels.validate_against(TEXT, taxonomy)


@pytest.mark.parametrize(
    "sentiment",
    [
        {"label": "positive", "score": 1.5, "confidence": 0.5},
        {"label": "negative", "score": -1.01, "confidence": 0.5},
        {"label": "neutral", "score": 0.0, "confidence": 1.2},
        {"label": "neutral", "score": 0.0, "confidence": -0.1},
        {"label": "happy", "score": 0.5, "confidence": 0.5},
        {"label": "positive", "score": -0.5, "confidence": 0.5},
        {"label": "negative", "score": 0.5, "confidence": 0.5},
    ],
)
def test_sentiment_bounds(sentiment: dict) -> None:
    with pytest.raises(ValidationError):
        Sentiment.model_validate(sentiment)


@pytest.mark.parametrize(
    "topic",
    [
        {"sentiment": "negative", "evidence": "x"},  # neither key nor proposed
        {
            "key": "dues_pricing",
            "proposed": "Dues",
            "sentiment": "negative",
            "evidence": "x",
        },  # both
        {"key": "dues_pricing", "sentiment": "negative", "evidence": ""},  # empty evidence
        {"key": "dues_pricing", "sentiment": "angry", "evidence": "x"},
        {"proposed": "!!", "sentiment": "neutral", "evidence": "x"},  # no slug
    ],
)
def test_topic_shape(topic: dict) -> None:
    with pytest.raises(ValidationError):
        TopicLabel.model_validate(topic)


def test_item_label_shape_rules() -> None:
    topic = {"key": "dues_pricing", "sentiment": "negative", "evidence": "x"}
    with pytest.raises(ValidationError, match="at most 3"):
        _labels(
            topics=[
                {**topic, "key": k}
                for k in ("dues_pricing", "renewal_billing", "publications", "career_center")
            ]
        )
    with pytest.raises(ValidationError, match="only once"):
        _labels(topics=[topic, topic])
    with pytest.raises(ValidationError):
        _labels(summary="line one\nline two")
    with pytest.raises(ValidationError):
        _labels(urgency={"level": "critical"})
    with pytest.raises(ValidationError):
        _labels(urgency={"level": "high", "signals": ["angry_member"]})
    with pytest.raises(ValidationError):
        _labels(extra_field=True)
    assert Urgency(level="low", signals=["deadline", "deadline"]).signals == ["deadline"]


def test_validation_errors_hide_input() -> None:
    secret = "<PERSON_1> lives at 12 Secret Street"
    with pytest.raises(ValidationError) as info:
        TopicLabel.model_validate({"key": 5, "sentiment": secret, "evidence": secret})
    assert secret not in str(info.value)


def test_result_status_consistency() -> None:
    item = EnrichmentInput.from_text("s:1", TEXT, "survey")
    common = {"model_id": "m", "prompt_version": "p", "taxonomy_version": "t"}
    with pytest.raises(ValidationError):
        LabelResult(item_id="s:1", text_hash=item.text_hash, status="ok", **common)
    with pytest.raises(ValidationError):
        LabelResult(
            item_id="s:1",
            text_hash=item.text_hash,
            status="failed",
            labels=_labels(),
            failure_reason="x",
            **common,
        )
    failed = LabelResult.failed(item, "timeout", **common)
    assert failed.status == "failed" and failed.labels is None
    assert item.text_hash == text_sha256(TEXT)


def test_cache_hash_includes_the_question() -> None:
    a = EnrichmentInput.from_text("s:1", "Too expensive", "survey")
    b = EnrichmentInput.from_text(
        "s:2", "Too expensive", "survey", question="What should we change?"
    )
    c = EnrichmentInput.from_text(
        "s:3", "Too expensive", "survey", question="What should we change?"
    )
    assert a.cache_hash == a.text_hash
    assert b.cache_hash != a.cache_hash and b.cache_hash == c.cache_hash


def _ok_result() -> LabelResult:
    return LabelResult(
        item_id="survey:42",
        text_hash=text_sha256(TEXT),
        status="ok",
        labels=_labels(),
        model_id="builtin:lexicon-v1",
        prompt_version="p1",
        taxonomy_version="2025.1+abc",
        attempts=1,
        latency_ms=1.5,
        tokens_in=0,
        tokens_out=0,
        cost_usd=0.0,
    )


def test_warehouse_rows_fill_the_enriched_tables() -> None:
    ok = _ok_result()
    failed = LabelResult.failed(
        EnrichmentInput.from_text("survey:43", "x", "survey"),
        "reply failed validation twice",
        model_id="m",
        prompt_version="p1",
        taxonomy_version="t",
        attempts=2,
    )
    day, now = date(2025, 3, 1), datetime(2025, 3, 2, 8, 0)
    label_rows, topic_rows = [], []
    for result in (ok, failed):
        row, topics = warehouse_rows(result, day, now)
        label_rows.append(row)
        topic_rows.extend(topics)

    con = duckdb.connect(":memory:")
    con.execute(SCHEMA_SQL)
    table_cols = [
        r[0] for r in con.execute("select * from enriched.item_labels limit 0").description
    ]
    topic_cols = [
        r[0] for r in con.execute("select * from enriched.item_topics limit 0").description
    ]
    assert list(ITEM_LABEL_COLUMNS) == table_cols == list(label_rows[0])
    assert list(ITEM_TOPIC_COLUMNS) == topic_cols == list(topic_rows[0])

    # Through the warehouse's own writer: column names must match exactly.
    assert (
        replace_rows(
            con, "enriched.item_labels", label_rows, delete_where="created_date = ?", params=[day]
        )
        == 2
    )
    assert (
        replace_rows(
            con, "enriched.item_topics", topic_rows, delete_where="created_date = ?", params=[day]
        )
        == 2
    )

    got = con.execute(
        "select status, primary_topic, sentiment_label, urgency_signals, failure_reason, attempts "
        "from enriched.item_labels order by item_id"
    ).fetchall()
    assert got[0][:3] == ("ok", "renewal_billing", "negative")
    assert json.loads(got[0][3]) == ["billing_error"]
    assert got[1][0] == "failed" and got[1][4] == "reply failed validation twice" and got[1][5] == 2
    topics = con.execute(
        "select topic_key, proposed_label, topic_sentiment, evidence from enriched.item_topics order by topic_key"
    ).fetchall()
    assert topics[0] == (
        "proposed:keynote_speakers",
        "Keynote speakers",
        "positive",
        "The keynote was great though!",
    )
    assert topics[1][0] == "renewal_billing" and topics[1][1] is None
    for (evidence,) in con.execute("select evidence from enriched.item_topics").fetchall():
        assert evidence in TEXT


def test_primary_topic_is_none_when_first_topic_is_a_proposal() -> None:
    labels = _labels(
        topics=[{"proposed": "Parking", "sentiment": "negative", "evidence": "charged twice"}]
    )
    result = _ok_result().model_copy(update={"labels": labels})
    row, topics = warehouse_rows(result, date(2025, 1, 1), datetime(2025, 1, 1))
    assert row["primary_topic"] is None and topics[0]["topic_key"] == "proposed:parking"
