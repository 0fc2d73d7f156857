"""The sidebar filters every page shares, mirrored in the URL (st.query_params) for sharing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from app.data import CHANNELS, DEFAULT_PERIOD, PERIODS, period_window

SESSION_KEY = "filters"


@dataclass(frozen=True)
class Filters:
    period: str
    start: date
    end: date
    channels: tuple[str, ...]

    @property
    def all_channels(self) -> bool:
        return set(self.channels) == set(CHANNELS)


def sidebar_filters(first: date, last: date) -> Filters:
    """Draw the period and channel filters; read the URL once, then keep it in step."""
    url_period = st.query_params.get("period", DEFAULT_PERIOD)
    if url_period not in PERIODS:
        url_period = DEFAULT_PERIOD
    url_channels = [c for c in st.query_params.get_all("channel") if c in CHANNELS]

    with st.sidebar:
        st.header("Filters")
        period = st.selectbox(
            "Period",
            options=list(PERIODS),
            index=list(PERIODS).index(url_period),
            format_func=lambda key: PERIODS[key][0],
            key="filter_period",
            help="Counted back from the latest day in the published data.",
        )
        chosen = st.multiselect(
            "Channel",
            options=list(CHANNELS),
            default=url_channels or list(CHANNELS),
            key="filter_channels",
            help="Leave empty for all channels.",
        )

    channels = tuple(c for c in CHANNELS if c in chosen) or CHANNELS
    _write_query_params(period, channels)
    start, end = period_window(period, first, last)
    filters = Filters(period=period, start=start, end=end, channels=channels)
    st.session_state[SESSION_KEY] = filters
    return filters


def current() -> Filters:
    """The filters the entry point drew for this run (pages call this)."""
    return st.session_state[SESSION_KEY]


def _write_query_params(period: str, channels: tuple[str, ...]) -> None:
    if st.query_params.get("period") != period:
        st.query_params["period"] = period
    wanted = [] if set(channels) == set(CHANNELS) else list(channels)
    if st.query_params.get_all("channel") != wanted:
        if wanted:
            st.query_params["channel"] = wanted
        elif "channel" in st.query_params:
            del st.query_params["channel"]
