"""The board report (app/report.py + app/app_pages/board_report.py): claims cite in-period items
of the reader's scope, every quote is an exact substring of a redacted text, a chapter manager's
report uses their chapter only, a viewer gets no quotes, Markdown/PDF exports are valid bytes
(non-Latin-1 text included) and an empty period says so."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from app import data, report
from app.access import AccessDenied, Scope
from tests.app.marts_fixture import END_DATE, Marts

OpenApp = Callable[..., AppTest]
PAGE = "app_pages/board_report.py"
LEAD = Scope("lead", None, item_level=True, can_review=False)
NORTH = Scope("north_manager", "North", item_level=True, can_review=False)
VIEWER = Scope("viewer", None, item_level=False, can_review=False)
LAST_30 = data.Slice(END_DATE - timedelta(days=29), END_DATE)
LAST_90 = data.Slice(END_DATE - timedelta(days=89), END_DATE)
LAST_42 = data.Slice(END_DATE - timedelta(days=41), END_DATE)  # the 42 days before have data
ID_PATTERN = re.compile(r"imis_[a-z]+:[A-Z0-9]+")


def _build(marts: Marts, scope: Scope, slice_: data.Slice) -> report.Report:
    frames = data.load_report_frames(str(marts.path), 0, scope, slice_)
    return report.build_report(
        frames,
        start=slice_.start,
        end=slice_.end,
        scope_label=scope.label,
        filters_text="test",
        include_quotes=scope.item_level,
    )


def _open_report(open_app: OpenApp, user: str, query: dict | None = None) -> AppTest:
    at = open_app(user, query=query or {"period": "30d"})
    return at.switch_page(PAGE).run()


def _page_html(at: AppTest) -> str:
    return " ".join(element.proto.body for element in at.get("html"))


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MediaFileManager]:
    """The media file managers AppTest creates (one per run): where download bytes live."""
    created: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(app_test_module, "MediaFileManager", Recording)
    return created


def test_report_renders_for_leadership(open_app: OpenApp, marts_source: Marts) -> None:
    at = _open_report(open_app, "lead")

    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.subheader] == ["Member feedback: board report"]
    shown = _page_html(at)
    for title in ("What changed since the previous period", "Top concerns by segment"):
        assert title in shown
    assert "What is working" in shown
    expected = _build(marts_source, LEAD, LAST_30)
    assert expected.claims and expected.quotes
    for claim in expected.claims:  # the page shows the same claims, ids and quotes
        for item_id in claim.item_ids:
            assert item_id in shown
    assert {m.label for m in at.metric} == {
        "Feedback items",
        "Net sentiment score",
        "High-urgency items",
    }
    assert [b.proto.label for b in at.get("download_button")] == [
        "Download Markdown",
        "Download PDF",
    ]
    assert any("template:v1" in c.value for c in at.caption)
    # The report states whose feedback it covers, not the reader's permissions.
    [header] = [c.value for c in at.caption if "compared with" in c.value]
    assert header.endswith("· all chapters"), header


@pytest.mark.parametrize("slice_", [LAST_30, LAST_42], ids=["30d", "42d"])
def test_claims_cite_items_of_the_period(marts_source: Marts, slice_: data.Slice) -> None:
    board = _build(marts_source, LEAD, slice_)
    created = {r["item_id"]: r["created_date"] for r in marts_source.feedback}

    assert {s.key for s in board.sections if s.claims} == {"changes", "concerns", "working"}
    for claim in board.claims:
        assert claim.item_ids, claim
        for item_id in claim.item_ids:
            assert item_id in created, item_id  # exists in the marts
            assert slice_.start <= created[item_id] <= slice_.end, (item_id, claim.text)
        for quote in claim.quotes:
            assert quote.item_id in claim.item_ids  # a quote backs its own claim
    # The figures are the marts' own.
    in_period = [
        r for r in marts_source.feedback if slice_.start <= r["created_date"] <= slice_.end
    ]
    assert board.current.items == len(in_period)


def _latest_three(mentions: list[dict]) -> list[str]:
    """The citation rule by hand: newest first, ties by item id."""
    ordered = sorted(mentions, key=lambda t: (-t["created_date"].toordinal(), t["item_id"]))
    return [t["item_id"] for t in ordered[:3]]


def _ids(value: object) -> list[str]:
    return [] if value is None or not hasattr(value, "__len__") else [str(v) for v in value]


@pytest.mark.parametrize(
    ("scope", "slice_"),
    [
        (LEAD, LAST_30),
        (LEAD, LAST_90),
        (NORTH, LAST_90),
        (LEAD, replace(LAST_90, tiers=("Student",), channels=("email", "case"))),
    ],
    ids=["lead-30d", "lead-90d", "north-90d", "student-email-case-90d"],
)
def test_citations_are_the_latest_three_mentions_of_each_group(
    marts_source: Marts, scope: Scope, slice_: data.Slice
) -> None:
    """Each topic's and each segment's cited ids are its latest three mentions of the slice
    (however the statements bound the days they rank), and the counts are the slice's own."""
    frames = data.report_frames(str(marts_source.path), scope, slice_)
    mentions = [
        t
        for t in marts_source.topics
        if slice_.start <= t["created_date"] <= slice_.end
        and t["channel"] in slice_.channels
        and (not slice_.tiers or t["member_tier"] in slice_.tiers)
        and scope.chapter in (None, t["member_chapter"])
    ]
    topics = frames["topics"].set_index("topic_key")
    assert set(topics.index) == {t["topic_key"] for t in mentions}
    checked = 0
    for key, row in topics.iterrows():
        for sentiment in ("positive", "negative"):
            of_group = [
                t for t in mentions if t["topic_key"] == key and t["topic_sentiment"] == sentiment
            ]
            assert row[sentiment] == len(of_group), (key, sentiment)
            assert _ids(row[f"{sentiment}_ids"]) == _latest_three(of_group), (key, sentiment)
            checked += len(of_group) > 3
    assert checked, "no group with more than three mentions: the bound went untested"

    concerns = frames["concerns"]
    for dimension, column in (("Member tier", "member_tier"), ("Chapter", "member_chapter")):
        negative = [t for t in mentions if t["topic_sentiment"] == "negative"]
        groups = {(t[column], t["topic_key"]) for t in negative}
        shown = concerns[concerns["dimension"] == dimension]
        assert set(zip(shown["segment"], shown["topic_key"], strict=True)) == groups
        for row in shown.itertuples():
            of_group = [
                t for t in negative if (t[column], t["topic_key"]) == (row.segment, row.topic_key)
            ]
            assert row.negative_count == len(of_group)
            assert _ids(row.item_ids) == _latest_three(of_group), (dimension, row.segment)

    # The evidence lookup (bounded by the cited days) finds every cited item's topic rows.
    cited = {
        i for column in ("positive_ids", "negative_ids") for v in topics[column] for i in _ids(v)
    }
    cited |= {i for v in concerns["item_ids"] for i in _ids(v)}
    evidence = frames["evidence"]
    assert set(evidence["item_id"]) == cited
    topic_rows = {(t["item_id"], t["topic_key"]) for t in marts_source.topics}
    assert {r for r in topic_rows if r[0] in cited} == set(
        zip(evidence["item_id"], evidence["topic_key"], strict=True)
    )


@pytest.mark.parametrize(
    ("days", "ranges"),
    [
        ([date(2026, 1, 5)], ((date(2026, 1, 5),) * 2, (date(2026, 1, 5),) * 2)),
        (
            [date(2026, 1, 1), date(2026, 1, 2), date(2026, 3, 1), date(2026, 3, 4)],
            ((date(2026, 1, 1), date(2026, 1, 2)), (date(2026, 3, 1), date(2026, 3, 4))),
        ),
        (
            [date(2025, 8, 1), date(2026, 1, 1), date(2026, 1, 2)],
            ((date(2025, 8, 1), date(2025, 8, 1)), (date(2026, 1, 1), date(2026, 1, 2))),
        ),
    ],
)
def test_cited_days_become_two_ranges_split_at_the_longest_gap(days, ranges) -> None:
    assert data._two_ranges(days) == ranges


def test_the_report_reads_on_one_connection_and_closes_it(
    marts_source: Marts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its statements run on several threads, on cursors of one connection: one opening per
    report (or none inside a page render, which already has one), closed when it is done."""
    opened: list[duckdb.DuckDBPyConnection] = []
    connect = duckdb.connect

    def counted(*args, **kwargs) -> duckdb.DuckDBPyConnection:
        opened.append(connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(duckdb, "connect", counted)
    alone = data.report_frames(str(marts_source.path), LEAD, LAST_90)
    assert len(opened) == 1
    with pytest.raises(duckdb.ConnectionException):
        opened[0].execute("select 1")
    with data.one_connection_per_render():
        data.load_kpis(str(marts_source.path), 1, LEAD, LAST_30)
        again = data.report_frames(str(marts_source.path), LEAD, LAST_90)
        assert len(opened) == 2  # the render's own, shared by the report
        assert opened[1].execute("select 1").fetchone() == (1,)  # open until the render ends
    assert set(alone) == set(again) == {"topics", "concerns", "kpis", "prev_kpis", "evidence"}
    for name, frame in alone.items():
        pd.testing.assert_frame_equal(frame, again[name])


def test_every_quote_is_an_exact_substring(marts_source: Marts) -> None:
    texts = {r["item_id"]: r["redacted_text"] for r in marts_source.feedback}
    board = _build(marts_source, LEAD, LAST_90)
    assert board.quotes
    for quote in board.quotes:
        assert quote.text and quote.text in texts[quote.item_id]
    assert board.dropped_quotes == 0


def test_a_quote_that_is_not_a_substring_is_dropped(marts_source: Marts) -> None:
    frames = data.load_report_frames(str(marts_source.path), 0, LEAD, LAST_30)
    evidence = frames["evidence"].copy()
    # Tamper with every evidence quote: a paraphrase, whitespace only, or missing entirely.
    tampered = ["The model paraphrased this", "   ", None]
    evidence["evidence"] = [tampered[i % 3] for i in range(len(evidence))]
    frames = {**frames, "evidence": evidence}
    board = report.build_report(
        frames,
        start=LAST_30.start,
        end=LAST_30.end,
        scope_label="x",
        filters_text="x",
        include_quotes=True,
    )
    assert board.claims and not board.quotes
    assert board.dropped_quotes > 0
    assert f"{board.dropped_quotes} that failed the check were left out" in " ".join(
        report.footer_lines(board)
    )
    # The check a model-phrased report goes through again.
    good = _build(marts_source, LEAD, LAST_30)
    assert good.quotes
    forged = report.Claim(
        "forged", ("imis_email:1000",), quotes=(report.Quote("imis_email:1000", "not in it"),)
    )
    mixed = replace(good, sections=(*good.sections, report.Section("x", "x", (forged,), "")))
    texts = {r["item_id"]: r["redacted_text"] for r in marts_source.feedback}
    checked = report.verify_quotes(mixed, texts)
    assert len(checked.quotes) == len(good.quotes)
    assert checked.dropped_quotes == 1


def test_chapter_manager_report_uses_only_their_chapter(
    open_app: OpenApp, marts_source: Marts
) -> None:
    chapter_of = {r["item_id"]: r["member_chapter"] for r in marts_source.feedback}
    board = _build(marts_source, NORTH, LAST_90)
    assert board.claims
    assert {chapter_of[i] for i in board.cited_ids} == {"North"}
    assert {chapter_of[q.item_id] for q in board.quotes} == {"North"}
    assert not any("South" in claim.text for claim in board.claims)
    north_items = [
        r
        for r in marts_source.items(member_chapter="North")
        if LAST_90.start <= r["created_date"] <= LAST_90.end
    ]
    assert board.current.items == len(north_items)

    at = _open_report(open_app, "north_manager", {"period": "90d"})
    assert not at.exception and not at.error
    shown = _page_html(at)
    cited = set(ID_PATTERN.findall(shown))
    assert cited and {chapter_of[i] for i in cited} == {"North"}
    assert "South" not in shown
    [header] = [c.value for c in at.caption if "compared with" in c.value]
    assert header.endswith("· Northern Lakes chapter only"), header  # the chapter's name


def test_viewer_sees_no_quotes(open_app: OpenApp, marts_source: Marts) -> None:
    # No Board report page for an aggregate-only role ...
    at = open_app("viewer")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)
    # ... the query layer refuses the report's item-level statements ...
    with pytest.raises(AccessDenied, match="aggregates only"):
        data.load_report_frames(str(marts_source.path), 0, VIEWER, LAST_30)
    # ... and a report built without quotes exports none.
    frames = data.load_report_frames(str(marts_source.path), 0, LEAD, LAST_30)
    board = report.build_report(
        frames,
        start=LAST_30.start,
        end=LAST_30.end,
        scope_label=VIEWER.label,
        filters_text="x",
        include_quotes=False,
    )
    assert board.claims and not board.quotes
    markdown = report.to_markdown(board)
    assert "Hi team" not in markdown and "> " not in markdown
    assert "not shown to your role" in markdown
    assert "<blockquote" not in report.to_html(board)


def test_downloads_produce_valid_bytes(open_app: OpenApp, media: list) -> None:
    at = _open_report(open_app, "lead")
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    manager = media[-1]

    markdown_file = manager.read_file(buttons["Download Markdown"].url.rsplit("/", 1)[1])
    markdown = markdown_file.content.decode("utf-8")
    assert markdown.startswith("# Member feedback: board report\n")
    assert "## Top concerns by segment" in markdown
    assert ID_PATTERN.search(markdown)

    assert buttons["Download PDF"].deferred_file_id  # built on click only
    url = manager.execute_deferred(buttons["Download PDF"].deferred_file_id)
    pdf = manager.read_file(url.rsplit("/", 1)[1]).content
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 1000


def _pdf_text(pdf: bytes) -> str:
    """The page content streams of a core-font PDF, decompressed (enough to find text)."""
    chunks = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)).decode("latin-1"))
        except zlib.error:
            chunks.append(match.group(1).decode("latin-1"))
    return "\n".join(chunks)


UNICODE_TEXT = "Zoë wrote “great” — 東京 Ελληνικά Привет مرحبا 🙂 Łódź\u0007 end"


def _unicode_report() -> report.Report:
    claim = report.Claim(
        f"Topic {UNICODE_TEXT}: 3 mentions.",
        ("imis_email:1",),
        "t",
        (report.Quote("imis_email:1", UNICODE_TEXT),),
    )
    return report.Report(
        title="Board report ✓",
        start=date(2026, 1, 1),
        end=date(2026, 1, 31),
        prev_start=date(2025, 12, 1),
        prev_end=date(2025, 12, 31),
        scope_label="all chapters",
        filters_text="topic 東京",
        current=report.Figures(3, 3, 1, 2, 0),
        previous=report.Figures(1, 1, 1, 0, 0),
        sections=(report.Section("changes", "What changed", (claim,), "none"),),
        include_quotes=True,
    )


def test_pdf_with_non_latin1_text_is_transliterated_and_says_so() -> None:
    pdf = report.to_pdf(_unicode_report(), font_path=None)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = _pdf_text(pdf)
    assert "Zo\xeb wrote" in text  # Latin-1 letters are kept
    assert "L\xf3dz" in text  # others lose their accents (Ł -> L, ź -> z)
    assert "transliterated" in text


def test_latin1_transliteration() -> None:
    safe, changed = report.to_latin1(UNICODE_TEXT)
    assert changed
    safe.encode("latin-1")  # never raises
    assert safe.startswith('Zoë wrote "great" - ?? ')
    assert safe.endswith("? Lódz end")  # the control character is dropped
    assert report.to_latin1("café, naïve: 12 €") == ("café, naïve: 12 EUR", True)
    assert report.to_latin1("plain ascii\nline") == ("plain ascii line", False)


def test_pdf_with_a_unicode_font_when_one_is_available() -> None:
    font = report.pdf_font_path()
    if font is None:
        pytest.skip("no Unicode TTF on this machine (DejaVu Sans or PULSE_PDF_FONT)")
    pdf = report.to_pdf(_unicode_report(), font_path=font)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"DejaVu" in pdf or b"FontFile2" in pdf  # the font is embedded


def test_markdown_and_html_render_member_text_as_text() -> None:
    hostile = "the <b>conference app</b> [click](http://x) # _crashed_ & `rm`"
    claim = report.Claim(
        "Topic: 2 mentions.",
        ("imis_email:HTML1",),
        "t",
        (report.Quote("imis_email:HTML1", hostile),),
    )
    board = replace(
        _unicode_report(), sections=(report.Section("c", "Concerns", (claim,), "none"),)
    )
    markdown = report.to_markdown(board)
    assert "<b>" not in markdown and "[click](" not in markdown
    assert r"\<b\>conference app\</b\>" in markdown
    rendered = report.to_html(board)
    assert "<b>" not in rendered and "&lt;b&gt;conference app&lt;/b&gt;" in rendered


def test_empty_period_shows_a_clear_empty_state(open_app: OpenApp) -> None:
    # The proposed topic is never an item's primary topic and has no mention in the last week.
    at = _open_report(open_app, "lead", {"period": "7d", "topic": "proposed:parking_at_venue"})
    assert not at.exception and not at.error
    assert any("nothing to report" in i.value for i in at.info), [i.value for i in at.info]
    assert not at.get("download_button")
    assert not at.subheader


def test_report_without_previous_data_does_not_invent_changes(marts_source: Marts) -> None:
    everything = data.Slice(END_DATE - timedelta(days=400), END_DATE)
    board = _build(marts_source, LEAD, everything)
    changes = next(s for s in board.sections if s.key == "changes")
    assert board.previous.items == 0 and not changes.claims
    assert "nothing to compare with" in changes.empty_text


def test_model_seam_keeps_the_template_and_calls_nothing(
    open_app: OpenApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert report.narrator_for("builtin").name == report.TEMPLATE_VERSION
    assert report.narrator_for("builtin").note is None
    narrator = report.narrator_for("azure/gpt-4o")
    assert narrator.name == report.TEMPLATE_VERSION and "azure/gpt-4o" in narrator.note

    monkeypatch.setenv("PULSE_MODEL", "azure/gpt-4o")
    at = _open_report(open_app, "lead")
    assert not at.exception and not at.error
    assert any("not enabled for board reports yet" in c.value for c in at.caption)


def test_long_quotes_are_cut_to_a_prefix_that_is_still_a_substring() -> None:
    text = "Hi team, " + "the renewal form keeps timing out " * 20 + "Thanks."
    quote = text[9:-8]
    cut = report.verified_quote(quote, text)
    assert cut and len(cut) <= report.MAX_QUOTE_CHARS and cut in text
    assert report.verified_quote("not there", text) is None
    assert report.verified_quote(None, text) is None
    assert report.verified_quote("  ", text) is None
