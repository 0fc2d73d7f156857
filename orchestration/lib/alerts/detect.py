"""What deserves an alert, read from the PUBLISHED marts (marts.duckdb) with one short
read-only connection: spikes of `emerging_issues` and new high-urgency items of `fct_feedback`.

Each alert has a key that names the issue and its period (`spike:<topic>:<week>`,
`urgent:<item>`, `run_failure:<run>`), so the alert log sends it once however often the
sensor looks. A spike is one issue however many segments show it: the week's flagged rows of
a topic (all members, tiers, chapters) make one alert that lists them, so an incident does not
page staff once per segment. A topic flagged in consecutive weeks is one issue too: every week
of the run is keyed by its first week, so staff hear of an ongoing incident once, and again
only when it returns after a quiet week. Messages carry topics, segments, counts and links,
never item text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb

SPIKES_SQL = """
select week_start, topic_key, topic_label, segment_type, segment_value, item_count,
       negative_count, net_sentiment_score, nss_change, robust_z, evidence_item_ids
from emerging_issues
where is_spike and week_start >= ?
order by week_start, topic_key, segment_type = 'all' desc, robust_z desc, segment_type,
         segment_value
"""
LATEST_WEEK_SQL = "select max(week_start) from emerging_issues"
SPIKE_RUN_WEEKS = 26  # how far back a run of consecutive flagged weeks is traced
URGENT_SQL = """
select item_id, channel, created_at, primary_topic, sentiment_label
from fct_feedback
where urgency_level = 'high' and created_at >= ?
order by created_at, item_id
"""
LATEST_ITEM_SQL = "select max(created_at) from fct_feedback"


@dataclass(frozen=True)
class Alert:
    key: str  # issue + period: the de-duplication key
    kind: str  # spike | urgent_item | run_failure | check_failure
    title: str
    text: str
    link: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "n/a"
    return format(value, spec) if spec else str(value)


def _segment(row: dict[str, Any]) -> str:
    if row["segment_type"] == "all":
        return "all members"
    return f"{row['segment_type']} {row['segment_value']}"


def _spike_figures(row: dict[str, Any]) -> str:
    return (
        f"{row['negative_count']} negative of {row['item_count']} mentions, "
        f"NSS {_fmt(row.get('net_sentiment_score'), '.0f')} "
        f"(change {_fmt(row.get('nss_change'), '+.0f')}), robust z {_fmt(row.get('robust_z'), '.1f')}"
    )


def spike_alert(rows: list[dict[str, Any]], app_url: str, since_week: Any = None) -> Alert:
    """One alert for a topic's flagged rows of one week. `rows` come in SPIKES_SQL's order, so
    the first is the headline: all members when flagged, else the segment with the largest z.
    `since_week`: the first week of the run of consecutive flagged weeks this one belongs to
    (the issue's key; this week when not given)."""
    head = rows[0]
    week = head["week_start"]
    week_text = week.isoformat() if isinstance(week, date) else str(week)
    label = head.get("topic_label") or head["topic_key"]
    params: dict[str, str] = {"topic": head["topic_key"]}
    if head["segment_type"] in ("tier", "chapter"):
        params[head["segment_type"]] = str(head["segment_value"])
    link = f"{app_url}/emerging?{urlencode(params)}"
    text = f"Emerging issue: {label} among {_segment(head)}, week of {week_text}: {_spike_figures(head)}."
    if len(rows) > 1:
        text += (
            " Also spiking among "
            + "; ".join(f"{_segment(r)} ({_spike_figures(r)})" for r in rows[1:])
            + "."
        )
    nss_change = head.get("nss_change")
    evidence = list(head.get("evidence_item_ids") or [])
    since = since_week if since_week is not None else week
    since_text = since.isoformat() if isinstance(since, date) else str(since)
    return Alert(
        key=f"spike:{head['topic_key']}:{since_text}",
        kind="spike",
        title=f"Member Pulse: {label} spiking among {_segment(head)}",
        text=text,
        link=link,
        fields={
            "topic": label,
            "topic_key": head["topic_key"],
            "segment": _segment(head),
            "segments": ", ".join(_segment(r) for r in rows),
            "week_start": week_text,
            "spike_size": int(head["negative_count"]),
            "mentions": int(head["item_count"]),
            "nss_change": None if nss_change is None else round(float(nss_change), 1),
            "evidence_items": len(evidence),
        },
    )


def spike_alerts(rows: list[dict[str, Any]], app_url: str, from_week: Any = None) -> list[Alert]:
    """One alert per topic and run of consecutive flagged weeks, from SPIKES_SQL rows, for the
    weeks from `from_week` on (earlier rows only tell where a run began)."""
    grouped: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["week_start"], row["topic_key"]), []).append(row)
    run_start: dict[tuple[Any, str], Any] = {}
    for week, topic in sorted(grouped, key=lambda k: (k[1], k[0])):
        previous = (week - timedelta(weeks=1), topic)
        run_start[week, topic] = run_start.get(previous, week)
    return [
        spike_alert(group, app_url, run_start[week, topic])
        for (week, topic), group in grouped.items()
        if from_week is None or week >= from_week
    ]


def urgent_alert(row: dict[str, Any], app_url: str) -> Alert:
    created = row["created_at"]
    when = created.strftime("%Y-%m-%d %H:%M") if isinstance(created, datetime) else str(created)
    topic = row.get("primary_topic") or "no topic"
    return Alert(
        key=f"urgent:{row['item_id']}",
        kind="urgent_item",
        title=f"Member Pulse: high-urgency {row['channel']} feedback on {topic}",
        text=(
            f"New high-urgency item {row['item_id']} ({row['channel']}, {when}), "
            f"sentiment {row.get('sentiment_label') or 'unlabelled'}, topic {topic}. "
            "Open it in the review queue."
        ),
        link=f"{app_url}/review?{urlencode({'item': row['item_id']})}",
        fields={"item_id": row["item_id"], "channel": row["channel"], "topic": topic},
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "select 1 from information_schema.tables where table_name = ?", [name]
    ).fetchall()
    return bool(rows)


def read_alerts(
    marts: Path,
    app_url: str,
    *,
    spike_lookback_weeks: int = 1,
    urgent_items: bool = True,
    urgent_lookback_days: int = 2,
) -> list[Alert]:
    """Spikes of the latest week(s) and high-urgency items close to the newest item.

    "Latest" is the data's own clock (the newest week and item in the marts), so a first
    evaluation never replays the whole history, and a stalled pipeline raises nothing new.
    """
    con = duckdb.connect(str(marts), read_only=True, config={"threads": 1, "memory_limit": "256MB"})
    try:
        alerts: list[Alert] = []
        if _has_table(con, "emerging_issues"):
            latest = con.execute(LATEST_WEEK_SQL).fetchall()[0][0]
            if latest is not None:
                since = latest - timedelta(weeks=spike_lookback_weeks)
                # Earlier weeks too, to find where a run of flagged weeks began.
                rows = _rows(con, SPIKES_SQL, [since - timedelta(weeks=SPIKE_RUN_WEEKS)])
                alerts += spike_alerts(rows, app_url, from_week=since)
        if urgent_items and _has_table(con, "fct_feedback"):
            newest = con.execute(LATEST_ITEM_SQL).fetchall()[0][0]
            if newest is not None:
                since = newest - timedelta(days=urgent_lookback_days)
                alerts += [urgent_alert(r, app_url) for r in _rows(con, URGENT_SQL, [since])]
        return alerts
    finally:
        con.close()


def check_failure_alert(
    asset: str, check: str, run_id: str, description: str | None, dagster_url: str
) -> Alert:
    """A failed asset check (row counts, residual PII, coverage, dbt tests): once per run."""
    return Alert(
        key=f"check_failure:{run_id}:{asset}:{check}",
        kind="check_failure",
        title=f"Member Pulse: check {check} failed on {asset}",
        text=f"Asset check {check} on {asset} failed in run {run_id[:8]}. "
        f"{(description or '')[:300]}".strip(),
        link=f"{dagster_url}/runs/{run_id}",
        fields={"asset": asset, "check": check, "run_id": run_id},
    )


def run_failure_alert(
    run_id: str, job_name: str, message: str | None, failed_steps: list[str], dagster_url: str
) -> Alert:
    steps = ", ".join(failed_steps[:10]) or "unknown step"
    return Alert(
        key=f"run_failure:{run_id}",
        kind="run_failure",
        title=f"Member Pulse: Dagster run of {job_name} failed",
        text=f"Run {run_id[:8]} of {job_name} failed in {steps}. {(message or '')[:300]}".strip(),
        link=f"{dagster_url}/runs/{run_id}",
        fields={"run_id": run_id, "job": job_name, "failed_steps": failed_steps[:10]},
    )
