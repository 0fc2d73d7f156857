"""Review queue: items the pipeline wants a person to look at (negative + high urgency, low model
confidence, failed labelling). Reviewers confirm or correct sentiment, topics and urgency, and
approve or reject the follow-up case for negative, high-urgency items. Each decision is stored
with who and when in the app's own state store (data.record_decision -> AppState); the pipeline
copies decisions into the warehouse and writes approved cases back to iMIS."""

import pandas as pd
import streamlit as st

from app import context, data, ui
from app.access import AccessDenied
from app.redact import redact
from orchestration.lib.app_state import AppState

NO_CASE = "no decision"
CASE_OPTIONS = [NO_CASE, "approve", "reject"]

ctx = context.current()
selected = ctx.filters
scope, path, version = ctx.scope, ctx.marts, ctx.version
state = AppState(data.app_state_path())

st.caption(
    f"{ctx.describe_filters()} · decisions made here show at once; the next "
    "pipeline run brings them into the marts and writes approved cases to iMIS."
)

if not scope.item_level:  # the page is not registered for these roles; refuse anyway
    ui.aggregates_only("Review items")
    st.stop()

left, right = st.columns([3, 1])
reasons = left.pills(
    "Reason",
    options=list(data.QUEUE_REASONS),
    format_func=data.QUEUE_REASONS.get,
    selection_mode="multi",
    key="queue_reasons",
)
show_decided = right.toggle("Show decided items", value=False, key="queue_show_decided")

queue = data.load_review_queue(path, version, scope, selected.slice, tuple(reasons or ()))
latest = data.decided_since_publish(state, queue["item_id"].tolist())
queue = ctx.name_segments(queue).assign(
    decided_in_app=queue["item_id"].isin(list(latest)),
    decided_by=[latest.get(i, {}).get("decided_by") for i in queue["item_id"]],
    decided_at=[latest.get(i, {}).get("decided_at") for i in queue["item_id"]],
    primary_topic=[ctx.topic_label(t) if t else None for t in queue["primary_topic"]],
    queue_reason=queue["queue_reason"].map(lambda r: data.QUEUE_REASONS.get(r, r)),
)
queue["is_open"] = ~(queue["is_decided"].fillna(False).astype(bool) | queue["decided_in_app"])
visible = queue if show_decided else queue[queue["is_open"]]

with st.container(horizontal=True):
    st.metric("Open items", int(queue["is_open"].sum()), border=True)
    st.metric(
        "Decided since the last publish",
        int(queue["decided_in_app"].sum()),
        border=True,
        help="Stored in the app; the marts include them after the next pipeline run.",
    )

if visible.empty:
    ui.empty("Nothing to review for these filters.")
    st.stop()

with st.container(border=True):
    st.dataframe(
        visible.drop(columns=["redacted_text"]).assign(
            urgency_reasons=[ui.reasons_text(r) for r in visible["urgency_reasons"]]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "queue_rank": "Rank",
            "queue_reason": "Reason",
            "item_id": "Item",
            "channel": "Channel",
            "source_name": "Source",
            "member_tier": "Tier",
            "member_chapter": "Chapter",
            "sentiment_label": "Sentiment",
            "urgency_level": "Urgency",
            "primary_topic": "Topic",
            "enrichment_status": "Labelling",
            "failure_reason": "Why labelling failed",
            "case_action": "Case",
            "urgency_reasons": "Urgency reasons",
            "is_decided": "Decided",
            "latest_decision_at": st.column_config.DatetimeColumn(
                "Decided (marts)", format="D MMM YYYY, HH:mm"
            ),
            "created_at": st.column_config.DatetimeColumn("Created", format="D MMM YYYY"),
            "sentiment_confidence": st.column_config.NumberColumn("Confidence", format="%.2f"),
            "summary": st.column_config.TextColumn("Summary", width="medium"),
            "decided_at": st.column_config.DatetimeColumn(
                "Decided (app, UTC)", format="D MMM YYYY, HH:mm"
            ),
        },
        key="queue_table",
    )
    ui.download_csv(visible, "review_queue")

if not scope.can_review:
    st.info(
        "You can read the queue; only users with the reviewer role can record decisions.",
        icon=":material/lock:",
    )
    st.stop()

rows = {r.item_id: r for r in visible.itertuples(index=False)}
item_id = st.selectbox(
    "Item to review",
    options=list(rows),
    format_func=lambda i: f"#{rows[i].queue_rank} · {rows[i].queue_reason} · {i}",
    key="queue_item",
)
row = rows[item_id]
topic_keys = list(ctx.topic_labels)
current_topics = [t for t in data.current_topics(path, scope, item_id) if t in topic_keys]
previous = latest.get(item_id)

with st.container(border=True):
    st.caption(
        f"{item_id} · {pd.Timestamp(row.created_at):%d %b %Y %H:%M} · {row.channel} · "
        f"{row.member_tier} · {row.member_chapter} · model: {row.sentiment_label or 'n/a'}, "
        f"urgency {row.urgency_level or 'n/a'}, confidence "
        + ("n/a" if pd.isna(row.sentiment_confidence) else f"{row.sentiment_confidence:.2f}")
    )
    st.html(f"<div>{ui.highlight_html(row.redacted_text, None)}</div>")
    if isinstance(row.failure_reason, str) and row.failure_reason:
        st.caption(f"Labelling failed: {row.failure_reason}")
    if previous:
        when = pd.Timestamp(previous["decided_at"]).strftime("%d %b %Y %H:%M")
        st.caption(
            f"Last decided by {previous['decided_by']} at {when} UTC; a new decision supersedes it."
        )

with st.form(f"review::{item_id}", border=True):
    st.markdown(
        "**Your decision** (the form starts from the model's labels: submit as is to confirm them)"
    )
    c1, c2 = st.columns(2)
    sentiment = c1.selectbox(
        "Sentiment",
        options=list(data.SENTIMENTS),
        index=data.SENTIMENTS.index(row.sentiment_label)
        if row.sentiment_label in data.SENTIMENTS
        else None,
        key=f"review_sentiment::{item_id}",
    )
    urgency = c2.selectbox(
        "Urgency",
        options=list(data.URGENCIES),
        index=data.URGENCIES.index(row.urgency_level)
        if row.urgency_level in data.URGENCIES
        else None,
        key=f"review_urgency::{item_id}",
    )
    topics = st.multiselect(
        "Topics",
        options=topic_keys,
        default=current_topics,
        format_func=ctx.topic_label,
        key=f"review_topics::{item_id}",
    )
    case = st.radio(
        "Follow-up case in iMIS",
        options=CASE_OPTIONS,
        horizontal=True,
        key=f"review_case::{item_id}",
        help="Only for items that are (or that you correct to) negative and high urgency.",
    )
    note = st.text_area(
        "Note (optional; personal data is redacted before it is stored)",
        key=f"review_note::{item_id}",
        max_chars=2000,
    )
    submitted = st.form_submit_button("Record decision", type="primary")

if submitted:
    try:
        decision_id = data.record_decision(
            path,
            scope,
            state,
            data.DecisionInput(
                item_id=item_id,
                sentiment_label=sentiment,
                urgency_level=urgency,
                topics=tuple(topics),
                case_action=None if case == NO_CASE else case,
                note=note,
                known_topics=frozenset(topic_keys),
            ),
            redact,
        )
    except (data.DecisionRejected, AccessDenied) as exc:
        st.error(str(exc), icon=":material/block:")
    else:
        st.success(
            f"Decision {decision_id[:8]} recorded for {item_id} by {scope.username}.",
            icon=":material/check_circle:",
        )
