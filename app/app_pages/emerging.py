"""Emerging issues: the weekly topic spikes the pipeline flagged (volume or sentiment far from a
topic's own recent baseline, overall or in one segment), each with a sparkline and the items
that evidence it."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import context, data, ui

MAX_SPIKES = 20

ctx = context.current()
selected = ctx.filters
scope, path, version = ctx.scope, ctx.marts, ctx.version

st.caption(
    f"{ctx.describe_filters()} · spikes flagged by the pipeline for weeks in the "
    "period; robust z = how many robust standard deviations this week is from the baseline "
    "(the 8 weeks before)."
)

spikes = data.load_emerging(path, version, scope, selected.slice)
if spikes.empty:
    ui.empty("No emerging issue was flagged in this period. That is good news.")
    st.stop()

table = ctx.name_segments(spikes.drop(columns=["series_key"])).assign(
    topic_label=[ctx.topic_label(k) for k in spikes["topic_key"]]
)
with st.container(border=True):
    st.subheader(f"Flagged spikes ({len(spikes)})")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "week_start": st.column_config.DateColumn("Week of", format="D MMM YYYY"),
            "topic_key": None,
            "topic_label": "Topic",
            "segment_type": "Segment type",
            "segment_value": "Segment",
            "item_count": "Items",
            "negative_count": "Negative",
            "negative_share": st.column_config.NumberColumn("Negative share", format="%.2f"),
            "net_sentiment_score": st.column_config.NumberColumn("NSS", format="%+.1f"),
            "baseline_item_count": st.column_config.NumberColumn("Baseline items/week"),
            "baseline_nss": st.column_config.NumberColumn("Baseline NSS", format="%+.1f"),
            "nss_change": st.column_config.NumberColumn("NSS change", format="%+.1f"),
            "volume_change_ratio": st.column_config.NumberColumn("Volume x baseline"),
            "robust_z": st.column_config.NumberColumn("Robust z", format="%.1f"),
            "evidence_item_ids": "Evidence items" if scope.item_level else None,
        },
        key="emerging_table",
    )
    ui.download_csv(table, "emerging_issues")

series = data.load_emerging_series(
    path, version, scope, tuple(spikes["series_key"].head(MAX_SPIKES)), selected.end
)


def sparkline(frame: pd.DataFrame, week: object) -> go.Figure:
    figure = go.Figure(
        go.Scatter(
            x=frame["week_start"],
            y=frame["item_count"],
            mode="lines+markers",
            line={"width": 2},
            hovertemplate="week of %{x|%d %b %Y}: %{y} items<extra></extra>",
        )
    )
    figure.add_vline(x=pd.Timestamp(week), line_dash="dot", line_color="#c62828")
    figure.update_layout(
        title={"text": "Mentions per week (items)", "font": {"size": 12}},
        height=150,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        showlegend=False,
        yaxis={"rangemode": "tozero"},
    )
    return figure


for position, spike in enumerate(spikes.head(MAX_SPIKES).itertuples(index=False)):
    segment = (
        "all members"
        if spike.segment_type == "all"
        else f"{spike.segment_type} {ctx.segment_name(spike.segment_type, spike.segment_value)}"
    )
    with st.container(border=True):
        st.markdown(
            f"**{ctx.topic_label(spike.topic_key)}** among {segment}, week of "
            f"{pd.Timestamp(spike.week_start):%d %b %Y}"
        )
        left, right = st.columns([3, 2])
        with left, st.container(horizontal=True):
            st.metric(
                "Items this week",
                int(spike.item_count),
                delta=f"{spike.item_count - (spike.baseline_item_count or 0):+.1f} vs baseline",
            )
            st.metric(
                "NSS",
                f"{spike.net_sentiment_score:+.1f}",
                delta=None if pd.isna(spike.nss_change) else f"{spike.nss_change:+.1f}",
            )
            st.metric("Robust z", f"{spike.robust_z:.1f}")
        with right:
            line = series[series["series_key"] == spike.series_key]
            if line.empty:
                st.caption("No weekly history.")
            else:
                st.plotly_chart(
                    sparkline(line, spike.week_start),
                    width="stretch",
                    key=f"emerging_spark_{position}",
                    config={"displayModeBar": False},
                )
        ids = ui.split_ids(spike.evidence_item_ids)
        if not scope.item_level:
            ui.aggregates_only(f"The {len(ids)} evidence items")
            continue
        evidence = data.load_items(path, version, scope, tuple(ids))
        with st.expander(f"Evidence items ({len(evidence)})"):
            if evidence.empty:
                st.caption("No evidence items visible to your role.")
            else:
                st.dataframe(
                    evidence,
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "created_at": st.column_config.DatetimeColumn(
                            "Created", format="D MMM YYYY"
                        ),
                        "redacted_text": st.column_config.TextColumn(
                            "Text (redacted)", width="large"
                        ),
                    },
                    key=f"emerging_evidence_{position}",
                )
                ui.download_csv(
                    evidence,
                    f"evidence_{spike.topic_key}_{spike.segment_value}",
                    key=f"download_emerging_evidence_{position}",
                )
