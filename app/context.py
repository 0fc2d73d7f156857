"""What the entry point resolved for this run (user, scope, marts file, filters), for the pages.

Held in st.session_state, which lives on the server: a browser cannot set it (only widgets
write session state, and no widget uses these keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from app import data
from app.access import Scope, User

SESSION_KEY = "pulse_context"


@dataclass(frozen=True)
class Context:
    user: User
    scope: Scope
    marts: str  # path of the published marts.duckdb
    version: int  # its modification time (part of every cache key)
    filters: object  # app.filters.Filters (typed loosely to avoid an import cycle)
    topic_labels: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    users_are_demo: bool = False
    # {'tier' | 'chapter': {code: name}} (dim_segments): pages show names, filters keep codes.
    segment_names: dict[str, dict[str, str]] = field(
        default_factory=dict, hash=False, compare=False
    )

    def topic_label(self, key: str | None) -> str:
        if key is None:
            return "(none)"
        return self.topic_labels.get(key, key)

    def segment_name(self, kind: str, code: str) -> str:
        """The name of a tier or chapter code (kind 'tier' | 'chapter')."""
        return self.segment_names.get(kind, {}).get(code, code)

    def coverage(self) -> str:
        """Whose feedback the user's scope covers, by name: what a report for others states
        (the role's permissions, which the sidebar shows, mean nothing to a board)."""
        chapter = self.scope.chapter
        return (
            f"{self.segment_name('chapter', chapter)} chapter only" if chapter else "all chapters"
        )

    def name_segments(self, frame: pd.DataFrame) -> pd.DataFrame:
        return data.name_segments(frame, self.segment_names)

    def describe_filters(self) -> str:
        """The applied filters in words, with topic and segment names."""
        return self.filters.describe(self.topic_labels, self.segment_names)


def set_current(ctx: Context) -> None:
    st.session_state[SESSION_KEY] = ctx


def current() -> Context:
    return st.session_state[SESSION_KEY]
