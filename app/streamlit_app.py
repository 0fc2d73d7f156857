"""Member Pulse dashboard: entry point (`streamlit run app/streamlit_app.py`).

Every run: sign the user in (app/login.py), resolve their access `Scope` (app/access.py), check
the published marts, draw the shared sidebar filters (mirrored in the URL), then run the page
selected in `st.navigation`. The pages a role may open are the only ones registered for it.
The page folder is deliberately `app_pages/`, not `pages/`: Streamlit 1.67 switches to its
legacy v1 multipage mode whenever `<entry dir>/pages` exists and then reruns a page script
without this entry point (no sign-in, no filters). Reads only the published marts
($PULSE_HOME/marts.duckdb) and the app's own state store, never the working warehouse.
"""

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts app/ (this file's folder) on sys.path, not the repository root; the app
# imports its own package and orchestration.lib (plain code), so make the root importable.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from app import context, data, login  # noqa: E402
from app.access import UsersFileError  # noqa: E402
from app.filters import sidebar_filters  # noqa: E402

st.set_page_config(page_title="Member Pulse", page_icon=":material/monitoring:", layout="wide")

PAGES = {
    # url path: (file, title, icon, needs item-level access)
    "overview": ("app_pages/overview.py", "Overview", ":material/dashboard:", False),
    "topics": ("app_pages/topics.py", "Topics", ":material/category:", False),
    "segments": ("app_pages/segments.py", "Segments", ":material/groups:", False),
    "emerging": ("app_pages/emerging.py", "Emerging issues", ":material/trending_up:", False),
    "review": ("app_pages/review_queue.py", "Review queue", ":material/fact_check:", True),
    "ask": ("app_pages/ask.py", "Ask a question", ":material/search:", False),
    "report": (
        "app_pages/board_report.py",
        "Board report",
        ":material/description:",
        True,
    ),  # not written yet: registered once the file exists
}

try:
    user, users_are_demo = login.signed_in()
except UsersFileError as exc:
    st.title("Member Pulse")
    st.error(str(exc), icon=":material/error:")
    st.stop()

if user is None:
    st.title("Member Pulse")
    st.navigation([st.Page(login.login_page, title="Sign in", url_path="login")]).run()
    st.stop()

scope = user.scope
available = {
    url: spec
    for url, spec in PAGES.items()
    if (not spec[3] or scope.item_level) and (Path(__file__).parent / spec[0]).exists()
}
page = st.navigation(
    [
        st.Page(file, title=title, icon=icon, url_path=url, default=url == "overview")
        for url, (file, title, icon, _) in available.items()
    ],
    position="top",
)

st.title("Member Pulse")
with st.sidebar:
    st.markdown(f"**{user.name}**  \n{user.role_text}")
    st.caption(scope.label)
    if users_are_demo:
        st.caption(":orange[:material/warning: demo accounts (config/users.example.yaml)]")
    if st.button("Sign out", icon=":material/logout:", key="sign_out"):
        login.sign_out()
        st.rerun()

marts = data.marts_path()
if not marts.exists():
    st.info(
        f"No published marts yet (looked for `{marts}`). Run `make pipeline` first: it ingests "
        "and labels the feedback, builds the dbt marts and publishes them for this dashboard. "
        "Set `PULSE_HOME` if your data lives elsewhere.",
        icon=":material/hourglass_empty:",
    )
    st.stop()

path, version = str(marts), data.marts_version(marts)
# One read-only connection for the whole render (opened only if a loader misses its cache).
with data.one_connection_per_render():
    try:
        bounds = data.load_date_bounds(path, version, scope)
        options = data.load_filter_options(path, version, scope) if bounds else {}
        topics = data.load_topics(path, version, scope) if bounds else None
        segment_names = data.load_segment_names(path, version, scope) if bounds else {}
    except data.MartsUnavailable as exc:
        st.error(f"{exc}", icon=":material/error:")
        st.caption("Re-run `make pipeline` to publish the marts again.")
        st.stop()

    if bounds is None:
        st.info(
            "The published marts hold no feedback yet"
            + (f" for chapter {scope.chapter}" if scope.chapter else "")
            + ". Check the ingest runs in Dagster, then run `make pipeline` again.",
            icon=":material/inbox:",
        )
        st.stop()

    topic_labels = dict(zip(topics["topic_key"], topics["topic_label"], strict=True))
    filters = sidebar_filters(*bounds, options, topic_labels, segment_names)
    context.set_current(
        context.Context(
            user=user,
            scope=scope,
            marts=path,
            version=version,
            filters=filters,
            topic_labels=topic_labels,
            users_are_demo=users_are_demo,
            segment_names=segment_names,
        )
    )
    try:
        page.run()
    except data.MartsUnavailable as exc:
        st.error(f"{exc}", icon=":material/error:")
        st.caption("Re-run `make pipeline` to publish the marts again.")
