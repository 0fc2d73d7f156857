"""Behaviour of the marts on the seeded warehouse plus its scenarios (tests.warehouse_fixtures
seed_scenarios): member history at the time of an item, review overrides, the review queue's
order, spike detection, renewal outcomes, and the columns the dashboard reads."""

from __future__ import annotations

import itertools
import json
import re
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.app.marts_fixture import write_marts
from tests.dbt import expected
from tests.warehouse_fixtures import (
    LAPSED_MEMBER_ID,
    RENEWED_MEMBER_ID,
    REPO_ROOT,
    SPIKE_CHAPTER,
    SPIKE_TOPIC,
    SPIKE_WEEK,
)

SENTINEL = datetime(1900, 1, 1)


def _project_vars() -> dict:
    import yaml

    return yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]


# --- member history --------------------------------------------------------------------------


def test_member_history_versions_tile_time_without_overlap(con: duckdb.DuckDBPyConnection) -> None:
    versions: dict[str, list[tuple]] = defaultdict(list)
    for member_id, valid_from, valid_to, is_current in con.execute(
        "select member_id, valid_from, valid_to, is_current from marts.dim_member_history"
    ).fetchall():
        versions[member_id].append((valid_from, valid_to, is_current))
    members = {r[0] for r in con.execute("select member_id from marts.dim_members").fetchall()}
    assert set(versions) == members
    for member_id, rows in versions.items():
        rows.sort()
        assert rows[0][0] == SENTINEL, member_id
        for (_, end, _), (start, _, _) in itertools.pairwise(rows):
            assert end == start, f"{member_id}: gap or overlap at {end} / {start}"
        assert rows[-1][1] is None and rows[-1][2] is True, member_id
        assert [r[2] for r in rows[:-1]] == [False] * (len(rows) - 1), member_id
    # Members whose attributes changed inside the item window have two versions each.
    assert len(versions["M0003"]) == 2 and len(versions["M0005"]) == 2


def test_member_history_reproduces_the_change_log(con: duckdb.DuckDBPyConnection) -> None:
    at = expected.segment_at(con)
    for member_id, valid_from, tier, chapter in con.execute(
        "select member_id, valid_from, tier, chapter from marts.dim_member_history"
    ).fetchall():
        assert (tier, chapter) == at(member_id, valid_from), (member_id, valid_from)


def test_fct_feedback_segments_each_item_as_the_member_was_then(
    con: duckdb.DuckDBPyConnection,
) -> None:
    by_id = expected.items(con)
    rows = con.execute(
        "select f.item_id, f.member_tier, f.member_chapter, m.tier, m.chapter "
        "from marts.fct_feedback f left join marts.dim_members m using (member_id)"
    ).fetchall()
    then_differs_from_now = 0
    for item_id, tier, chapter, current_tier, current_chapter in rows:
        assert (tier, chapter) == (by_id[item_id].tier, by_id[item_id].chapter), item_id
        then_differs_from_now += current_tier is not None and (tier, chapter) != (
            current_tier,
            current_chapter,
        )
    # The seed changes M0003's tier and M0005's chapter inside the item window: some items
    # must show the old segment, or this test could not tell "then" from "now".
    assert then_differs_from_now >= 2
    assert con.execute(
        "select distinct member_chapter from marts.fct_feedback "
        "where member_id = 'M0005' and created_at < timestamp '2026-02-20' "
    ).fetchall() == [("North",)]


# --- review decisions ------------------------------------------------------------------------


def test_the_latest_correction_wins_and_the_model_label_is_kept(
    con: duckdb.DuckDBPyConnection, built: dict
) -> None:
    scenarios = built["scenarios"]
    assert con.execute(
        "select sentiment_label, model_sentiment_label, urgency_level, is_sentiment_overridden, "
        "decision_count from marts.fct_feedback where item_id = ?",
        [scenarios["corrected_twice"]],
    ).fetchone() == ("positive", "negative", "low", True, 2)
    # The failed item a reviewer labelled counts as labelled in the aggregate, not as failed.
    item = con.execute(
        "select created_date, channel, member_tier, member_chapter, sentiment_label, "
        "case_action from marts.fct_feedback where item_id = ?",
        [scenarios["failed_reviewed"]],
    ).fetchone()
    assert item[4:] == ("negative", "approve")
    negative, overridden = con.execute(
        "select sum(negative_count), sum(overridden_count) from marts.agg_sentiment_daily "
        "where created_date = ? and channel = ? and member_tier = ? and member_chapter = ?",
        list(item[:4]),
    ).fetchone()
    assert negative >= 1 and overridden >= 1
    # Every final label equals the hand-computed one (latest decision per field).
    by_id = expected.items(con)
    for item_id, sentiment, urgency, primary in con.execute(
        "select item_id, sentiment_label, urgency_level, primary_topic from marts.fct_feedback"
    ).fetchall():
        want = by_id[item_id]
        assert (sentiment, urgency, primary) == (want.sentiment, want.urgency, want.primary_topic)


# --- review queue ----------------------------------------------------------------------------


def test_review_queue_holds_the_right_items_in_priority_order(
    con: duckdb.DuckDBPyConnection,
) -> None:
    threshold = float(_project_vars()["review_low_confidence_threshold"])
    by_id = expected.items(con)

    def reason(item: expected.Item) -> str | None:
        if (item.model_sentiment, item.model_urgency) == ("negative", "high") or (
            item.sentiment,
            item.urgency,
        ) == ("negative", "high"):
            return "high_urgency_negative"
        if item.status == "ok" and item.confidence < threshold:
            return "low_confidence"
        if item.status == "failed":
            return "model_failure"
        return None

    want = {i.item_id: reason(i) for i in by_id.values() if reason(i)}
    # The documented order (the model's header): priority, confidence, newest, id.
    rows = con.execute(
        "select queue_priority, item_id, queue_reason, created_at, sentiment_confidence, "
        "is_decided, queue_confidence from marts.review_queue "
        "order by queue_priority, queue_confidence, created_at desc, item_id"
    ).fetchall()
    assert {r[1]: r[2] for r in rows} == want
    assert {"high_urgency_negative", "low_confidence", "model_failure"} == set(want.values())

    priority = ["high_urgency_negative", "low_confidence", "model_failure"]
    assert all(r[0] == priority.index(r[2]) + 1 for r in rows)
    assert all(r[6] == (r[4] if r[2] == "low_confidence" else None) for r in rows)
    reasons = [r[2] for r in rows]
    assert reasons == sorted(reasons, key=priority.index), "reasons out of priority order"
    for name, sort_key in (
        ("high_urgency_negative", lambda r: (-r[3].timestamp(), r[1])),
        ("low_confidence", lambda r: (r[4], -r[3].timestamp(), r[1])),
        ("model_failure", lambda r: (-r[3].timestamp(), r[1])),
    ):
        block = [r for r in rows if r[2] == name]
        assert block == sorted(block, key=sort_key), name
    assert {r[1] for r in rows if r[5]} == {i.item_id for i in by_id.values() if i.decided} & set(
        want
    )


# --- emerging issues -------------------------------------------------------------------------


def test_the_seeded_spike_is_flagged_with_evidence(
    con: duckdb.DuckDBPyConnection, built: dict
) -> None:
    spike = con.execute(
        "select is_spike, negative_count, evidence_item_ids from marts.emerging_issues "
        "where week_start = ? and topic_key = ? and segment_type = 'chapter' "
        "and segment_value = ?",
        [SPIKE_WEEK, SPIKE_TOPIC, SPIKE_CHAPTER],
    ).fetchone()
    assert spike[0] is True
    assert spike[1] >= len(built["scenarios"]["spike_item_ids"])
    evidence = spike[2].split(",")
    assert 1 <= len(evidence) <= 5
    assert set(evidence) <= set(built["scenarios"]["spike_item_ids"])
    # Among all members the rise shows too (robust_z far above the threshold), but whether that
    # row is flagged is the calibrated count test's call: the topic had 6 negatives two weeks
    # earlier, so its count_z stays near the threshold (the hand computation below checks it).
    robust_z = con.execute(
        "select robust_z from marts.emerging_issues where week_start = ? and topic_key = ? "
        "and segment_type = 'all'",
        [SPIKE_WEEK, SPIKE_TOPIC],
    ).fetchone()[0]
    assert robust_z >= _setting(_project_vars()["spike_z_threshold"])


def test_evidence_is_each_series_weeks_five_most_telling_mentions(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # Recomputed from the mentions: negative first, then high, medium, low urgency, then the
    # greatest item id; per week x topic x segment ('all', the tier, the chapter).
    mentions = con.execute(
        "select item_id, topic_key, topic_sentiment, urgency_level, member_tier, member_chapter, "
        "created_date from marts.fct_feedback_topics"
    ).fetchall()
    urgency_rank = {"high": 2, "medium": 1}
    groups = defaultdict(list)
    for item_id, topic, sentiment, urgency, tier, chapter, created in mentions:
        week = created - timedelta(days=created.weekday())
        key = (int(sentiment == "negative"), urgency_rank.get(urgency, 0), item_id)
        for segment in (("all", "all"), ("tier", tier), ("chapter", chapter)):
            groups[(week, topic, *segment)].append(key)
    expected_evidence = {
        group: ",".join(key[2] for key in sorted(keys, reverse=True)[:5])
        for group, keys in groups.items()
    }
    stored = con.execute(
        "select week_start, topic_key, segment_type, segment_value, evidence_item_ids "
        "from marts.emerging_issues"
    ).fetchall()
    assert {tuple(row[:4]): row[4] for row in stored if row[4] is not None} == expected_evidence
    assert all(row[4] is not None or tuple(row[:4]) not in groups for row in stored)


def test_quiet_series_are_never_flagged(con: duckdb.DuckDBPyConnection) -> None:
    # The same topic in the other chapters, and the weeks before the spike, stay quiet.
    assert not con.execute(
        "select week_start, segment_value from marts.emerging_issues where topic_key = ? "
        "and is_spike and ((segment_type = 'chapter' and segment_value <> ?) "
        "or (segment_type = 'all' and week_start < ? and negative_count < 5))",
        [SPIKE_TOPIC, SPIKE_CHAPTER, SPIKE_WEEK],
    ).fetchall()
    # 'advocacy' only ever gets positive mentions in the seed: never a spike.
    assert (
        con.execute(
            "select count(*), count(*) filter (where is_spike) from marts.emerging_issues "
            "where topic_key = 'advocacy'"
        ).fetchone()[1]
        == 0
    )
    # Nor is any week whose window (the week alone or the sustained window, whichever fired)
    # has fewer negative mentions than the minimum, or any week without a full baseline.
    v = _project_vars()
    assert not con.execute(
        "select 1 from marts.emerging_issues where is_spike and (case spike_window_weeks "
        "when 1 then negative_count else sustained_negative_count end < ? or baseline_weeks < ?)",
        [v["spike_min_negative_items"], v["spike_min_baseline_weeks"]],
    ).fetchall()


def _setting(value) -> float:
    """A spike var's default: a number, or the default of its env_var() template."""
    if isinstance(value, int | float):
        return float(value)
    return float(re.search(r"'([\d.]+)'\)", value).group(1))


def _window_stats(counts: list[tuple], i: int, weeks: int, baseline_weeks: int) -> dict | None:
    """The spike statistics of the `weeks` weeks ending at index i of a zero-filled series of
    (negatives, positives, labelled) against the `baseline_weeks` weeks before them."""
    window = counts[max(0, i - weeks + 1) : i + 1]
    baseline = counts[max(0, i - weeks - baseline_weeks + 1) : max(0, i - weeks + 1)]
    if not baseline:
        return None
    neg, pos, lab = (sum(c[k] for c in window) for k in range(3))
    b_neg, b_pos, b_lab = (sum(c[k] for c in baseline) for k in range(3))
    negatives = [c[0] for c in baseline]
    median = statistics.median(negatives)
    mad = statistics.median(abs(b - median) for b in negatives)
    ratio = weeks / len(baseline)
    p0 = (b_neg + 1) / (b_lab + 3)
    pooled = (neg + b_neg + 1) / (lab + b_lab + 3)
    nss = 100 * (pos - neg) / lab if lab else None
    return {
        "baseline_weeks": len(baseline),
        "negatives": neg,
        "robust_z": (neg - weeks * median)
        / max(1.4826 * mad * weeks**0.5, max(weeks * median, 1) ** 0.5),
        "count_z": 2
        * ((neg + 0.375) ** 0.5 - (ratio * (b_neg + 0.375)) ** 0.5)
        / (1 + ratio) ** 0.5,
        "share_z": ((neg - 0.5) / lab - p0)
        / (pooled * (1 - pooled) * (1 / lab + 1 / (b_lab + 3))) ** 0.5
        if lab
        else None,
        "nss_drop": None if nss is None else nss - (100 * (b_pos - b_neg) / b_lab if b_lab else 0),
    }


def test_spike_statistics_and_flag_match_a_hand_computation(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Recompute every week x series of emerging_issues from fct_feedback_topics."""
    v = _project_vars()
    k, sustained = v["spike_baseline_weeks"], v["spike_sustained_weeks"]
    counts: dict[tuple, list] = defaultdict(lambda: [0, 0, 0])
    for topic, sentiment, tier, chapter, week in con.execute(
        "select topic_key, topic_sentiment, member_tier, member_chapter, "
        "cast(date_trunc('week', created_date) as date) from marts.fct_feedback_topics"
    ).fetchall():
        for segment in (("all", "all"), ("tier", tier), ("chapter", chapter)):
            cell = counts[(topic, *segment, week)]
            cell[0] += sentiment == "negative"
            cell[1] += sentiment == "positive"
            cell[2] += sentiment in ("positive", "neutral", "negative")

    def passes(stats: dict | None) -> bool:
        return (
            stats is not None
            and stats["baseline_weeks"] >= v["spike_min_baseline_weeks"]
            and stats["robust_z"] >= _setting(v["spike_z_threshold"])
            and stats["count_z"] >= _setting(v["spike_z_threshold"])
            and stats["share_z"] is not None
            and stats["share_z"] >= _setting(v["spike_min_share_z"])
            and stats["negatives"] >= v["spike_min_negative_items"]
            and stats["nss_drop"] is not None
            and stats["nss_drop"] <= -v["spike_min_nss_drop"]
        )

    series: dict[tuple, list[tuple]] = defaultdict(list)
    for row in con.execute(
        "select topic_key, segment_type, segment_value, week_start, robust_z, count_z, share_z, "
        "sustained_robust_z, sustained_count_z, sustained_share_z, spike_window_weeks, is_spike "
        "from marts.emerging_issues order by week_start"
    ).fetchall():
        series[row[:3]].append(row[3:])
    weeks = sorted({w for rows in series.values() for w, *_ in rows})
    flagged = 0
    for key, rows in series.items():
        assert [r[0] for r in rows] == weeks, f"{key}: not zero-filled over every week"
        cells = [tuple(counts.get((*key, week), (0, 0, 0))) for week in weeks]
        for i, (week, *stats) in enumerate(rows):
            z, count_z, share_z, s_z, s_count_z, s_share_z, window, is_spike = stats
            one, longer = _window_stats(cells, i, 1, k), _window_stats(cells, i, sustained, k)
            if one is None:
                assert z is None and is_spike is False, (key, week)
                continue
            assert z == pytest.approx(one["robust_z"], abs=1e-4), (key, week)
            assert count_z == pytest.approx(one["count_z"], abs=1e-4), (key, week)
            assert share_z == pytest.approx(one["share_z"], abs=1e-4), (key, week)
            if longer is not None and sustained > 1:
                assert s_z == pytest.approx(longer["robust_z"], abs=1e-4), (key, week)
                assert s_count_z == pytest.approx(longer["count_z"], abs=1e-4), (key, week)
                assert s_share_z == pytest.approx(longer["share_z"], abs=1e-4), (key, week)
            week_spike = passes(one)
            sustained_spike = (
                sustained > 1
                and passes(longer)
                and one["share_z"] is not None
                and one["share_z"] >= v["spike_min_week_share_z"]
            )
            assert is_spike is (week_spike or sustained_spike), (key, week)
            assert window == (1 if week_spike else sustained if sustained_spike else None)
            flagged += is_spike
    assert 0 < flagged < len(series) // 4


# --- renewal outcomes ------------------------------------------------------------------------


def test_renewal_outcomes_report_the_closed_windows_and_their_sentiment(
    con: duckdb.DuckDBPyConnection,
) -> None:
    v = _project_vars()
    grace, lookback = v["renewal_grace_days"], v["renewal_lookback_days"]
    by_id = expected.items(con)
    want = {}
    for member_id, join, paid_through, synced_at in con.execute(
        "select member_id, join_date, paid_through, synced_at from raw.members"
    ).fetchall():
        if paid_through is None:
            continue
        observed = synced_at.date()
        previous = paid_through.replace(year=paid_through.year - 1)
        if paid_through + timedelta(days=grace) < observed:
            due, renewed = paid_through, False
        elif previous + timedelta(days=grace) < observed and (join is None or join < previous):
            due, renewed = previous, True
        else:
            continue
        window = [
            i
            for i in by_id.values()
            if i.member_id == member_id and due - timedelta(days=lookback) <= i.created_date <= due
        ]
        labelled = [i.sentiment for i in window if i.sentiment]
        pos, neg = labelled.count("positive"), labelled.count("negative")
        nss = round(100 * (pos - neg) / len(labelled), 2) if labelled else None
        want[member_id] = (due, renewed, len(window), len(labelled), nss)
    rows = con.execute(
        "select member_id, renewal_due_date, is_renewed, item_count, labelled_count, "
        "net_sentiment_score from marts.fct_renewal_outcomes"
    ).fetchall()
    got = {r[0]: tuple(r[1:]) for r in rows}
    assert got.keys() == want.keys()
    for member_id, row in got.items():
        assert row[:4] == want[member_id][:4], member_id
        assert row[4] == pytest.approx(want[member_id][4]), member_id
    # The planted pair: one lapsed with mostly negative feedback, one renewed and positive.
    assert got[LAPSED_MEMBER_ID][1:] == (False, 3, 3, pytest.approx(-33.33))
    assert got[RENEWED_MEMBER_ID][1:] == (True, 1, 1, pytest.approx(100.0))
    assert "M0021" not in got  # no paid-through date: no window


# --- the dashboard's contract ----------------------------------------------------------------


def _family(data_type: str) -> str:
    if data_type.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")):
        return "number"
    if data_type in {"BIGINT", "INTEGER", "HUGEINT", "SMALLINT"}:
        return "integer"
    return data_type


def test_marts_provide_every_column_the_dashboard_fixture_has(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """tests/app/marts_fixture.py is the app team's picture of the marts: every table and
    column it has must exist in the real marts with the same type (numbers compared as such:
    the fixture's literal robust_z is a DECIMAL, the mart a DOUBLE)."""
    write_marts(tmp_path / "marts.duckdb")
    with duckdb.connect(str(tmp_path / "marts.duckdb"), read_only=True) as fixture:
        wanted = fixture.execute(
            "select table_name, column_name, data_type from information_schema.columns"
        ).fetchall()
    real = {
        (t, c): ty
        for t, c, ty in con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts'"
        ).fetchall()
    }
    problems = [
        f"{t}.{c}: fixture {ty}, mart {real.get((t, c), 'missing')}"
        for t, c, ty in wanted
        if _family(real.get((t, c), "missing")) != _family(ty)
    ]
    assert not problems, problems


def test_the_exposure_declares_every_mart_the_app_reads(built: dict) -> None:
    source = (REPO_ROOT / "app" / "data.py").read_text()
    manifest = json.loads((built["home"] / "dbt_target" / "manifest.json").read_text())
    marts = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    read = {name for name in re.findall(r"(?:from|join)\s+(\w+)", source) if name in marts}
    assert {"fct_feedback", "review_queue", "emerging_issues"} <= read
    (exposure,) = manifest["exposures"].values()
    declared = {node.split(".")[-1] for node in exposure["depends_on"]["nodes"]}
    assert read <= declared


STABLE_COLUMNS = {
    # The contract for BI tools: these names do not change.
    "fct_feedback": [
        "item_id",
        "source_name",
        "source_key",
        "channel",
        "created_at",
        "member_id",
        "member_tier",
        "member_chapter",
        "member_tenure_band",
        "member_renewal_window",
        "redacted_text",
        "sentiment_label",
        "model_sentiment_label",
        "sentiment_score",
        "sentiment_confidence",
        "urgency_level",
        "primary_topic",
        "language",
        "enrichment_status",
    ],
    "fct_feedback_topics": ["item_id", "topic_key", "topic_sentiment", "evidence"],
    "dim_member_history": ["member_id", "tier", "chapter", "valid_from", "valid_to"],
    "review_queue": ["item_id", "queue_priority", "queue_reason"],
    "fct_renewal_outcomes": ["member_id", "renewal_due_date", "is_renewed", "net_sentiment_score"],
}


@pytest.mark.parametrize("mart", sorted(STABLE_COLUMNS))
def test_marts_keep_their_stable_column_names(con: duckdb.DuckDBPyConnection, mart: str) -> None:
    columns = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = ?",
            [mart],
        ).fetchall()
    }
    assert set(STABLE_COLUMNS[mart]) <= columns, set(STABLE_COLUMNS[mart]) - columns
