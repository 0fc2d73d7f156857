"""Segments: net sentiment and volume by member tier, chapter, tenure band and renewal window,
side by side, for the filtered slice."""

import plotly.express as px
import streamlit as st

from app import context, data, ui

# Natural orders for the banded segments; values the marts add later are appended.
ORDERS = {
    "member_tenure_band": ["< 1 year", "1-2 years", "3-5 years", "6-10 years", "11+ years"],
    "member_renewal_window": ["lapsed", "0-30 days", "31-90 days", "91+ days"],
}

ctx = context.current()
selected = ctx.filters
scope, path, version = ctx.scope, ctx.marts, ctx.version

st.caption(f"{ctx.describe_filters()} · {ui.NSS_HELP}")

segments = ctx.name_segments(data.load_segments(path, version, scope, selected.slice))
if segments.empty:
    ui.empty("No feedback matches these filters. Widen the period or clear a filter.")
    st.stop()

grid = st.columns(2)
for index, (dimension, label) in enumerate(data.SEGMENTS.items()):
    rows = segments[segments["dimension"] == dimension]
    order = ORDERS.get(dimension, sorted(rows["segment"]))
    order = [s for s in order if s in set(rows["segment"])] + sorted(
        set(rows["segment"]) - set(order)
    )
    with grid[index % 2], st.container(border=True):
        if rows.empty:
            ui.empty(f"No {label.lower()} data.")
            continue
        figure = px.bar(
            rows,
            x="segment",
            y="net_sentiment_score",
            color="net_sentiment_score",
            color_continuous_scale="RdYlGn",
            range_color=[-100, 100],
            text="item_count",
            category_orders={"segment": order},
            title=f"Net sentiment by {label.lower()} (points; bar labels: items)",
            labels={
                "segment": label,
                "net_sentiment_score": "NSS (points)",
                "item_count": "Items",
            },
            hover_data={"labelled_count": True, "high_urgency_count": True},
        )
        figure.update_yaxes(range=list(ui.NSS_RANGE), zeroline=True)
        figure.update_layout(coloraxis_showscale=False, height=340)
        st.plotly_chart(figure, width="stretch", key=f"segments_{dimension}")

with st.container(border=True):
    st.subheader("All segments")
    table = segments.assign(dimension=segments["dimension"].map(data.SEGMENTS))
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "dimension": "Dimension",
            "segment": "Segment",
            "item_count": "Items",
            "labelled_count": "Labelled",
            "positive_count": "Positive",
            "negative_count": "Negative",
            "high_urgency_count": "High urgency",
            "net_sentiment_score": st.column_config.NumberColumn("NSS", format="%+.1f"),
        },
        key="segments_table",
    )
    ui.download_csv(table, "segments")
    if scope.chapter:
        st.caption(f"Your role sees chapter {scope.chapter} only.")
