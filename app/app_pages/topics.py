"""Topics: a topic x week heatmap, each topic's sentiment, and a drill-down to the redacted
verbatims behind a topic with the model's evidence quote highlighted."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app import context, data, ui
from app.access import AccessDenied
from app.redact import redact
from orchestration.lib.app_state import AppState

ctx = context.current()
selected = ctx.filters
scope, path, version = ctx.scope, ctx.marts, ctx.version

st.caption(
    f"{ctx.describe_filters()} · topic-level sentiment (an item counts once for "
    f"each topic it mentions) · {ui.NSS_HELP}"
)

weekly = data.load_topic_weekly(path, version, scope, selected.slice)
if weekly.empty:
    ui.empty("No topic mentions match these filters. Widen the period or clear a filter.")
    st.stop()

weekly = weekly.assign(topic_label=[ctx.topic_label(k) for k in weekly["topic_key"]])

with st.container(border=True):
    measure = (
        st.segmented_control(
            "Colour by",
            options=["Net sentiment", "Volume"],
            default="Net sentiment",
            key="topics_measure",
        )
        or "Net sentiment"
    )
    column = "net_sentiment_score" if measure == "Net sentiment" else "item_count"
    grid = weekly.pivot_table(
        index="topic_label", columns="week_start", values=column, aggfunc="sum"
    ).sort_index(ascending=False)
    counts = weekly.pivot_table(
        index="topic_label", columns="week_start", values="item_count", aggfunc="sum"
    ).reindex_like(grid)
    heatmap = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[pd.Timestamp(c).strftime("%d %b %Y") for c in grid.columns],
            y=list(grid.index),
            colorscale="RdYlGn" if column == "net_sentiment_score" else "Blues",
            zmin=-100 if column == "net_sentiment_score" else 0,
            zmax=100 if column == "net_sentiment_score" else None,
            customdata=counts.to_numpy(),
            hovertemplate="%{y}<br>week of %{x}<br>"
            + ("NSS %{z:+.1f} points" if column == "net_sentiment_score" else "%{z} items")
            + "<br>%{customdata} mentions<extra></extra>",
            colorbar={"title": "NSS (points)" if column == "net_sentiment_score" else "Items"},
        )
    )
    heatmap.update_layout(
        title=(
            "Net sentiment score by topic and week (points, -100 to +100)"
            if column == "net_sentiment_score"
            else "Mentions by topic and week (items)"
        ),
        xaxis_title="Week starting",
        yaxis_title="Topic",
        height=max(320, 48 * len(grid.index) + 140),
    )
    st.plotly_chart(heatmap, width="stretch", key="topics_heatmap")

totals = (
    weekly.groupby(["topic_key", "topic_label"], as_index=False)[
        ["item_count", "positive_count", "negative_count"]
    ]
    .sum()
    .assign(
        neutral_count=lambda f: f["item_count"] - f["positive_count"] - f["negative_count"],
        net_sentiment_score=lambda f: (
            100.0 * (f["positive_count"] - f["negative_count"]) / f["item_count"]
        ).round(1),
    )
    .sort_values(["item_count", "topic_key"], ascending=[False, True])
)

with st.container(border=True):
    long = totals.melt(
        id_vars=["topic_label"],
        value_vars=["positive_count", "neutral_count", "negative_count"],
        var_name="sentiment",
        value_name="items",
    )
    long["sentiment"] = long["sentiment"].str.removesuffix("_count")
    figure = px.bar(
        long,
        x="items",
        y="topic_label",
        color="sentiment",
        orientation="h",
        color_discrete_map=ui.SENTIMENT_COLORS,
        category_orders={
            "sentiment": list(data.SENTIMENTS),
            "topic_label": list(totals["topic_label"]),
        },
        title="Sentiment of each topic's mentions (items)",
        labels={"items": "Mentions (items)", "topic_label": "Topic", "sentiment": "Sentiment"},
    )
    st.plotly_chart(figure, width="stretch", key="topics_sentiment")
    st.dataframe(
        totals,
        hide_index=True,
        width="stretch",
        column_order=[
            "topic_label",
            "item_count",
            "positive_count",
            "neutral_count",
            "negative_count",
            "net_sentiment_score",
        ],
        column_config={
            "topic_label": "Topic",
            "item_count": "Mentions",
            "positive_count": "Positive",
            "neutral_count": "Neutral",
            "negative_count": "Negative",
            "net_sentiment_score": st.column_config.NumberColumn("NSS", format="%+.1f"),
        },
        key="topics_table",
    )
    ui.download_csv(totals, "topic_sentiment")


def proposed_topics() -> None:
    """The model's proposed topics, grouped; leadership may promote a group into the taxonomy."""
    st.subheader("New topics the model proposed")
    if not scope.item_level:
        ui.aggregates_only("Proposed topics")
        return
    taxonomy = data.current_taxonomy()
    candidates = data.load_topic_candidates(path, version, scope, selected.slice, taxonomy.version)
    if not candidates:
        ui.empty(
            "No new topics proposed in this period: every mention fits the taxonomy. (The "
            "built-in model only uses the taxonomy; a language model may propose new topics.)"
        )
        return
    st.caption(
        "Names the model gave to concerns the taxonomy lacks, grouped when they share words. "
        "Promoting a group adds it to the taxonomy for every later labelling run."
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Candidate topic": [c.label for c in candidates],
                "Items": [c.items for c in candidates],
                "Proposed as": ["; ".join(p.label for p in c.proposals) for c in candidates],
                "Closest existing topic": [
                    f"{ctx.topic_label(c.closest_topic)} ({c.closest_similarity:.0%} alike)"
                    if c.closest_topic
                    else "none"
                    for c in candidates
                ],
                "Evidence": [" | ".join(c.evidence[:3]) for c in candidates],
            }
        ),
        hide_index=True,
        width="stretch",
        key="topics_candidates",
    )
    if not scope.can_edit_taxonomy:
        st.caption("Leadership can promote a candidate into the taxonomy.")
        return
    chosen = st.selectbox(
        "Candidate to promote",
        options=range(len(candidates)),
        format_func=lambda i: f"{candidates[i].label} ({candidates[i].items} items)",
        key="topics_promote_candidate",
    )
    candidate = candidates[chosen]
    with st.form(f"promote_{candidate.key}"):
        key = st.text_input("Key (lowercase_with_underscores, never renamed)", candidate.key)
        label = st.text_input("Label", candidate.label)
        description = st.text_area(
            "Description, in the association's words (the model reads it)",
            f"Feedback about {candidate.label.lower()}.",
        )
        examples = st.text_area(
            "Example phrases, one per line", "\n".join(p.label for p in candidate.proposals)
        )
        if st.form_submit_button("Promote to the taxonomy", type="primary"):
            promotion = data.Promotion(
                key=key.strip(),
                label=label,
                description=description,
                examples=tuple(examples.splitlines()),
                proposals=tuple(p.topic_key for p in candidate.proposals),
            )
            try:
                new = data.promote_topic(scope, AppState(data.app_state_path()), promotion, redact)
            except (data.DecisionRejected, AccessDenied) as exc:
                st.error(str(exc))
            else:
                st.success(
                    f"Added {label!r} to the taxonomy (now version {new.version}). Labelling "
                    "runs from now on use it; to re-label past items, backfill the enrichment "
                    "group over the period in Dagster."
                )


with st.container(border=True):
    proposed_topics()

with st.container(border=True):
    st.subheader("Verbatims")
    if not scope.item_level:
        ui.aggregates_only("Verbatims")
        st.stop()
    left, right = st.columns([2, 1])
    topic_keys = list(totals["topic_key"])
    topic = left.selectbox(
        "Topic",
        options=topic_keys,
        format_func=ctx.topic_label,
        key="topics_drill_topic",
    )
    sentiment = right.segmented_control(
        "Sentiment", options=list(data.SENTIMENTS), key="topics_drill_sentiment"
    )
    verbatims = data.load_topic_verbatims(path, version, scope, selected.slice, topic, sentiment)
    if verbatims.empty:
        ui.empty("No verbatims for this topic and sentiment.")
        st.stop()
    st.caption(
        f"{len(verbatims)} most recent mention(s) of {ctx.topic_label(topic)}"
        + (f", {sentiment}" if sentiment else "")
        + ". Texts are redacted; the highlighted words are the model's evidence for the topic."
    )
    for row in verbatims.head(20).itertuples(index=False):
        ui.verbatim(
            row.redacted_text,
            row.evidence,
            f"{row.item_id} · {pd.Timestamp(row.created_at):%d %b %Y} · {row.channel} · "
            f"{ctx.segment_name('tier', row.member_tier)} · "
            f"{ctx.segment_name('chapter', row.member_chapter)} · {row.topic_sentiment}",
        )
    ui.download_csv(verbatims, f"verbatims_{topic}", key="download_verbatims")
