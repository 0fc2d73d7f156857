"""Ask a question: a typed question (redacted first, like any text) is parsed deterministically
into a validated structured query (app/question.py), shown as a chart with its interpretation.
Never SQL from user text, never a language model in the embedded default."""

import plotly.express as px
import streamlit as st

from app import context, data, question, ui
from app.redact import redact

EXAMPLE = (
    "Show me sentiment trends for 'annual conference' over the last quarter, segmented by "
    "member tier"
)

ctx = context.current()
selected = ctx.filters
scope, path, version = ctx.scope, ctx.marts, ctx.version

st.caption(
    "Ask about sentiment or volume for a topic, a period and a segment. Questions are "
    "redacted before they are used and answered from the published marts only."
)
with st.form("ask", border=True):
    typed = st.text_input(
        "Your question",
        placeholder=EXAMPLE,
        max_chars=question.MAX_QUESTION_CHARS,
        key="ask_question",
    )
    asked = st.form_submit_button("Ask", type="primary")

text = typed.strip() if typed else ""
if not text:
    st.caption(f"Example: *{EXAMPLE}*")
    st.stop()

redacted = redact(text)
parsed = question.parse(redacted, ctx.topic_labels)
st.markdown(f"**Interpretation:** {parsed.interpretation(ctx.topic_labels)}")
if parsed.unmatched_quotes:
    st.caption(
        "Not a known topic: "
        + ", ".join(f"'{q}'" for q in parsed.unmatched_quotes)
        + ". Answering for the topics recognised."
    )
with st.expander("Structured query"):
    st.json({"question (redacted)": redacted, **parsed.as_dict()})

first, last = selected.start, selected.end
if parsed.period is not None:
    bounds = data.load_date_bounds(path, version, scope)
    first, last = data.period_window(parsed.period, *bounds)
slice_ = data.Slice(
    first,
    last,
    selected.channels,
    selected.tiers,
    selected.chapters,
    parsed.topics or selected.topics,
)
frame = ctx.name_segments(data.load_question_frame(path, version, scope, slice_, parsed.grain))
if frame.empty:
    ui.empty("No topic mentions match this question and the sidebar filters.")
    st.stop()

keys = ["period_start", *([parsed.segment] if parsed.segment else [])]
answer = frame.groupby(keys, as_index=False)[
    ["item_count", "positive_count", "negative_count"]
].sum()
answer["net_sentiment_score"] = (
    100.0 * (answer["positive_count"] - answer["negative_count"]) / answer["item_count"]
).round(1)
y = "net_sentiment_score" if parsed.metric == "sentiment" else "item_count"
unit = parsed.grain.lower()
segment_label = {"member_tier": "Member tier", "member_chapter": "Chapter", "channel": "Channel"}
figure = px.line(
    answer,
    x="period_start",
    y=y,
    color=parsed.segment,
    markers=True,
    title=(
        f"Net sentiment per {unit} (points, -100 to +100)"
        if y == "net_sentiment_score"
        else f"Mentions per {unit} (items)"
    ),
    labels={
        "period_start": f"{parsed.grain} starting",
        "net_sentiment_score": "NSS (points)",
        "item_count": "Mentions (items)",
        **segment_label,
    },
    hover_data={"item_count": True},
)
if y == "net_sentiment_score":
    figure.update_yaxes(range=list(ui.NSS_RANGE), zeroline=True)
st.plotly_chart(figure, width="stretch", key="ask_chart")
st.dataframe(answer, hide_index=True, width="stretch", key="ask_table")
ui.download_csv(answer, "question_answer")
st.caption(f"{ui.period_text(first, last)} · {ui.NSS_HELP}")
