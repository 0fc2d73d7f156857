"""Topics: a topic x week heatmap, each topic's sentiment, and a drill-down to the redacted
verbatims behind a topic with the model's evidence quote highlighted."""

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app import context, data, ui

ctx = context.current()
selected = ctx.filters
scope, path, version = ctx.scope, ctx.marts, ctx.version

st.caption(
    f"{selected.describe(ctx.topic_labels)} · topic-level sentiment (an item counts once for "
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
            f"{row.member_tier} · {row.member_chapter} · {row.topic_sentiment}",
        )
    ui.download_csv(verbatims, f"verbatims_{topic}", key="download_verbatims")
