"""Overview: KPIs, net sentiment and volume over time by channel, the week's movers, and the
open high-urgency items (not yet decided in the marts or in the app since the last publish)."""

from dataclasses import replace
from datetime import timedelta

import pandas as pd
import plotly.express as px
import streamlit as st

from app import context, data, ui
from orchestration.lib.app_state import AppState

ctx = context.current()
selected = ctx.filters
scope, path, version = ctx.scope, ctx.marts, ctx.version

st.caption(f"{ctx.describe_filters()} · {ui.NSS_HELP}")

kpis = data.load_kpis(path, version, scope, selected.slice)
nss = kpis.net_sentiment_score
negative_share = kpis.negative_share
with st.container(horizontal=True):
    st.metric(
        "Feedback items",
        f"{kpis.item_count:,}",
        border=True,
        help=f"{kpis.failed_count} failed and {kpis.pending_count} pending enrichment are "
        "counted here but not in the sentiment figures.",
    )
    st.metric(
        "Net sentiment score",
        "n/a" if nss is None else f"{nss:+.1f}",
        border=True,
        help=ui.NSS_HELP,
    )
    st.metric(
        "Negative",
        "n/a" if negative_share is None else f"{negative_share:.1f} %",
        border=True,
        help="Share of labelled items whose sentiment is negative.",
    )
    st.metric(
        "High-urgency items",
        f"{kpis.high_urgency_count:,}",
        border=True,
        help="Items labelled high urgency in the period, handled or not (the open ones are "
        "listed below).",
    )

if kpis.item_count == 0:
    ui.empty("No feedback matches these filters. Widen the period or clear a filter.")
    st.stop()

grain = (
    st.segmented_control(
        "Time grain", options=list(data.GRAINS), default="Day", key="overview_grain"
    )
    or "Day"
)
unit = grain.lower()
# A daily NSS line over weeks is mostly noise (a few items a day per channel): past
# ROLLING_AFTER_DAYS days it becomes a rolling NSS, read from ROLLING_DAYS - 1 days before the
# period so that its first day has a full window too.
rolling = grain == "Day" and (selected.end - selected.start).days + 1 > data.ROLLING_AFTER_DAYS
if rolling:
    lead_in = replace(selected.slice, start=selected.start - timedelta(days=data.ROLLING_DAYS - 1))
    daily = data.load_sentiment_over_time(path, version, scope, lead_in, grain)
    nss = data.rolling_nss(daily, selected.start, selected.end)
    over_time = daily[daily["period_start"] >= pd.Timestamp(selected.start)]
    nss_title = (
        f"Net sentiment score by channel, {data.ROLLING_DAYS}-day rolling (points, -100 to +100)"
    )
    nss_x = "Day (the window ends on it)"
else:
    over_time = data.load_sentiment_over_time(path, version, scope, selected.slice, grain)
    nss = over_time
    nss_title = f"Net sentiment score by channel, per {unit} (points, -100 to +100)"
    nss_x = f"{grain} starting"

left, right = st.columns(2)
with left, st.container(border=True):
    figure = px.line(
        nss,
        x="period_start",
        y="net_sentiment_score",
        color="channel",
        markers=not rolling,
        title=nss_title,
        labels={
            "period_start": nss_x,
            "net_sentiment_score": "NSS (points)",
            "channel": "Channel",
        },
        hover_data={"labelled_count": True, "item_count": True},
    )
    figure.update_yaxes(range=list(ui.NSS_RANGE), zeroline=True)
    st.plotly_chart(figure, width="stretch", key="overview_nss")
    if rolling:
        st.caption(
            f"Each point is the NSS of the {data.ROLLING_DAYS} days ending that day, from their "
            "summed counts (not an average of daily scores); hover shows those counts. Choose "
            "Week or Month for calendar periods."
        )
with right, st.container(border=True):
    figure = px.bar(
        over_time,
        x="period_start",
        y="item_count",
        color="channel",
        title=f"Feedback volume by channel, per {unit} (items)",
        labels={
            "period_start": f"{grain} starting",
            "item_count": "Items (count)",
            "channel": "Channel",
        },
    )
    st.plotly_chart(figure, width="stretch", key="overview_volume")

with st.container(border=True):
    st.subheader("This week's movers")
    st.caption(
        f"Topics mentioned in the 7 days to {selected.end:%d %b %Y}, against their weekly "
        "average over the 4 weeks before; biggest change first. Topic-level sentiment: an item "
        "counts once for each topic it mentions."
    )
    movers = data.load_movers(path, version, scope, selected.slice)
    if movers.empty:
        ui.empty("No topic was mentioned in the last 7 days of the period.")
    else:
        st.dataframe(
            movers,
            hide_index=True,
            width="stretch",
            column_order=[
                "topic_label",
                "items_this_week",
                "items_weekly_before",
                "volume_change",
                "nss_this_week",
                "nss_before",
                "nss_change",
            ],
            column_config={
                "topic_label": "Topic",
                "items_this_week": st.column_config.NumberColumn("Items this week"),
                "items_weekly_before": st.column_config.NumberColumn(
                    "Items per week before", format="%.1f"
                ),
                "volume_change": st.column_config.NumberColumn("Volume change", format="%+.1f"),
                "nss_this_week": st.column_config.NumberColumn("NSS this week", format="%+.1f"),
                "nss_before": st.column_config.NumberColumn("NSS before", format="%+.1f"),
                "nss_change": st.column_config.NumberColumn("NSS change", format="%+.1f"),
            },
            key="overview_movers",
        )
        ui.download_csv(movers, "movers")

with st.container(border=True):
    st.subheader("Open high-urgency items")
    if not scope.item_level:
        ui.aggregates_only("Individual items")
    else:
        items = data.load_high_urgency_items(path, version, scope, selected.slice)
        decided = data.decided_since_publish(
            AppState(data.app_state_path()), items["item_id"].tolist()
        )
        items = items[~items["item_id"].isin(list(decided))]
        if items.empty:
            ui.empty("No open high-urgency items in this period.")
        else:
            items = ctx.name_segments(items).assign(
                primary_topic=[ctx.topic_label(t) for t in items["primary_topic"]],
                urgency_reasons=[ui.reasons_text(r) for r in items["urgency_reasons"]],
            )
            st.dataframe(
                items,
                hide_index=True,
                width="stretch",
                column_config={
                    "created_at": st.column_config.DatetimeColumn(
                        "Created", format="D MMM YYYY, HH:mm"
                    ),
                    "channel": "Channel",
                    "member_tier": "Tier",
                    "member_chapter": "Chapter",
                    "primary_topic": "Topic",
                    "sentiment_label": "Sentiment",
                    "summary": st.column_config.TextColumn("Summary", width="medium"),
                    "urgency_reasons": "Urgency reasons",
                    "redacted_text": st.column_config.TextColumn("Text (redacted)", width="large"),
                    "item_id": "Item",
                },
                key="overview_urgent",
            )
            ui.download_csv(items, "open_high_urgency_items")
        st.caption(
            "The 50 most recent not yet decided. Texts are redacted: no personal data is "
            "stored. Decide them in the Review queue."
        )
