"""Pure helpers of the dashboard: period windows, NSS, safe highlighting, id lists, and the
layering rule (the app imports neither Dagster nor the orchestration definitions)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest

from app import data, ui
from app.filters import allowed
from tests.app.conftest import APP
from tests.app.marts_fixture import END_DATE

REPO_ROOT = APP.parents[1]


def test_period_window_is_anchored_on_the_latest_day_of_data() -> None:
    first = date(2025, 1, 1)
    assert data.period_window("7d", first, END_DATE) == (date(2026, 2, 23), END_DATE)
    assert data.period_window("all", first, END_DATE) == (first, END_DATE)
    assert data.period_window("365d", date(2026, 2, 1), END_DATE) == (date(2026, 2, 1), END_DATE)
    assert data.period_window("bogus", first, END_DATE) == data.period_window(
        "30d", first, END_DATE
    )


def test_net_sentiment_score_mirrors_the_dbt_macro() -> None:
    assert data.net_sentiment_score(2, 1, 4) == 25.0
    assert data.net_sentiment_score(1, 2, 3) == -33.33
    assert data.net_sentiment_score(0, 0, 3) == 0.0
    assert data.net_sentiment_score(0, 0, 0) is None


def test_rolling_nss_sums_each_window_and_never_averages_daily_scores() -> None:
    daily = pd.DataFrame(
        {
            "period_start": pd.to_datetime(
                ["2026-02-20", "2026-02-22", "2026-02-26", "2026-02-10"]
            ),
            "channel": ["email", "email", "email", "case"],
            "item_count": [12, 1, 4, 2],
            "labelled_count": [10, 1, 4, 2],
            "positive_count": [10, 0, 1, 2],
            "negative_count": [0, 1, 3, 0],
        }
    )
    rolled = data.rolling_nss(daily, date(2026, 2, 24), date(2026, 2, 27), days=7)
    email = rolled[rolled["channel"] == "email"].set_index("period_start")
    # 24 Feb: 18-24 Feb holds the 20th and 22nd: (10 - 1) / 11, not the mean of +100 and -100
    assert email.loc["2026-02-24", "net_sentiment_score"] == 81.8
    assert email.loc["2026-02-24", "item_count"] == 13
    assert email.loc["2026-02-26", "net_sentiment_score"] == round(100 * (11 - 4) / 15, 1)
    assert email.loc["2026-02-27", "net_sentiment_score"] == -60.0  # the 22nd and the 26th
    assert list(email.index) == list(pd.date_range("2026-02-24", "2026-02-27"))
    # a window without labelled items has no score (a gap in the line), not 0
    assert rolled[rolled["channel"] == "case"]["net_sentiment_score"].isna().all()


def test_highlight_escapes_every_part_and_marks_the_quote() -> None:
    text = 'Hi <PERSON_1>, the <b>app</b> & "site" crashed'
    out = ui.highlight_html(text, "the <b>app</b>")
    assert out == (
        "Hi &lt;PERSON_1&gt;, <mark>the &lt;b&gt;app&lt;/b&gt;</mark> &amp; "
        "&quot;site&quot; crashed"
    )
    assert ui.highlight_html(text, "not in the text") == ui.highlight_html(text, None)
    assert "<mark>" not in ui.highlight_html(text, None)
    assert ui.highlight_html(None, "x") == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a:1,b:2, c:3", ["a:1", "b:2", "c:3"]),
        (["a:1", "b:2"], ["a:1", "b:2"]),
        (np.array(["a:1"]), ["a:1"]),
        (None, []),
        (float("nan"), []),
        ("", []),
    ],
)
def test_split_ids_reads_lists_and_comma_strings(value: object, expected: list[str]) -> None:
    assert ui.split_ids(value) == expected


def test_allowed_keeps_only_exact_options_in_their_order() -> None:
    options = ["North", "South"]
    assert allowed(["South", "North' or 1=1", "North", "South"], options) == ["North", "South"]
    assert allowed(["north"], options) == []


def test_app_imports_neither_dagster_nor_orchestration_defs() -> None:
    code = (
        "import sys; import app.data, app.filters, app.access, app.login, app.redact, app.ui; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'dagster_dbt') "
        "or m.startswith('orchestration.defs')); print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pages_live_outside_a_pages_folder() -> None:
    # Streamlit's legacy multipage mode would rerun a page without the entry point (no sign-in).
    assert not (APP.parent / "pages").exists()
    assert (APP.parent / "app_pages" / "overview.py").exists()


def test_urgency_reasons_read_as_plain_text():
    from app.ui import reasons_text

    assert reasons_text('["rule: billing error or double charge", "deadline"]') == (
        "billing error or double charge; deadline"
    )
    assert reasons_text(None) == "" and reasons_text("[]") == ""
    assert reasons_text("not json") == "not json"
