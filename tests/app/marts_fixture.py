"""A small published `marts.duckdb` for the dashboard's tests, written directly (no dbt).

`write_marts(path)` creates the marts the app reads (fct_feedback, fct_feedback_topics,
dim_topics, agg_sentiment_daily, agg_topic_sentiment_daily, emerging_issues, review_queue)
with the columns the dbt models publish, and deterministic rows: two chapters (North, South),
three tiers, four channels over 12 weeks ending on END_DATE, every sentiment, failed and
pending items, a spike of negative 'website_login' items in North in the last week, and queue
items of every reason. Evidence quotes are exact substrings of the redacted text. Same call,
same rows: tests compute expected figures from the returned `Marts` or by querying the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

END_DATE = date(2026, 3, 1)  # a Sunday: the last (ISO) week is 2026-02-23 .. 2026-03-01
WEEKS = 12
CHANNELS = ("email", "survey", "community", "case")
SOURCE_BY_CHANNEL = {c: f"imis_{c}" for c in CHANNELS}
TIERS = ("Regular", "Student", "Fellow")
CHAPTERS = ("North", "South")
# dim_segments: names for some codes; "Fellow" and "South" have none and show as their codes.
SEGMENT_NAMES = {
    "tier": {"Regular": "Regular Member", "Student": "Student Member"},
    "chapter": {"North": "Northern Lakes"},
}
TENURE_BANDS = ("< 1 year", "1-2 years", "3-5 years", "6-10 years", "11+ years")
RENEWAL_WINDOWS = ("lapsed", "0-30 days", "31-90 days", "91+ days")
MODEL_ID = "builtin:v1"
PROMPT_VERSION = "p3"
TAXONOMY_VERSION = "2025.1+abc"
SPIKE_TOPIC = "website_login"
SPIKE_CHAPTER = "North"
# An item whose redacted text carries markup: the app must show it as text, never render it.
HTML_ITEM_ID = "imis_email:HTML1"
HTML_TEXT = 'Hi team, <script>alert("x")</script> the <b>conference app</b> crashed.'

TOPICS = {
    "annual_conference": (
        "Annual conference",
        "The annual conference: sessions, speakers, venue and hotel block.",
    ),
    "renewal_billing": (
        "Renewal and billing",
        "Renewing a membership and paying for it: invoices, double charges, refunds.",
    ),
    "website_login": (
        "Website login and account access",
        "Signing in to the member portal, passwords, locked accounts.",
    ),
    "advocacy_policy": (
        "Advocacy and public policy",
        "The association's advocacy work on legislation and regulation.",
    ),
}
PROPOSED_TOPIC = ("proposed:parking_at_venue", "Parking at the venue")

# (topic, sentiment) -> the sentence that is also the evidence quote.
PHRASES = {
    ("annual_conference", "positive"): "The annual conference sessions were excellent",
    ("annual_conference", "neutral"): "I attended the conference in the spring",
    ("annual_conference", "negative"): "The conference hotel block sold out far too early",
    ("renewal_billing", "positive"): "Renewing online took two minutes, thank you",
    ("renewal_billing", "neutral"): "Please send a receipt for my last payment",
    ("renewal_billing", "negative"): "I was charged twice for my renewal",
    ("website_login", "positive"): "The new portal login is much faster",
    ("website_login", "neutral"): "Where do I reset my portal password",
    ("website_login", "negative"): "The member portal login keeps failing",
    ("advocacy_policy", "positive"): "Thanks for the advocacy work on the licensing bill",
    ("advocacy_policy", "neutral"): "What is the position on the new licensing rules",
    ("advocacy_policy", "negative"): "The advocacy update ignored small practices",
}
_SENTIMENTS = ("positive", "positive", "neutral", "negative", "negative")
_SCORES = {"positive": 0.6, "neutral": 0.0, "negative": -0.7}
N_BASE_ITEMS = 120
N_SPIKE_ITEMS = 10


@dataclass
class Marts:
    path: Path
    feedback: list[dict] = field(default_factory=list)
    topics: list[dict] = field(default_factory=list)

    def items(self, **where: object) -> list[dict]:
        return [r for r in self.feedback if all(r[k] == v for k, v in where.items())]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _item(i: int, *, spike: bool = False) -> tuple[dict, list[dict]]:
    if spike:
        k = i - N_BASE_ITEMS
        days_back, channel = k % 5, CHANNELS[k % 4]
        chapter, tier = SPIKE_CHAPTER, TIERS[k % 3]
        topic, sentiment, status = SPIKE_TOPIC, "negative", "ok"
    else:
        days_back, channel = (i * 5) % (WEEKS * 7), CHANNELS[i % 4]
        chapter, tier = CHAPTERS[i % 2], TIERS[(i // 2) % 3]
        topic = list(TOPICS)[(i // 3) % len(TOPICS)]
        sentiment = _SENTIMENTS[i % 5]
        status = "failed" if i % 17 == 9 else "pending" if i % 23 == 11 else "ok"
    day = END_DATE - timedelta(days=days_back)
    created_at = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, minutes=i)
    source_name = SOURCE_BY_CHANNEL[channel]
    item_id = f"{source_name}:{1000 + i}"
    phrase = PHRASES[(topic, sentiment)]
    extra = [(PROPOSED_TOPIC[0], "negative", "There was no parking near the venue")] * (i % 19 == 3)
    text = f"Hi team, {phrase}. " + "".join(f"{e[2]}. " for e in extra) + "Thanks, <PERSON_1>."
    ok = status == "ok"
    high = ok and sentiment == "negative" and (spike or i % 3 == 0)
    urgency = None if not ok else "high" if high else "medium" if sentiment == "negative" else "low"
    confidence = round(0.5 + (i % 10) * 0.05, 3) if ok else None
    overridden = ok and i == 7
    row = {
        "item_id": item_id,
        "source_name": source_name,
        "source_key": str(1000 + i),
        "channel": channel,
        "created_at": created_at,
        "created_date": day,
        "member_id": f"M{(i % 40) + 1:04d}",
        "member_tier": tier,
        "member_chapter": chapter,
        "member_status": "active",
        "member_tenure_band": TENURE_BANDS[i % len(TENURE_BANDS)],
        "member_renewal_window": RENEWAL_WINDOWS[i % len(RENEWAL_WINDOWS)],
        "redacted_text": text,
        "question": "What could we do better?" if channel == "survey" else None,
        "sentiment_label": ("neutral" if overridden else sentiment) if ok else None,
        "model_sentiment_label": sentiment if ok else None,
        "is_sentiment_overridden": overridden,
        "sentiment_score": _SCORES[sentiment] if ok else None,
        "sentiment_confidence": confidence,
        "urgency_level": urgency,
        "urgency_reasons": '["member at risk of lapsing"]' if high else "[]" if ok else None,
        "primary_topic": topic if ok else None,
        "language": "en",
        "summary": f"Member writes about {TOPICS[topic][0].lower()}." if ok else None,
        "enrichment_status": status,
        "failure_reason": "evidence quote is not a substring of the text"
        if not ok and status == "failed"
        else None,
        "model_id": MODEL_ID,
        "prompt_version": PROMPT_VERSION,
        "is_high_urgency": high,
    }
    topics = []
    if ok:
        for key, topic_sentiment, evidence in [(topic, sentiment, phrase), *extra]:
            assert evidence in text
            topics.append(
                {
                    "item_id": item_id,
                    "topic_key": key,
                    "topic_label": PROPOSED_TOPIC[1]
                    if key.startswith("proposed:")
                    else TOPICS[key][0],
                    "proposed_label": PROPOSED_TOPIC[1] if key.startswith("proposed:") else None,
                    "topic_sentiment": topic_sentiment,
                    "evidence": evidence,
                    "created_date": day,
                    "channel": channel,
                    "member_tier": tier,
                    "member_chapter": chapter,
                }
            )
    return row, topics


def _html_item() -> tuple[dict, list[dict]]:
    row, _ = _item(1)
    day = END_DATE - timedelta(days=1)
    row.update(
        item_id=HTML_ITEM_ID,
        source_key="HTML1",
        channel="email",
        source_name="imis_email",
        created_date=day,
        created_at=datetime.combine(day, datetime.min.time()) + timedelta(hours=15),
        member_chapter="South",
        redacted_text=HTML_TEXT,
        sentiment_label="negative",
        model_sentiment_label="negative",
        is_sentiment_overridden=False,
        sentiment_score=-0.7,
        sentiment_confidence=0.9,
        urgency_level="medium",
        urgency_reasons="[]",
        primary_topic="annual_conference",
        summary="Member writes about the conference app.",
        enrichment_status="ok",
        failure_reason=None,
        is_high_urgency=False,
    )
    evidence = "the <b>conference app</b> crashed"
    assert evidence in HTML_TEXT
    topic = {
        "item_id": HTML_ITEM_ID,
        "topic_key": "annual_conference",
        "topic_label": "Annual conference",
        "proposed_label": None,
        "topic_sentiment": "negative",
        "evidence": evidence,
        "created_date": day,
        "channel": "email",
        "member_tier": row["member_tier"],
        "member_chapter": "South",
    }
    return row, [topic]


FEEDBACK_DDL = """
create table fct_feedback (
    item_id varchar, source_name varchar, source_key varchar, channel varchar,
    created_at timestamp, created_date date, member_id varchar, member_tier varchar,
    member_chapter varchar, member_status varchar, member_tenure_band varchar,
    member_renewal_window varchar, redacted_text varchar, question varchar,
    sentiment_label varchar, model_sentiment_label varchar, is_sentiment_overridden boolean,
    sentiment_score double, sentiment_confidence double, urgency_level varchar,
    urgency_reasons varchar, primary_topic varchar, language varchar, summary varchar,
    enrichment_status varchar, failure_reason varchar, model_id varchar, prompt_version varchar,
    is_high_urgency boolean
);
create table fct_feedback_topics (
    item_id varchar, topic_key varchar, topic_label varchar, proposed_label varchar,
    topic_sentiment varchar, evidence varchar, created_date date, channel varchar,
    member_tier varchar, member_chapter varchar,
    is_proposed boolean generated always as (topic_key like 'proposed:%') virtual
);
create table dim_topics (
    topic_key varchar, topic_label varchar, description varchar, is_proposed boolean,
    taxonomy_version varchar
);
"""

DIM_SEGMENTS_SQL = """
create table dim_segments as
with codes as (
    select distinct 'tier' as segment_type, member_tier as segment_code from agg_sentiment_daily
    union
    select distinct 'chapter', member_chapter from agg_sentiment_daily
),
names as (select * from segment_names)
select
    codes.segment_type,
    codes.segment_code,
    coalesce(names.segment_label, codes.segment_code) as segment_label,
    case when names.segment_label is null then 'code'
         when codes.segment_type = 'tier' then 'imis' else 'chapter_names' end as label_source
from codes
left join names using (segment_type, segment_code)
"""


def _write_dim_segments(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create temp table segment_names (segment_type varchar, segment_code varchar, "
        "segment_label varchar)"
    )
    con.executemany(
        "insert into segment_names values (?, ?, ?)",
        [
            (kind, code, name)
            for kind, names in SEGMENT_NAMES.items()
            for code, name in names.items()
        ],
    )
    con.execute(DIM_SEGMENTS_SQL)


AGG_SQL = """
create table agg_sentiment_daily as
select
    created_date, channel, coalesce(primary_topic, 'none') as primary_topic,
    member_tier, member_chapter,
    count(*)::bigint as item_count,
    count(*) filter (where sentiment_label = 'positive')::bigint as positive_count,
    count(*) filter (where sentiment_label = 'neutral')::bigint as neutral_count,
    count(*) filter (where sentiment_label = 'negative')::bigint as negative_count,
    count(*) filter (where sentiment_label is not null)::bigint as labelled_count,
    count(*) filter (where enrichment_status = 'failed')::bigint as failed_count,
    count(*) filter (where enrichment_status = 'pending')::bigint as pending_count,
    round(100.0 * (count(*) filter (where sentiment_label = 'positive')
        - count(*) filter (where sentiment_label = 'negative'))
        / nullif(count(*) filter (where sentiment_label is not null), 0), 2)
        as net_sentiment_score,
    round(avg(sentiment_confidence), 4) as avg_confidence,
    count(*) filter (where urgency_level = 'high')::bigint as high_urgency_count
from fct_feedback
group by all
order by created_date
"""

AGG_TOPICS_SQL = """
create table agg_topic_sentiment_daily as
select
    created_date, topic_key, channel, member_tier, member_chapter,
    min(topic_label) as topic_label,
    count(*)::bigint as mention_count,
    count(*) filter (where topic_sentiment = 'positive')::bigint as positive_count,
    count(*) filter (where topic_sentiment = 'neutral')::bigint as neutral_count,
    count(*) filter (where topic_sentiment = 'negative')::bigint as negative_count
from fct_feedback_topics
group by all
order by created_date, topic_key, channel, member_tier, member_chapter
"""

# Weekly topic counts per segment ('all', each tier, each chapter) against the mean of the
# earlier weeks; the spike flag is set for the planted spike only, so tests know what to expect.
EMERGING_SQL = """
create table emerging_issues as
with segmented as (
    select date_trunc('week', created_date)::date as week_start, topic_key, topic_label,
           'all' as segment_type, 'all' as segment_value, item_id, topic_sentiment
    from fct_feedback_topics where topic_key not like 'proposed:%'
    union all
    select date_trunc('week', created_date)::date, topic_key, topic_label, 'tier',
           member_tier, item_id, topic_sentiment
    from fct_feedback_topics where topic_key not like 'proposed:%'
    union all
    select date_trunc('week', created_date)::date, topic_key, topic_label, 'chapter',
           member_chapter, item_id, topic_sentiment
    from fct_feedback_topics where topic_key not like 'proposed:%'
),
weekly as (
    select week_start, topic_key, topic_label, segment_type, segment_value,
           count(*)::bigint as item_count,
           count(*) filter (where topic_sentiment = 'negative')::bigint as negative_count,
           round(100.0 * (count(*) filter (where topic_sentiment = 'positive')
               - count(*) filter (where topic_sentiment = 'negative')) / count(*), 2)
               as net_sentiment_score,
           string_agg(item_id, ',' order by item_id) as all_ids
    from segmented group by all
),
scored as (
    select *,
        avg(item_count) over w as baseline_item_count,
        avg(net_sentiment_score) over w as baseline_nss
    from weekly
    window w as (partition by topic_key, segment_type, segment_value order by week_start
                 rows between 8 preceding and 1 preceding)
)
select
    week_start, topic_key, topic_label, segment_type, segment_value, item_count,
    negative_count, round(negative_count / item_count, 4) as negative_share,
    net_sentiment_score, round(baseline_item_count, 2) as baseline_item_count,
    round(baseline_nss, 2) as baseline_nss,
    round(net_sentiment_score - baseline_nss, 2) as nss_change,
    round(item_count / nullif(baseline_item_count, 0), 2) as volume_change_ratio,
    case when topic_key = $spike_topic and week_start = $last_week
              and segment_value in ('all', $spike_chapter) then 4.2 else 0.3 end as robust_z,
    (topic_key = $spike_topic and week_start = $last_week
        and segment_value in ('all', $spike_chapter)) as is_spike,
    array_to_string(list_slice(string_split(all_ids, ','), 1, 5), ',') as evidence_item_ids
from scored
"""

QUEUE_SQL = """
create table review_queue as
with candidates as (
    select *,
        case
            when sentiment_label = 'negative' and urgency_level = 'high'
                then 'high_urgency_negative'
            when enrichment_status = 'failed' then 'model_failure'
            when sentiment_confidence < 0.6 then 'low_confidence'
        end as queue_reason
    from fct_feedback
)
select
    item_id,
    case queue_reason when 'high_urgency_negative' then 1 when 'low_confidence' then 2
        else 3 end::integer as queue_priority,
    case when queue_reason = 'low_confidence' then sentiment_confidence end as queue_confidence,
    queue_reason, created_at, created_date, channel, source_name, member_id, member_tier,
    member_chapter, sentiment_label, sentiment_confidence, urgency_level, urgency_reasons,
    primary_topic, summary, redacted_text, enrichment_status, failure_reason,
    item_id = $decided_item as is_decided,
    case when item_id = $decided_item then timestamp '2026-03-01 12:00:00' end
        as latest_decision_at,
    case when item_id = $decided_item then 'approve' end as case_action
from candidates
where queue_reason is not null
order by created_date
"""


def write_marts(path: Path) -> Marts:
    """Write the marts to `path` (replacing it) and return the rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    marts = Marts(path=path)
    for i in range(N_BASE_ITEMS + N_SPIKE_ITEMS):
        row, topics = _item(i, spike=i >= N_BASE_ITEMS)
        marts.feedback.append(row)
        marts.topics.extend(topics)
    row, topics = _html_item()
    marts.feedback.append(row)
    marts.topics.extend(topics)

    decided = next(
        r["item_id"]
        for r in marts.feedback
        if r["is_high_urgency"] and r["sentiment_label"] == "negative"
    )
    with duckdb.connect(str(path)) as con:
        con.execute(FEEDBACK_DDL)
        _insert(con, "fct_feedback", marts.feedback)
        _insert(con, "fct_feedback_topics", marts.topics)
        _insert(
            con,
            "dim_topics",
            [
                {
                    "topic_key": key,
                    "topic_label": label,
                    "description": description,
                    "is_proposed": False,
                    "taxonomy_version": TAXONOMY_VERSION,
                }
                for key, (label, description) in TOPICS.items()
            ]
            + [
                {
                    "topic_key": PROPOSED_TOPIC[0],
                    "topic_label": PROPOSED_TOPIC[1],
                    "description": "Proposed by the model; not in the taxonomy yet.",
                    "is_proposed": True,
                    "taxonomy_version": TAXONOMY_VERSION,
                }
            ],
        )
        con.execute(AGG_SQL)
        _write_dim_segments(con)
        con.execute(AGG_TOPICS_SQL)
        con.execute(
            EMERGING_SQL,
            {
                "spike_topic": SPIKE_TOPIC,
                "last_week": week_start(END_DATE),
                "spike_chapter": SPIKE_CHAPTER,
            },
        )
        con.execute(QUEUE_SQL, {"decided_item": decided})
    return marts


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    con.executemany(
        f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
        [tuple(row[c] for c in columns) for row in rows],
    )


if __name__ == "__main__":  # write a demo file: python -m tests.app.marts_fixture PATH
    import sys

    print(write_marts(Path(sys.argv[1])).path)


# ------------------------------------------------------------------------------------------
# At scale (bench/app/page_queries.py): the same tables and derived marts, generated inside
# DuckDB from `range(n)` so rows stream through the engine and never sit in Python memory.

SCALED_CHAPTERS = tuple(f"Chapter {n:02d}" for n in range(1, 13))

_SCALED_FEEDBACK_SQL = """
insert into fct_feedback
with base as (
    select
        i,
        $channels[1 + i % 4] as channel,
        $chapters[1 + (i * 7 // 3) % len($chapters)] as member_chapter,
        $tiers[1 + (i // 2) % 3] as member_tier,
        $topics[1 + (i // 3) % len($topics)] as topic,
        $sentiments[1 + i % 5] as sentiment,
        case when i % 17 = 9 then 'failed' when i % 23 = 11 then 'pending' else 'ok' end
            as status,
        -- date order, as daily partitions are loaded (zone maps work as they do in production)
        cast($end_date as date) - ($days - 1) + cast(i * $days // $n as integer) as created_date
    from range($n) as t(i)
),
labelled as (
    select base.*, p.phrase, base.status = 'ok' as ok,
        status = 'ok' and base.sentiment = 'negative' and i % 3 = 0 as high
    from base join scaled_phrases as p on p.topic_key = topic and p.sentiment = base.sentiment
)
select
    'imis_' || channel || ':' || (1000000 + i),
    'imis_' || channel,
    cast(1000000 + i as varchar),
    channel,
    created_date + to_minutes(540 + i % 600),
    created_date,
    'M' || lpad(cast(i * 7919 % $members as varchar), 7, '0'),
    member_tier,
    member_chapter,
    'active',
    $tenure[1 + i % len($tenure)],
    $renewal[1 + i % len($renewal)],
    'Hi team, ' || phrase || '. '
        || case when i % 19 = 3 then 'There was no parking near the venue. ' else '' end
        || 'Thanks, <PERSON_1>.',
    case when channel = 'survey' then 'What could we do better?' end,
    case when ok then sentiment end,
    case when ok then sentiment end,
    false,
    case when not ok then null when sentiment = 'positive' then 0.6
         when sentiment = 'negative' then -0.7 else 0.0 end,
    case when ok then round(0.5 + (i % 10) * 0.05, 3) end,
    case when not ok then null when high then 'high'
         when sentiment = 'negative' then 'medium' else 'low' end,
    case when high then '["member at risk of lapsing"]' when ok then '[]' end,
    case when ok then topic end,
    'en',
    case when ok then 'Member writes about ' || topic || '.' end,
    status,
    case when status = 'failed' then 'evidence quote is not a substring of the text' end,
    $model_id,
    $prompt_version,
    high
from labelled
order by i
"""

_SCALED_TOPICS_SQL = """
insert into fct_feedback_topics
select f.item_id, f.primary_topic, d.topic_label, null, f.sentiment_label, p.phrase,
       f.created_date, f.channel, f.member_tier, f.member_chapter
from fct_feedback as f
join scaled_phrases as p on p.topic_key = f.primary_topic and p.sentiment = f.sentiment_label
join dim_topics as d on d.topic_key = f.primary_topic
where f.enrichment_status = 'ok'
union all
select f.item_id, $proposed_key, $proposed_label, $proposed_label, 'negative',
       'There was no parking near the venue', f.created_date, f.channel, f.member_tier,
       f.member_chapter
from fct_feedback as f
where f.enrichment_status = 'ok' and f.redacted_text like '%no parking near the venue%'
order by 7, 1
"""


def write_scaled_marts(
    path: Path,
    items: int,
    *,
    days: int = 365,
    end_date: date = END_DATE,
    chapters: tuple[str, ...] = SCALED_CHAPTERS,
    members: int | None = None,
    memory_limit: str = "1GB",
    threads: int = 2,
) -> Path:
    """Write marts with `items` feedback items over `days` days ending on `end_date` (replacing
    `path`): the tables, columns and derived marts of `write_marts`, generated in SQL.

    Same shapes as the small fixture (phrases, evidence quotes that are substrings, failed and
    pending items, a proposed topic, a 'website_login' spike flagged in the last week), with
    `chapters` chapters; rows are in date order, as the daily partitions load them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(
        str(path), config={"memory_limit": memory_limit, "threads": threads}
    ) as con:
        con.execute(FEEDBACK_DDL)
        con.execute(
            "create temp table scaled_phrases (topic_key varchar, sentiment varchar, "
            "phrase varchar)"
        )
        con.executemany(
            "insert into scaled_phrases values (?, ?, ?)",
            [(topic, sentiment, phrase) for (topic, sentiment), phrase in PHRASES.items()],
        )
        _insert(
            con,
            "dim_topics",
            [
                {
                    "topic_key": key,
                    "topic_label": label,
                    "description": description,
                    "is_proposed": False,
                    "taxonomy_version": TAXONOMY_VERSION,
                }
                for key, (label, description) in TOPICS.items()
            ]
            + [
                {
                    "topic_key": PROPOSED_TOPIC[0],
                    "topic_label": PROPOSED_TOPIC[1],
                    "description": "Proposed by the model; not in the taxonomy yet.",
                    "is_proposed": True,
                    "taxonomy_version": TAXONOMY_VERSION,
                }
            ],
        )
        con.execute(
            _SCALED_FEEDBACK_SQL,
            {
                "n": items,
                "days": days,
                "end_date": end_date,
                "members": members or max(items // 4, 1),
                "channels": list(CHANNELS),
                "chapters": list(chapters),
                "tiers": list(TIERS),
                "topics": list(TOPICS),
                "sentiments": list(_SENTIMENTS),
                "tenure": list(TENURE_BANDS),
                "renewal": list(RENEWAL_WINDOWS),
                "model_id": MODEL_ID,
                "prompt_version": PROMPT_VERSION,
            },
        )
        con.execute(
            _SCALED_TOPICS_SQL,
            {"proposed_key": PROPOSED_TOPIC[0], "proposed_label": PROPOSED_TOPIC[1]},
        )
        con.execute(AGG_SQL)
        _write_dim_segments(con)
        con.execute(AGG_TOPICS_SQL)
        con.execute(
            EMERGING_SQL,
            {
                "spike_topic": SPIKE_TOPIC,
                "last_week": week_start(end_date),
                "spike_chapter": chapters[0],
            },
        )
        con.execute(QUEUE_SQL, {"decided_item": "none"})
        con.execute("checkpoint")
    return path
