"""Overview: volume and net sentiment by channel over time, KPIs, latest high-urgency items."""

import plotly.express as px
import streamlit as st

from app import data, filters

selected = filters.current()
marts = data.marts_path()
path, version = str(marts), data.marts_version(marts)

channel_text = "all channels" if selected.all_channels else ", ".join(selected.channels)
st.caption(
    f"{selected.start:%d %b %Y} to {selected.end:%d %b %Y} · {channel_text} · "
    "net sentiment score (NSS) = 100 x (positive - negative) / labelled items, from -100 to +100"
)

try:
    kpis = data.load_kpis(path, version, selected.start, selected.end, selected.channels)
except data.MartsUnavailable as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()

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
        help="100 x (positive - negative) / labelled items; -100 to +100.",
    )
    st.metric(
        "Negative",
        "n/a" if negative_share is None else f"{negative_share:.1f} %",
        border=True,
        help="Share of labelled items whose sentiment is negative.",
    )
    st.metric(
        "Open high-urgency items",
        f"{kpis.high_urgency_count:,}",
        border=True,
        help="Items labelled high urgency in the period. Review decisions are not in the "
        "marts yet, so items already handled are still counted.",
    )

if kpis.item_count == 0:
    st.info("No feedback in this period and channel selection.", icon=":material/filter_alt:")
    st.stop()

grain = (
    st.segmented_control(
        "Time grain", options=list(data.GRAINS), default="Day", key="overview_grain"
    )
    or "Day"
)
over_time = data.load_sentiment_over_time(
    path, version, selected.start, selected.end, selected.channels, grain
)
unit = grain.lower()

left, right = st.columns(2)
with left, st.container(border=True):
    st.subheader("Net sentiment by channel")
    figure = px.line(
        over_time,
        x="period_start",
        y="net_sentiment_score",
        color="channel",
        markers=True,
        title=f"Net sentiment score per {unit} (-100 to +100)",
        labels={
            "period_start": f"{grain} starting",
            "net_sentiment_score": "NSS (points, -100 to +100)",
            "channel": "Channel",
        },
        hover_data={"labelled_count": True, "item_count": True},
    )
    figure.update_yaxes(range=[-105, 105], zeroline=True)
    st.plotly_chart(figure, width="stretch")
with right, st.container(border=True):
    st.subheader("Feedback volume by channel")
    figure = px.bar(
        over_time,
        x="period_start",
        y="item_count",
        color="channel",
        title=f"Feedback items per {unit}",
        labels={
            "period_start": f"{grain} starting",
            "item_count": "Items (count)",
            "channel": "Channel",
        },
    )
    st.plotly_chart(figure, width="stretch")

with st.container(border=True):
    st.subheader("Latest high-urgency items")
    items = data.load_high_urgency_items(
        path, version, selected.start, selected.end, selected.channels
    )
    if items.empty:
        st.write("No high-urgency items in this period.")
    else:
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
        )
        st.download_button(
            "Download CSV",
            data=items.to_csv(index=False).encode("utf-8"),
            file_name=f"high_urgency_items_{selected.start:%Y%m%d}_{selected.end:%Y%m%d}.csv",
            mime="text/csv",
            icon=":material/download:",
        )
    st.caption("Showing the 50 most recent. Texts are redacted: no personal data is stored.")
