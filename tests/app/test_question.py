"""The question box: a deterministic parse to a validated structured query, redaction of the
question before use, and a chart answer that matches the marts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from app.question import StructuredQuestion, parse
from tests.app.marts_fixture import TOPICS, Marts

OpenApp = Callable[..., AppTest]
LABELS = {key: label for key, (label, _) in TOPICS.items()}
EXAMPLE = (
    "Show me sentiment trends for 'annual conference' over the last quarter, segmented by "
    "member tier"
)


def test_the_default_example_maps_to_its_structured_query() -> None:
    assert parse(EXAMPLE, LABELS) == StructuredQuestion(
        metric="sentiment",
        topics=("annual_conference",),
        period="90d",
        segment="member_tier",
        grain="Week",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "How many website login complaints per day last week by chapter?",
            {
                "metric": "volume",
                "topics": ("website_login",),
                "period": "7d",
                "segment": "member_chapter",
                "grain": "Day",
            },
        ),
        (
            "renewal and billing by channel, all time, monthly",
            {
                "topics": ("renewal_billing",),
                "period": "all",
                "segment": "channel",
                "grain": "Month",
            },
        ),
        (
            "'; DROP TABLE fct_feedback; -- by tier' OR 1=1",
            {"topics": (), "period": None, "metric": "sentiment"},
        ),
    ],
)
def test_questions_parse_to_closed_values(text: str, expected: dict) -> None:
    parsed = parse(text, LABELS)
    for name, value in expected.items():
        assert getattr(parsed, name) == value, name


def test_structured_query_rejects_values_outside_the_closed_sets() -> None:
    with pytest.raises(ValueError):
        StructuredQuestion(segment="member_id")
    with pytest.raises(ValueError):
        StructuredQuestion(period="1=1")


def test_ask_page_answers_with_a_chart_and_redacts_the_question(
    open_app: OpenApp, marts_source: Marts
) -> None:
    at = open_app("viewer", page="ask")
    assert not at.exception
    at.text_input(key="ask_question").set_value(EXAMPLE + " and mail me at jane.roe@example.org")
    [button] = [b for b in at.button if b.label == "Ask"]
    button.click().run()

    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 1
    answer = at.dataframe[0].value
    assert set(answer.columns) >= {"period_start", "member_tier", "net_sentiment_score"}
    shown = " ".join(str(j.proto.body) for j in at.json)
    assert "jane.roe@example.org" not in shown
    assert "EMAIL_ADDRESS" in shown
    expected = [
        t for t in marts_source.topics if t["topic_key"] == "annual_conference"
    ]  # 90 days cover the fixture's 12 weeks except the first days: the answer is a subset
    assert 0 < answer["item_count"].sum() <= len(expected)
