"""Hostile member text through the real pipeline (file source -> ingest + redaction -> built-in
model -> dbt -> publish): every line reaches a clear outcome, nothing crashes, no other row is
lost, and nothing in the text can act on the product.

The corpus (tests/fixtures/hostile/corpus.py, generated at run time) holds: an empty and a
whitespace-only text, a 1 MB text, invalid UTF-8, NUL bytes and a line of binary junk, HTML
with <script>, right-to-left text with a bidi override, an emoji flood, an SQL fragment (as
text, id, member id and question), a prompt injection, member-typed `<PERSON_1>` /
`<EMAIL_ADDRESS_1>` next to real personal data, a 60,000-character word and mixed scripts.
"""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import prepare_environment, run_pipeline, start_sandbox_if_needed
from tests.fixtures.hostile.corpus import (
    FAKE_PLACEHOLDERS,
    INJECTION,
    LONG_WORD_CHARS,
    ONE_MB,
    SQL_FRAGMENT,
    big_text,
    write_corpus,
)

SOURCE = "hostile"
WAREHOUSE_TABLES = {
    ("raw", "feedback_items"),
    ("raw", "ingest_problems"),
    ("raw", "members"),
    ("raw", "member_history"),
    ("raw", "review_decisions"),
    ("raw", "taxonomy_topics"),
    ("enriched", "item_labels"),
    ("enriched", "item_topics"),
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One pipeline run over the corpus; yields the home, marts, file and expectations."""
    tmp = tmp_path_factory.mktemp("hostile")
    exports = tmp / "exports"
    exports.mkdir()
    corpus = exports / "hostile.jsonl"
    expectations = write_corpus(corpus)
    sources = tmp / "sources.yaml"
    sources.write_text(
        "sources:\n"
        f"  - name: {SOURCE}\n"
        "    kind: file\n"
        "    path: exports/hostile.jsonl\n"
        "    columns: {id: id, text: text, channel: channel, created_at: created_at,\n"
        "              member_id: member_id, question: question}\n"
    )
    with pytest.MonkeyPatch.context() as mp:
        from tests.conftest import PIPELINE_ENV_VARS

        for name in PIPELINE_ENV_VARS:
            mp.delenv(name, raising=False)
        home = tmp / "home"
        mp.setenv("PULSE_HOME", str(home))
        mp.setenv("PULSE_HMAC_SECRET", "hostile-secret")
        mp.setenv("PULSE_SOURCES", str(sources))
        mp.setenv("PULSE_START_DATE", "2026-05-01")
        settings = prepare_environment(os.environ)
        with ExitStack() as stack:
            start_sandbox_if_needed(settings, os.environ, stack)  # file only: starts nothing
            marts = run_pipeline("2026-05-01", "2026-05-03")  # raises SystemExit on any failure
    yield {
        "home": settings.home,
        "warehouse": settings.paths.warehouse,
        "marts": marts,
        "corpus": corpus,
        "expect": expectations,
    }


def _query(path: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _stored_ids(run) -> set[str]:
    return {e.id for e in run["expect"] if e.outcome == "stored"}


def test_every_line_has_a_clear_outcome(hostile_run):
    """Stored and labelled, or reported with its file and line: nothing lost, nothing extra."""
    run = hostile_run
    stored = _stored_ids(run)
    raw = dict(_query(run["warehouse"], "select source_key, item_id from raw.feedback_items"))
    assert set(raw) == stored

    labels = dict(_query(run["warehouse"], "select item_id, status from enriched.item_labels"))
    assert {raw[k] for k in stored} == set(labels)
    assert set(labels.values()) == {"ok"}, labels  # the built-in model labelled every item

    facts = dict(_query(run["marts"], "select source_key, enrichment_status from fct_feedback"))
    assert facts == {k: "ok" for k in stored}

    problems = _query(
        run["warehouse"], "select location, reason from raw.ingest_problems order by location"
    )
    expected = [e for e in run["expect"] if e.outcome == "problem"]
    assert len(problems) == len(expected)
    by_line = {int(loc.rsplit(":", 1)[1]): (loc, reason) for loc, reason in problems}
    for e in expected:
        location, reason = by_line[e.line]
        assert location == f"{run['corpus']}:{e.line}"
        assert e.reason.lower() in reason.lower()


def test_sql_fragment_is_data_and_tables_are_intact(hostile_run):
    run = hostile_run
    tables = set(
        _query(
            run["warehouse"],
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'enriched')",
        )
    )
    assert tables >= WAREHOUSE_TABLES
    row = _query(
        run["warehouse"],
        "select item_id, member_id, question, redacted_text from raw.feedback_items "
        "where source_key = ?",
        [SQL_FRAGMENT],
    )
    assert row == [(f"{SOURCE}:{SQL_FRAGMENT}", f"m{SQL_FRAGMENT}", SQL_FRAGMENT, SQL_FRAGMENT)]
    marts = {r[0] for r in _query(run["marts"], "select table_name from information_schema.tables")}
    assert {"fct_feedback", "fct_feedback_topics", "dim_members", "agg_sentiment_daily",
            "review_queue", "emerging_issues", "dim_topics"} <= marts  # fmt: skip
    assert _query(run["marts"], "select redacted_text from fct_feedback where source_key = ?",
                  [SQL_FRAGMENT]) == [(SQL_FRAGMENT,)]  # fmt: skip


def test_member_typed_placeholders_never_merge_with_real_ones(hostile_run):
    """The redactor neutralises a typed `<PERSON_1>` to `\u2039PERSON_1\u203a` (single angle quotes), so
    the only real-looking placeholders in the stored text are the ones it put there."""
    run = hostile_run
    [(text, counts)] = _query(
        run["warehouse"],
        "select redacted_text, pii_entity_counts from raw.feedback_items where source_key = ?",
        ["fake_placeholders"],
    )
    counts = json.loads(counts)
    assert "Dana" not in text and "Whitfield" not in text and "dana.whitfield" not in text
    assert "617-555-0142" not in text
    # What the member typed survives, visibly not a placeholder.
    assert "\u2039PERSON_1\u203a" in text and "\u2039EMAIL_ADDRESS_1\u203a" in text
    # The real ones: exactly one of each, numbered from 1, matching the entity counts.
    assert text.count("<PERSON_1>") == 1 and text.count("<EMAIL_ADDRESS_1>") == 1
    assert text.count("<PHONE_NUMBER_1>") == 1
    assert counts == {"EMAIL_ADDRESS": 1, "PERSON": 1, "PHONE_NUMBER": 1}
    assert "certification exam portal keeps logging me out" in text
    # The typed lookalikes are kept outside the placeholder syntax downstream too.
    [(published,)] = _query(
        run["marts"], "select redacted_text from fct_feedback where source_key = ?",
        ["fake_placeholders"],
    )  # fmt: skip
    assert published == text
    assert len(FAKE_PLACEHOLDERS) > len(text) - 40  # nothing else was cut


def test_one_megabyte_text_is_stored_whole_and_labelled(hostile_run):
    run = hostile_run
    [(length, original, text_hash, counts)] = _query(
        run["warehouse"],
        "select text_length, original_length, text_hash, pii_entity_counts "
        "from raw.feedback_items where source_key = 'big_1mb'",
    )
    # Stored whole, not truncated: the whole text with its phone number (repeated in every
    # paragraph: one value, one placeholder) replaced; a little longer than the original.
    assert original == ONE_MB
    assert set(json.loads(counts)) == {"PHONE_NUMBER"}
    [(status, sentiment, summary, label_hash)] = _query(
        run["warehouse"],
        "select status, sentiment_label, summary, text_hash from enriched.item_labels "
        "where item_id = 'hostile:big_1mb'",
    )
    assert status == "ok" and sentiment in {"positive", "neutral", "negative"}
    assert label_hash == text_hash and summary and len(summary) < 1000
    # Every evidence quote is an exact substring of the stored text (checked, not trusted).
    [(text,)] = _query(
        run["warehouse"],
        "select redacted_text from raw.feedback_items where source_key = 'big_1mb'",
    )
    assert text == big_text().replace("617-555-0199", "<PHONE_NUMBER_1>")
    assert length == len(text) > ONE_MB
    evidence = _query(
        run["warehouse"],
        "select evidence from enriched.item_topics where item_id = 'hostile:big_1mb'",
    )
    assert all(e in text for (e,) in evidence)
    [(published_length,)] = _query(
        run["marts"], "select text_length from fct_feedback where source_key = 'big_1mb'"
    )
    assert published_length == length


def test_binary_rtl_emoji_long_word_and_mixed_scripts_are_kept(hostile_run):
    run = hostile_run
    texts = dict(
        _query(run["warehouse"], "select source_key, redacted_text from raw.feedback_items")
    )
    assert "\ufffd" in texts["binary_utf8"] and "audio cut out" in texts["binary_utf8"]
    assert "\x00" in texts["nul_bytes"] and "room was cold" in texts["nul_bytes"]
    assert "\u05ea\u05d5\u05d3\u05d4" in texts["rtl"] and "\u202e" in texts["rtl"]
    assert texts["emoji_flood"].endswith("love it") and len(texts["emoji_flood"]) > 16_000
    assert len(texts["long_word"]) == LONG_WORD_CHARS
    assert "\u4f1a\u8bae" in texts["mixed_scripts"]
    # HTML from an export file is stored as text (file sources do not strip HTML); the
    # dashboard and BI tools show it as text, never as markup.
    assert "<script>alert(document.cookie)</script>" in texts["html_script"]
    languages = dict(_query(run["warehouse"], "select item_id, language from enriched.item_labels"))
    assert all(lang for lang in languages.values())


def test_prompt_injection_changes_nothing(hostile_run):
    """Instructions inside member text are data: the label follows the content."""
    run = hostile_run
    [(sentiment, urgency, text)] = _query(
        run["marts"],
        "select sentiment_label, urgency_level, redacted_text from fct_feedback "
        "where source_key = 'prompt_injection'",
    )
    assert text == INJECTION
    assert sentiment == "negative"  # despite "mark this positive"
    assert urgency in {"medium", "high"}  # despite "urgency=low": a cancellation is urgent
