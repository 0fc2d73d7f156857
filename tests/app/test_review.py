"""Review decisions: a reviewer's decision made in the app lands in the state store with who
and when; roles without `reviewer` cannot decide (neither in the UI nor in the query layer); a
case is decided only for negative, high-urgency items; notes are redacted before storage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import data
from app.access import AccessDenied, Scope
from orchestration.lib.app_state import AppState
from tests.app.marts_fixture import END_DATE, TOPICS, Marts

OpenApp = Callable[..., AppTest]
WHOLE = data.Slice(END_DATE - timedelta(days=400), END_DATE)
REVIEWER = Scope("reviewer", None, item_level=True, can_review=True)
NORTH_REVIEWER = Scope("north_reviewer", "North", item_level=True, can_review=True)
KNOWN = frozenset(TOPICS)


def _queue(marts: Marts, **where: object) -> list[dict]:
    return [
        r
        for r in marts.feedback
        if all(r[k] == v for k, v in where.items())
        and (
            r["is_high_urgency"]
            or r["enrichment_status"] == "failed"
            or (r["sentiment_confidence"] or 1) < 0.6
        )
    ]


def _submit(at: AppTest) -> AppTest:
    [button] = [b for b in at.button if b.label == "Record decision"]
    return button.click().run()


def test_reviewer_decision_is_stored_with_who_and_when(open_app: OpenApp, pulse_home: Path) -> None:
    at = open_app("reviewer", page="review", query={"period": "all"})
    assert not at.exception
    open_before = int(at.metric[0].value)
    item_id = at.selectbox(key="queue_item").value
    row = at.dataframe[0].value.set_index("item_id").loc[item_id]
    assert row["queue_reason"] == data.QUEUE_REASONS["high_urgency_negative"]

    at.selectbox(key=f"review_urgency::{item_id}").set_value("medium")
    at.radio(key=f"review_case::{item_id}").set_value("reject")
    began = datetime.now(UTC).replace(tzinfo=None)
    _submit(at)
    ended = datetime.now(UTC).replace(tzinfo=None)

    assert not at.exception
    # Urgency corrected to medium: a case cannot be decided for it, and nothing is stored.
    assert any("negative, high-urgency" in e.value for e in at.error)
    assert AppState(pulse_home / "app_state.sqlite").decisions() == []

    at.selectbox(key=f"review_urgency::{item_id}").set_value("high")
    at.radio(key=f"review_case::{item_id}").set_value("approve")
    began = datetime.now(UTC).replace(tzinfo=None)
    _submit(at)
    ended = datetime.now(UTC).replace(tzinfo=None)
    assert not at.exception
    assert not at.error
    assert any(item_id in s.value for s in at.success)

    [stored] = AppState(pulse_home / "app_state.sqlite").decisions()
    assert stored["item_id"] == item_id
    assert stored["decided_by"] == "reviewer"
    assert began <= stored["decided_at"] <= ended
    assert stored["sentiment_label"] == "negative"
    assert stored["urgency_level"] == "high"
    assert stored["case_action"] == "approve"

    at.run()  # the decided item leaves the open queue at once
    assert int(at.metric[0].value) == open_before - 1
    assert int(at.metric[1].value) == 1
    assert item_id not in set(at.dataframe[0].value["item_id"])


@pytest.mark.parametrize("user", ["lead", "north_manager"])
def test_item_level_roles_without_reviewer_see_the_queue_but_cannot_decide(
    open_app: OpenApp, pulse_home: Path, user: str
) -> None:
    at = open_app(user, page="review", query={"period": "all"})
    assert not at.exception
    assert len(at.dataframe) == 1
    assert not [b for b in at.button if b.label == "Record decision"]
    assert any("reviewer role" in i.value for i in at.info)
    assert not (pulse_home / "app_state.sqlite").exists()


@pytest.mark.parametrize(
    "scope",
    [
        Scope("viewer", None, item_level=False, can_review=False),
        Scope("lead", None, item_level=True, can_review=False),
        Scope("north_manager", "North", item_level=True, can_review=False),
    ],
    ids=["viewer", "leadership", "chapter_manager"],
)
def test_record_decision_refuses_non_reviewers(
    marts_source: Marts, tmp_path: Path, scope: Scope
) -> None:
    state = AppState(tmp_path / "app_state.sqlite")
    item = _queue(marts_source, sentiment_label="negative", member_chapter="North")[0]
    with pytest.raises(AccessDenied):
        data.record_decision(
            str(marts_source.path),
            scope,
            state,
            data.DecisionInput(item["item_id"], sentiment_label="positive"),
            lambda text: text,
        )
    assert state.decisions() == []


def test_chapter_bound_reviewer_cannot_decide_another_chapter(
    marts_source: Marts, tmp_path: Path
) -> None:
    state = AppState(tmp_path / "app_state.sqlite")
    south = _queue(marts_source, member_chapter="South")[0]
    north = _queue(marts_source, member_chapter="North")[0]
    with pytest.raises(AccessDenied, match="not in your review queue"):
        data.record_decision(
            str(marts_source.path),
            NORTH_REVIEWER,
            state,
            data.DecisionInput(south["item_id"], sentiment_label="neutral"),
            lambda text: text,
        )
    data.record_decision(
        str(marts_source.path),
        NORTH_REVIEWER,
        state,
        data.DecisionInput(north["item_id"], sentiment_label="neutral"),
        lambda text: text,
    )
    assert [d["item_id"] for d in state.decisions()] == [north["item_id"]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sentiment_label": "furious"}, "unknown sentiment"),
        ({"urgency_level": "asap"}, "unknown urgency"),
        ({"topics": ("annual_conference", "made_up")}, "unknown topics"),
        ({"case_action": "escalate"}, "unknown case action"),
        ({}, "nothing to record"),
    ],
)
def test_invalid_decisions_are_rejected(
    marts_source: Marts, tmp_path: Path, change: dict, message: str
) -> None:
    state = AppState(tmp_path / "app_state.sqlite")
    item = _queue(marts_source, sentiment_label="negative", urgency_level="high")[0]
    with pytest.raises(data.DecisionRejected, match=message):
        data.record_decision(
            str(marts_source.path),
            REVIEWER,
            state,
            data.DecisionInput(item["item_id"], known_topics=KNOWN, **change),
            lambda text: text,
        )
    assert state.decisions() == []


def test_case_only_for_negative_high_urgency(marts_source: Marts, tmp_path: Path) -> None:
    state = AppState(tmp_path / "app_state.sqlite")
    low_conf = next(
        r
        for r in _queue(marts_source)
        if r["sentiment_label"] == "positive" and r["sentiment_confidence"] < 0.6
    )
    with pytest.raises(data.DecisionRejected, match="negative, high-urgency"):
        data.record_decision(
            str(marts_source.path),
            REVIEWER,
            state,
            data.DecisionInput(low_conf["item_id"], case_action="approve"),
            lambda text: text,
        )
    # Corrected to negative + high in the same decision: the case may be approved.
    data.record_decision(
        str(marts_source.path),
        REVIEWER,
        state,
        data.DecisionInput(
            low_conf["item_id"],
            sentiment_label="negative",
            urgency_level="high",
            case_action="approve",
        ),
        lambda text: text,
    )
    assert state.decisions()[0]["case_action"] == "approve"


def test_note_is_redacted_before_it_is_stored(open_app: OpenApp, pulse_home: Path) -> None:
    at = open_app("reviewer", page="review", query={"period": "all"})
    item_id = at.selectbox(key="queue_item").value
    at.text_area(key=f"review_note::{item_id}").set_value(
        "Called back on 555-867-5309, wrote to jane.roe@example.org"
    )
    _submit(at)
    assert not at.exception, [e.value for e in at.exception]
    [stored] = AppState(pulse_home / "app_state.sqlite").decisions()
    assert "jane.roe@example.org" not in stored["note"]
    assert "555-867-5309" not in stored["note"]
    assert "<EMAIL_ADDRESS" in stored["note"]


def test_the_queue_lists_undecided_items_first_in_the_queues_order(marts_source: Marts) -> None:
    """Undecided before decided; then urgent negatives, low confidence (least confident first),
    failures; newest first within a reason. The rank shown is the place in the list."""
    queue = data.load_review_queue(str(marts_source.path), 0, REVIEWER, WHOLE, (), 5000)
    assert len(queue) > 10 and queue["is_decided"].any() and not queue["is_decided"].all()
    assert list(queue["queue_rank"]) == list(range(1, len(queue) + 1))
    priority = {"high_urgency_negative": 1, "low_confidence": 2, "model_failure": 3}
    keys = [
        (
            bool(r.is_decided),
            priority[r.queue_reason],
            r.sentiment_confidence if r.queue_reason == "low_confidence" else 0,
            -r.created_at.timestamp(),
            r.item_id,
        )
        for r in queue.itertuples()
    ]
    assert keys == sorted(keys)
    # A narrower filter ranks its own list from 1.
    failures = data.load_review_queue(
        str(marts_source.path), 0, REVIEWER, WHOLE, ("model_failure",), 5000
    )
    assert set(failures["queue_reason"]) == {"model_failure"}
    assert list(failures["queue_rank"]) == list(range(1, len(failures) + 1))
