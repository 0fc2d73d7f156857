"""Member Pulse dashboard: entry point (`streamlit run app/streamlit_app.py`).

Draws the shared title and sidebar filters, then runs the selected page from `app/app_pages/`.
The folder is deliberately not `pages/`: Streamlit 1.67 still switches to its legacy v1
multipage mode whenever `<entry dir>/pages` exists (PagesManager.uses_pages_directory), and
then reruns a page script directly, skipping this entry point (no title, no filters).
Reads only the published marts ($PULSE_HOME/marts.duckdb), never the working warehouse.
"""

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts app/ (this file's folder) on sys.path, not the repository root; the app
# imports its own package and orchestration.lib (plain code), so make the root importable.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from app import data  # noqa: E402
from app.filters import sidebar_filters  # noqa: E402

st.set_page_config(page_title="Member Pulse", page_icon=":material/monitoring:", layout="wide")

page = st.navigation(
    [
        st.Page(
            "app_pages/overview.py",
            title="Overview",
            icon=":material/dashboard:",
            url_path="overview",
            default=True,
        ),
    ],
    position="top",
)

st.title("Member Pulse")

marts = data.marts_path()
if not marts.exists():
    st.info(
        f"No published marts yet (looked for `{marts}`). Run `make pipeline` first: it ingests "
        "and labels the feedback, builds the dbt marts and publishes them for this dashboard. "
        "Set `PULSE_HOME` if your data lives elsewhere.",
        icon=":material/hourglass_empty:",
    )
    st.stop()

try:
    bounds = data.load_date_bounds(str(marts), data.marts_version(marts))
except data.MartsUnavailable as exc:
    st.error(f"{exc}", icon=":material/error:")
    st.caption("Re-run `make pipeline` to publish the marts again.")
    st.stop()

if bounds is None:
    st.info(
        "The published marts hold no feedback yet. Check the ingest runs in Dagster, "
        "then run `make pipeline` again.",
        icon=":material/inbox:",
    )
    st.stop()

sidebar_filters(*bounds)
page.run()
