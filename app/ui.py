"""Small display helpers the pages share: CSV downloads, empty states, safe text rendering.

Item texts are member-written (redacted, but still arbitrary): they are always HTML-escaped
before display, so markup in a text is shown as text and never rendered.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from app import context

NSS_HELP = "Net sentiment score: 100 x (positive - negative) / labelled items, from -100 to +100."
NSS_RANGE = (-105, 105)
SENTIMENT_COLORS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "negative": "#c62828"}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def download_csv(frame: pd.DataFrame, name: str, *, key: str | None = None) -> None:
    """A CSV download of `frame`, named after the table and the filtered period."""
    filters = context.current().filters
    st.download_button(
        "Download CSV",
        data=frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{slug(name)}_{filters.start:%Y%m%d}_{filters.end:%Y%m%d}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=key or f"download_{slug(name)}",
    )


def empty(message: str) -> None:
    st.info(message, icon=":material/filter_alt_off:")


def aggregates_only(what: str) -> None:
    st.caption(
        f":material/lock: {what} are not shown to your role (aggregates only). Ask an "
        "administrator for a staff role if you need individual items."
    )


def highlight_html(text: str | None, quote: str | None) -> str:
    """`text` as escaped HTML with the first occurrence of `quote` wrapped in <mark>.

    The quote is located in the raw text (evidence quotes are exact substrings of the redacted
    text), then each part is escaped on its own, so markup in either is never rendered.
    """
    text = text or ""
    at = text.find(quote) if quote else -1
    if at < 0:
        body = html.escape(text)
    else:
        end = at + len(quote or "")
        body = (
            html.escape(text[:at])
            + "<mark>"
            + html.escape(text[at:end])
            + "</mark>"
            + html.escape(text[end:])
        )
    return body.replace("\n", "<br>")


def verbatim(text: str | None, quote: str | None, caption: str) -> None:
    """One redacted text in a bordered box, its evidence quote highlighted."""
    with st.container(border=True):
        st.caption(caption)
        st.html(
            '<div style="white-space: normal; line-height: 1.5">'
            + highlight_html(text, quote)
            + "</div>"
        )


def reasons_text(value: Any) -> str:
    """Urgency reasons (a JSON list in the marts) as plain text: "a; b"."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value
    if isinstance(value, str):
        return value
    return "; ".join(str(v).removeprefix("rule: ") for v in value)


def split_ids(value: Any) -> list[str]:
    """Item ids stored as a list or as a comma-separated string (both occur in the marts)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return []
    return [str(v) for v in list(value)]


def period_text(start: date, end: date) -> str:
    return f"{start:%d %b %Y} to {end:%d %b %Y}"


def labels(keys: Iterable[str], mapping: dict[str, str]) -> list[str]:
    return [mapping.get(k, k) for k in keys]
