"""Board report: a short narrative for the period and filters chosen in the sidebar (what changed
against the previous period of the same length, top concerns by segment, what is working), each
statement citing the items it rests on, with verified evidence quotes; downloadable as Markdown
and PDF. Written by the deterministic template in app/report.py (the embedded default); the
narrator seam there is where a configured language model may phrase it later."""

import os

import streamlit as st

from app import context, data, report, ui

ctx = context.current()
selected = ctx.filters
scope, path, version = ctx.scope, ctx.marts, ctx.version

st.caption(
    f"{ctx.describe_filters()} · the period and filters come from the sidebar; "
    "the report compares them with the period of the same length just before."
)

if not scope.item_level:  # the page is not registered for these roles; refuse anyway
    ui.aggregates_only("Board reports (they cite and quote items)")
    st.stop()

frames = data.load_report_frames(path, version, scope, selected.slice)
frames = {**frames, "concerns": ctx.name_segments(frames["concerns"])}
narrator = report.narrator_for(os.environ.get("PULSE_MODEL") or "builtin")
board = narrator.narrate(
    report.build_report(
        frames,
        start=selected.start,
        end=selected.end,
        scope_label=ctx.coverage(),
        filters_text=ctx.describe_filters(),
        include_quotes=scope.item_level,
        topic_label=ctx.topic_label,
    )
)

if board.is_empty:
    ui.empty(report.empty_text(board))
    st.stop()

current, previous = board.current, board.previous
compared = previous.items > 0  # no deltas against a period the marts hold no data for
with st.container(horizontal=True):
    st.metric(
        "Feedback items",
        f"{current.items:,}",
        delta=f"{current.items - previous.items:+,} vs previous period" if compared else None,
        delta_color="off",
        border=True,
    )
    nss_delta = (
        f"{current.nss - previous.nss:+.1f} points"
        if compared and current.nss is not None and previous.nss is not None
        else None
    )
    st.metric(
        "Net sentiment score",
        "n/a" if current.nss is None else f"{current.nss:+.1f}",
        delta=nss_delta,
        border=True,
        help=ui.NSS_HELP,
    )
    st.metric(
        "High-urgency items",
        f"{current.high_urgency:,}",
        delta=f"{current.high_urgency - previous.high_urgency:+,}" if compared else None,
        delta_color="inverse",
        border=True,
    )

with st.container(border=True):
    st.subheader(board.title)
    st.caption(f"{board.period_text}, compared with {board.previous_text} · {board.scope_label}")
    st.html(report.to_html(board))
    for line in report.footer_lines(board):
        st.caption(line)

stem = f"board_report_{selected.start:%Y%m%d}_{selected.end:%Y%m%d}"
with st.container(horizontal=True):
    st.download_button(
        "Download Markdown",
        data=report.to_markdown(board).encode("utf-8"),
        file_name=f"{stem}.md",
        mime="text/markdown",
        icon=":material/download:",
        key="report_markdown",
        on_click="ignore",
    )
    st.download_button(
        "Download PDF",
        data=lambda: report.to_pdf(board),  # built on click: embedding a font takes ~1 s
        file_name=f"{stem}.pdf",
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        key="report_pdf",
        on_click="ignore",
    )
