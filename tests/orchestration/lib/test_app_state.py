"""The app state store: append-only decisions, durable across connections, read back in order."""

from datetime import UTC, datetime

import pytest

from orchestration.lib.app_state import AppState, Decision


def test_decisions_are_append_only_and_read_back_oldest_first(tmp_path):
    state = AppState(tmp_path / "app_state.sqlite")
    first = state.record(
        Decision(
            item_id="s:1",
            decided_by="ana",
            sentiment_label="negative",
            decided_at=datetime(2026, 3, 1, 9, tzinfo=UTC),
        )
    )
    second = state.record(
        Decision(
            item_id="s:1",
            decided_by="ben",
            sentiment_label="neutral",
            topics=["dues_pricing"],
            case_action="reject",
            decided_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
        )
    )
    rows = AppState(tmp_path / "app_state.sqlite").decisions()
    assert [r["decision_id"] for r in rows] == [first, second]
    assert rows[1]["topics_json"] == '["dues_pricing"]'
    assert rows[1]["decided_at"] == datetime(2026, 3, 1, 10)


def test_invalid_labels_are_rejected_and_nothing_is_stored(tmp_path):
    import sqlite3

    state = AppState(tmp_path / "app_state.sqlite")
    with pytest.raises(sqlite3.IntegrityError):
        state.record(Decision(item_id="s:1", decided_by="ana", sentiment_label="furious"))
    assert state.decisions() == []


def test_missing_store_reads_as_no_decisions(tmp_path):
    assert AppState(tmp_path / "absent.sqlite").decisions() == []
