"""The sidebar filters every page shares, mirrored in the URL query string for sharing.

URL parameters: `period` (one of data.PERIODS), and repeatable `channel`, `tier`, `chapter`,
`topic`. Values are only ever compared against the options the signed-in user's scope offers
(read from the marts); anything else (a typo, quotes, a SQL fragment) is dropped and the URL is
rewritten to the filters actually applied. Nothing from the URL reaches SQL except as a bound
parameter, and the query layer binds the user's chapter whatever the filters say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import streamlit as st

from app import data

URL_KEYS = ("period", "channel", "tier", "chapter", "topic")


@dataclass(frozen=True)
class Filters:
    period: str
    start: date
    end: date
    channels: tuple[str, ...] = data.CHANNELS
    tiers: tuple[str, ...] = ()
    chapters: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()

    @property
    def all_channels(self) -> bool:
        return set(self.channels) == set(data.CHANNELS)

    @property
    def slice(self) -> data.Slice:
        return data.Slice(
            self.start, self.end, self.channels, self.tiers, self.chapters, self.topics
        )

    def describe(
        self,
        topic_labels: dict[str, str] | None = None,
        segment_names: dict[str, dict[str, str]] | None = None,
    ) -> str:
        topic_labels = topic_labels or {}
        tier_names = (segment_names or {}).get("tier", {})
        chapter_names = (segment_names or {}).get("chapter", {})
        parts = [
            f"{self.start:%d %b %Y} to {self.end:%d %b %Y}",
            "all channels" if self.all_channels else ", ".join(self.channels),
        ]
        if self.tiers:
            parts.append("tier " + ", ".join(tier_names.get(t, t) for t in self.tiers))
        if self.chapters:
            parts.append("chapter " + ", ".join(chapter_names.get(c, c) for c in self.chapters))
        if self.topics:
            parts.append("topic " + ", ".join(topic_labels.get(t, t) for t in self.topics))
        return " · ".join(parts)


def allowed(values: Sequence[str], options: Sequence[str]) -> list[str]:
    """`values` that are exactly one of `options`, in the options' order, without repeats."""
    wanted = set(values)
    return [o for o in options if o in wanted]


def _url_values(name: str, options: Sequence[str]) -> list[str]:
    return allowed(st.query_params.get_all(name), options)


def sidebar_filters(
    first: date,
    last: date,
    options: dict[str, list[str]],
    topic_labels: dict[str, str],
    segment_names: dict[str, dict[str, str]],
) -> Filters:
    """Draw the filters (defaults from the URL), then write the applied filters to the URL."""
    url_period = st.query_params.get("period", data.DEFAULT_PERIOD)
    if url_period not in data.PERIODS:
        url_period = data.DEFAULT_PERIOD
    tier_names, chapter_names = segment_names.get("tier", {}), segment_names.get("chapter", {})
    # Codes are the values (URL, queries, scopes); people pick by name, in name order.
    tiers_options = sorted(options.get("tier", []), key=lambda c: tier_names.get(c, c))
    chapter_options = sorted(options.get("chapter", []), key=lambda c: chapter_names.get(c, c))
    topic_options = list(topic_labels)

    with st.sidebar:
        st.header("Filters")
        period = st.selectbox(
            "Period",
            options=list(data.PERIODS),
            index=list(data.PERIODS).index(url_period),
            format_func=lambda key: data.PERIODS[key][0],
            key="filter_period",
            help="Counted back from the latest day in the published data.",
        )
        chosen_channels = st.multiselect(
            "Channel",
            options=list(data.CHANNELS),
            default=_url_values("channel", data.CHANNELS) or list(data.CHANNELS),
            key="filter_channels",
            help="Leave empty for all channels.",
        )
        tiers = st.multiselect(
            "Member tier",
            options=tiers_options,
            default=_url_values("tier", tiers_options),
            format_func=lambda code: tier_names.get(code, code),
            key="filter_tiers",
            placeholder="All tiers",
        )
        chapters = st.multiselect(
            "Chapter",
            options=chapter_options,
            default=_url_values("chapter", chapter_options),
            format_func=lambda code: chapter_names.get(code, code),
            key="filter_chapters",
            placeholder="All chapters"
            if len(chapter_options) != 1
            else chapter_names.get(chapter_options[0], chapter_options[0]),
            help="Chapter managers see their own chapter only.",
        )
        topics = st.multiselect(
            "Topic",
            options=topic_options,
            default=_url_values("topic", topic_options),
            format_func=lambda key: topic_labels.get(key, key),
            key="filter_topics",
            placeholder="All topics",
        )

    channels = tuple(allowed(chosen_channels, data.CHANNELS)) or data.CHANNELS
    start, end = data.period_window(period, first, last)
    filters = Filters(
        period=period,
        start=start,
        end=end,
        channels=channels,
        tiers=tuple(allowed(tiers, tiers_options)),
        chapters=tuple(allowed(chapters, chapter_options)),
        topics=tuple(allowed(topics, topic_options)),
    )
    write_query_params(filters)
    return filters


def write_query_params(filters: Filters) -> None:
    """Keep the URL equal to the filters applied (only non-default values are written)."""
    if st.query_params.get("period") != filters.period:
        st.query_params["period"] = filters.period
    wanted = {
        "channel": [] if filters.all_channels else list(filters.channels),
        "tier": list(filters.tiers),
        "chapter": list(filters.chapters),
        "topic": list(filters.topics),
    }
    for name, values in wanted.items():
        if st.query_params.get_all(name) == values:
            continue
        if values:
            st.query_params[name] = values
        elif name in st.query_params:
            del st.query_params[name]
