"""The board report: a short narrative for a period, built from `data.load_report_frames`.

Plain Python (no Streamlit), so it is tested on its own. Three parts:

- `build_report(frames, ...)`: a deterministic template turns the figures into `Claim`s grouped
  in sections (what changed against the previous period of the same length, top concerns by
  segment, what is working). Every claim cites the item ids it rests on, all from the period
  and the reader's scope (the frames come from scoped queries); a sentence with nothing to cite
  is left out rather than stated without evidence. Quotes are the model's evidence quotes, kept
  only when they are an exact, non-empty substring of the item's redacted text (anything else
  is dropped and counted); an aggregate-only reader gets no quotes at all.
- The narrator seam: `narrator_for(model)` returns what phrases the report. The embedded
  default (`PULSE_MODEL=builtin`) and, for now, every configured model use the template
  (`TemplateNarrator`). A model-backed narrator may later rewrite `Claim.text` only: it must
  keep the claims, their ids and quotes, send redacted text only, and go through the same
  checks (`verify_quotes`) before anything is shown. No model is called here.
- Exports: `to_markdown(report)` (member text escaped so it renders as text) and
  `to_pdf(report)` (fpdf2). fpdf2 2.8.9 bundles no Unicode font: the PDF uses a Unicode TTF
  when one is configured (`PULSE_PDF_FONT`) or found at the usual system paths (DejaVu Sans),
  and otherwise the core Helvetica font with text transliterated to Latin-1 (accents kept where
  Latin-1 has them, other characters folded or replaced by '?'); the PDF then says so.
"""

from __future__ import annotations

import html
import math
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

TEMPLATE_VERSION = "template:v1"
MAX_CHANGES = 5  # topics in "what changed"
MAX_CONCERNS = 3  # (segment, topic) pairs per segment dimension
MAX_WORKING = 3  # topics in "what is working"
MIN_MENTIONS = 3  # a topic needs this many mentions in the period to be reported on
MAX_QUOTES = 2  # per claim
MAX_QUOTE_CHARS = 240

# Unicode fonts tried, in order, when PULSE_PDF_FONT is not set (Debian/Ubuntu, Fedora, macOS).
SYSTEM_UNICODE_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)


@dataclass(frozen=True)
class Quote:
    item_id: str
    text: str  # an exact substring of the item's redacted text


@dataclass(frozen=True)
class Claim:
    text: str  # built from figures and taxonomy labels only, never from member text
    item_ids: tuple[str, ...]  # the items it rests on (never empty)
    topic_key: str | None = None
    quotes: tuple[Quote, ...] = ()


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    claims: tuple[Claim, ...]
    empty_text: str


@dataclass(frozen=True)
class Figures:
    items: int
    labelled: int
    positive: int
    negative: int
    high_urgency: int

    @property
    def nss(self) -> float | None:
        return _nss(self.positive, self.negative, self.labelled)


@dataclass(frozen=True)
class Report:
    title: str
    start: date
    end: date
    prev_start: date
    prev_end: date
    scope_label: str
    filters_text: str
    current: Figures
    previous: Figures
    sections: tuple[Section, ...]
    include_quotes: bool
    dropped_quotes: int = 0  # evidence quotes left out because they were not exact substrings
    narrator: str = TEMPLATE_VERSION
    notes: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return self.current.items == 0

    @property
    def claims(self) -> list[Claim]:
        return [claim for section in self.sections for claim in section.claims]

    @property
    def quotes(self) -> list[Quote]:
        return [quote for claim in self.claims for quote in claim.quotes]

    @property
    def cited_ids(self) -> set[str]:
        return {item_id for claim in self.claims for item_id in claim.item_ids}

    @property
    def period_text(self) -> str:
        return _period(self.start, self.end)

    @property
    def previous_text(self) -> str:
        return _period(self.prev_start, self.prev_end)

    def summary_lines(self) -> list[str]:
        """The headline figures, this period against the previous one."""
        cur, prev = self.current, self.previous
        lines = [
            f"Feedback items: {cur.items:,} (previous period: {prev.items:,}).",
            f"Net sentiment score: {_score(cur.nss)} (previous period: {_score(prev.nss)}).",
            f"High-urgency items: {cur.high_urgency:,} (previous period: {prev.high_urgency:,}).",
        ]
        if cur.labelled:
            share = 100.0 * cur.negative / cur.labelled
            lines.append(f"Negative: {share:.1f} % of {cur.labelled:,} labelled items.")
        return lines


# ------------------------------------------------------------------------------------------
# Building the report


def build_report(
    frames: Mapping[str, pd.DataFrame],
    *,
    start: date,
    end: date,
    scope_label: str,
    filters_text: str,
    include_quotes: bool,
    topic_label: Callable[[str], str] | None = None,
    title: str = "Member feedback: board report",
) -> Report:
    """The report for `frames` (data.load_report_frames) by the deterministic template; the
    previous period is the one the frames compare with (`prev_window`)."""
    prev_start, prev_end = prev_window(start, end)
    label = topic_label or (lambda key: key)
    topics = frames["topics"].copy()
    if not topics.empty:
        topics["label"] = [
            _label(label, k, lbl)
            for k, lbl in zip(topics["topic_key"], topics["topic_label"], strict=True)
        ]
    current, previous = _figures(frames["kpis"]), _figures(frames["prev_kpis"])
    sections = (
        Section(
            "changes",
            "What changed since the previous period",
            tuple(_changes(topics)) if previous.items else (),
            "No topic moved noticeably against the previous period."
            if previous.items
            else "The marts hold no feedback for the previous period "
            f"({_period(prev_start, prev_end)}) in this scope: nothing to compare with.",
        ),
        Section(
            "concerns",
            "Top concerns by segment",
            tuple(_concerns(frames["concerns"], label)),
            "No negative topic mentions in this period.",
        ),
        Section(
            "working",
            "What is working",
            tuple(_working(topics)),
            "No topic drew more positive than negative mentions in this period.",
        ),
    )
    report = Report(
        title=title,
        start=start,
        end=end,
        prev_start=prev_start,
        prev_end=prev_end,
        scope_label=scope_label,
        filters_text=filters_text,
        current=current,
        previous=previous,
        sections=sections,
        include_quotes=include_quotes,
    )
    if include_quotes:
        report = attach_quotes(report, frames["evidence"])
    return report


def _figures(kpis: pd.DataFrame) -> Figures:
    row = kpis.iloc[0] if not kpis.empty else {}

    def count(name: str) -> int:
        value = row.get(name) if len(row) else None
        return 0 if value is None or pd.isna(value) else int(value)

    return Figures(
        items=count("item_count"),
        labelled=count("labelled_count"),
        positive=count("positive_count"),
        negative=count("negative_count"),
        high_urgency=count("high_urgency_count"),
    )


def _changes(topics: pd.DataFrame) -> list[Claim]:
    """Topics whose net sentiment or volume moved most against the previous period."""
    candidates = []
    for row in topics.itertuples(index=False):
        items, prev_items = int(row.items), int(row.prev_items)
        if items < MIN_MENTIONS:
            continue
        now = _nss(int(row.positive), int(row.negative), items)
        if prev_items == 0:
            ids = _ids(row.negative_ids) or _ids(row.positive_ids)
            text = (
                f"{row.label} is new this period: {items} mentions "
                f"({int(row.positive)} positive, {int(row.negative)} negative; "
                f"net sentiment {_score(now)})."
            )
            candidates.append((math.inf, items, row.topic_key, Claim(text, ids, row.topic_key)))
            continue
        before = _nss(int(row.prev_positive), int(row.prev_negative), prev_items)
        change = (now or 0.0) - (before or 0.0)
        volume = 100.0 * (items - prev_items) / prev_items
        if abs(change) < 5 and abs(volume) < 25:
            continue  # steady: not a change worth a board's attention
        ids = _ids(row.negative_ids) if change < 0 else _ids(row.positive_ids)
        ids = ids or _ids(row.negative_ids) or _ids(row.positive_ids)
        direction = "fell" if change < 0 else "rose" if change > 0 else "held"
        text = (
            f"{row.label}: net sentiment {direction} from {_score(before)} to {_score(now)} "
            f"({change:+.0f} points) on {items} mentions, {_volume(items, prev_items)}."
        )
        weight = abs(change) + abs(volume) / 4
        candidates.append((weight, items, row.topic_key, Claim(text, ids, row.topic_key)))
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2]))
    return [claim for *_, claim in candidates if claim.item_ids][:MAX_CHANGES]


def _concerns(concerns: pd.DataFrame, label: Callable[[str], str]) -> list[Claim]:
    """Per segment dimension, the (segment, topic) pairs with the most negative mentions."""
    claims = []
    for dimension in sorted(set(concerns["dimension"])):
        rows = concerns[concerns["dimension"] == dimension].sort_values(
            ["negative_count", "segment", "topic_key"], ascending=[False, True, True]
        )
        kept = 0
        for row in rows.itertuples(index=False):
            ids = _ids(row.item_ids)
            if not ids or int(row.negative_count) < 2 or row.segment == "Unknown":
                continue
            noun = "mention" if int(row.negative_count) == 1 else "mentions"
            text = (
                f"{dimension} {row.segment}: {_label(label, row.topic_key, row.topic_label)} "
                f"drew {int(row.negative_count)} negative {noun}."
            )
            claims.append(Claim(text, ids, row.topic_key))
            kept += 1
            if kept == MAX_CONCERNS:
                break
    return claims


def _working(topics: pd.DataFrame) -> list[Claim]:
    """Topics with more positive than negative mentions, best net sentiment first."""
    rows = []
    for row in topics.itertuples(index=False):
        items, positive, negative = int(row.items), int(row.positive), int(row.negative)
        ids = _ids(row.positive_ids)
        if items < MIN_MENTIONS or positive < 2 or positive <= negative or not ids:
            continue
        now = _nss(positive, negative, items)
        text = (
            f"{row.label}: {positive} of {items} mentions positive "
            f"(net sentiment {_score(now)}"
            + (
                f", {_score(_nss(int(row.prev_positive), int(row.prev_negative), int(row.prev_items)))}"
                " in the previous period)."
                if int(row.prev_items)
                else ")."
            )
        )
        rows.append((-(now or 0.0), -items, row.topic_key, Claim(text, ids, row.topic_key)))
    rows.sort(key=lambda r: r[:3])
    return [claim for *_, claim in rows][:MAX_WORKING]


def attach_quotes(report: Report, evidence: pd.DataFrame) -> Report:
    """Add up to MAX_QUOTES verified quotes to each claim (from its own items and topic)."""
    by_item: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
    for row in evidence.itertuples(index=False):
        by_item.setdefault((str(row.item_id), row.topic_key), []).append(
            (row.evidence, row.redacted_text)
        )
    dropped = 0
    sections = []
    for section in report.sections:
        claims = []
        for claim in section.claims:
            quotes: list[Quote] = []
            for item_id in claim.item_ids:
                for quote_text, text in by_item.get((item_id, claim.topic_key), []):
                    quote = verified_quote(quote_text, text)
                    if quote is None:
                        dropped += 0 if _blank(quote_text) else 1  # no quote is not a drop
                        continue
                    repeats = any(quote in q.text or q.text in quote for q in quotes)
                    if len(quotes) < MAX_QUOTES and not repeats:
                        quotes.append(Quote(item_id, quote))
            claims.append(replace(claim, quotes=tuple(quotes)))
        sections.append(replace(section, claims=tuple(claims)))
    return replace(report, sections=tuple(sections), dropped_quotes=report.dropped_quotes + dropped)


def verified_quote(quote: Any, text: Any) -> str | None:
    """`quote` (stripped, cut to MAX_QUOTE_CHARS) if it is an exact substring of `text`."""
    if not isinstance(quote, str) or not isinstance(text, str):
        return None
    quote = quote.strip()
    if not quote or quote not in text:
        return None
    if len(quote) > MAX_QUOTE_CHARS:  # a prefix of a substring is still a substring
        cut = quote[:MAX_QUOTE_CHARS]
        quote = cut[: cut.rfind(" ")].rstrip() if " " in cut[40:] else cut
    return quote


def verify_quotes(report: Report, texts: Mapping[str, str]) -> Report:
    """Drop every quote that is not a substring of its item's redacted text in `texts`.

    The check a model-phrased report must pass again before it is shown.
    """
    dropped = 0
    sections = []
    for section in report.sections:
        claims = []
        for claim in section.claims:
            kept = tuple(
                q
                for q in claim.quotes
                if report.include_quotes
                and q.item_id in claim.item_ids
                and q.text
                and q.text in texts.get(q.item_id, "")
            )
            dropped += len(claim.quotes) - len(kept)
            claims.append(replace(claim, quotes=kept))
        sections.append(replace(section, claims=tuple(claims)))
    return replace(report, sections=tuple(sections), dropped_quotes=report.dropped_quotes + dropped)


# ------------------------------------------------------------------------------------------
# The narrator seam (template now; a language model may phrase the claims later)


class Narrator(Protocol):
    name: str

    def narrate(self, report: Report) -> Report: ...


@dataclass(frozen=True)
class TemplateNarrator:
    """The built-in narrator: the template's sentences as they are."""

    name: str = TEMPLATE_VERSION
    note: str | None = None

    def narrate(self, report: Report) -> Report:
        notes = report.notes + ((self.note,) if self.note else ())
        return replace(report, narrator=self.name, notes=notes)


def narrator_for(model: str | None) -> Narrator:
    """The narrator for `PULSE_MODEL` (read by the caller). Every model uses the template for
    now; this is where a model-backed narrator plugs in (it must keep claims, ids and quotes and
    pass `verify_quotes` again)."""
    if not model or model == "builtin":
        return TemplateNarrator()
    return TemplateNarrator(
        note=f"Phrased by the built-in template: phrasing by the configured model ({model}) "
        "is not enabled for board reports yet."
    )


# ------------------------------------------------------------------------------------------
# Exports


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~&])")


def md_escape(text: str) -> str:
    """`text` as Markdown that renders as the same text (no markup, links, HTML or headings)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _md_code(text: str) -> str:
    return "`" + str(text).replace("`", "'") + "`"


def to_markdown(report: Report) -> str:
    lines = [
        f"# {md_escape(report.title)}",
        "",
        f"**Period:** {report.period_text} (compared with {report.previous_text})  ",
        f"**Scope:** {md_escape(report.scope_label)}  ",
        f"**Filters:** {md_escape(report.filters_text)}",
        "",
    ]
    if report.is_empty:
        lines += [empty_text(report), ""]
        return "\n".join(lines)
    lines += ["## At a glance", ""]
    lines += [f"- {line}" for line in report.summary_lines()]
    lines.append("")
    for section in report.sections:
        lines += [f"## {md_escape(section.title)}", ""]
        if not section.claims:
            lines += [f"_{md_escape(section.empty_text)}_", ""]
            continue
        for claim in section.claims:
            lines.append(f"- {md_escape(claim.text)} [{', '.join(map(_md_code, claim.item_ids))}]")
            for quote in claim.quotes:
                lines.append(f'  > "{md_escape(quote.text)}" ({_md_code(quote.item_id)})')
        lines.append("")
    lines += ["---", "", *(f"_{md_escape(line)}_  " for line in footer_lines(report)), ""]
    return "\n".join(lines)


def to_html(report: Report) -> str:
    """The report as escaped HTML for the dashboard (st.html): member text is never rendered."""
    esc = html.escape
    parts = []
    for section in report.sections:
        parts.append(f"<h4 style='margin:0.8em 0 0.3em'>{esc(section.title)}</h4>")
        if not section.claims:
            parts.append(f"<p style='color:#666'><em>{esc(section.empty_text)}</em></p>")
            continue
        parts.append("<ul style='margin-top:0'>")
        for claim in section.claims:
            ids = ", ".join(f"<code>{esc(i)}</code>" for i in claim.item_ids)
            quotes = "".join(
                "<blockquote style='margin:0.3em 0 0.3em 0; padding-left:0.8em; "
                "border-left:3px solid #bbb; color:#444'>"
                f"&ldquo;{esc(q.text)}&rdquo; <small>({esc(q.item_id)})</small></blockquote>"
                for q in claim.quotes
            )
            parts.append(
                f"<li style='margin-bottom:0.5em'>{esc(claim.text)} "
                f"<small style='color:#666'>[{ids}]</small>{quotes}</li>"
            )
        parts.append("</ul>")
    return "<div style='line-height:1.5'>" + "".join(parts) + "</div>"


def empty_text(report: Report) -> str:
    return (
        f"No feedback in {report.period_text} for this scope and these filters: there is "
        "nothing to report. Choose a longer period or clear a filter."
    )


def footer_lines(report: Report) -> list[str]:
    lines = [
        f"Generated by {report.narrator} from the published marts. Each statement cites the "
        "items (ids in brackets) it rests on; figures count topic mentions (an item counts "
        "once per topic it mentions).",
        "Texts are redacted: no personal data is stored or shown.",
    ]
    if report.include_quotes:
        lines.append(
            "Quotes are the labelling model's evidence, each checked to be an exact passage "
            "of the redacted text"
            + (
                f"; {report.dropped_quotes} that failed the check were left out."
                if report.dropped_quotes
                else "."
            )
        )
    else:
        lines.append("Quotes are not shown to your role (aggregates only).")
    lines += list(report.notes)
    return lines


def pdf_font_path(env: Mapping[str, str] | None = None) -> Path | None:
    """A Unicode TTF for the PDF: `PULSE_PDF_FONT`, else a system DejaVu Sans, else None."""
    env = os.environ if env is None else env
    configured = env.get("PULSE_PDF_FONT")
    if configured:
        path = Path(configured)
        return path if path.is_file() else None
    return next((Path(p) for p in SYSTEM_UNICODE_FONTS if Path(p).is_file()), None)


_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2032": "'", "\u2033": '"',
        "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
        "\u2026": "...", "\u2022": "*", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
        "\u200b": "", "\u200d": "", "\ufeff": "", "\u20ac": "EUR", "\u2122": "(TM)",
        "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0152": "OE",
        "\u0153": "oe", "\u0131": "i", "\u00df": "ss",
    }
)  # fmt: skip


def to_latin1(text: str) -> tuple[str, bool]:
    """(text safe for the PDF core fonts, whether anything had to be changed).

    Latin-1 characters stay; typographic punctuation is folded to ASCII; other letters lose
    their accents where Unicode decomposes them (NFKD); whatever is left becomes '?'.
    Control characters are dropped (newlines and tabs become spaces).
    """
    out = []
    changed = False
    for char in str(text):
        if char in "\n\r\t":
            out.append(" ")
            continue
        if unicodedata.category(char) == "Cc":
            changed = True
            continue
        if ord(char) < 256:
            out.append(char)
            continue
        changed = True
        folded = char.translate(_FOLD)
        if folded != char:
            out.append(folded)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out), changed


def to_pdf(report: Report, *, font_path: Path | str | bool | None = True) -> bytes:
    """The report as PDF bytes. `font_path`: True = find one (pdf_font_path), a path = that
    Unicode TTF, None/False = core Helvetica with Latin-1 transliteration."""
    from fpdf import FPDF  # imported here: only the export needs it

    if font_path is True:
        font_path = pdf_font_path()
    font_path = font_path or None
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(report.title)
    pdf.set_creator("Member Pulse")
    transliterated = False
    if font_path:
        family, bold, italic = "Body", "", ""
        pdf.add_font(family, "", str(font_path))
        regular = Path(font_path)
        for style, suffix in (("B", "-Bold"), ("I", "-Oblique"), ("I", "-Italic")):
            sibling = regular.with_name(regular.stem + suffix + regular.suffix)
            if sibling.is_file() and style not in (bold, italic):
                pdf.add_font(family, style, str(sibling))
                bold, italic = (style, italic) if style == "B" else (bold, style)

        def clean(text: str) -> str:
            return "".join(
                " " if c in "\n\r\t" else c
                for c in str(text)
                if c in "\n\r\t" or unicodedata.category(c) != "Cc"
            )
    else:
        family, bold, italic = "Helvetica", "B", "I"

        def clean(text: str) -> str:
            nonlocal transliterated
            safe, changed = to_latin1(text)
            transliterated |= changed
            return safe

    pdf.add_page()
    width = pdf.epw

    def para(text: str, size: float = 10.5, style: str = "", indent: float = 0.0, gap=1.5):
        pdf.set_font(family, style, size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(width - indent, size * 0.5, clean(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    para(report.title, 17, bold, gap=2)
    para(f"Period: {report.period_text} (compared with {report.previous_text})", 10)
    para(f"Scope: {report.scope_label}", 10)
    para(f"Filters: {report.filters_text}", 10, gap=4)
    if report.is_empty:
        para(empty_text(report), 11)
    else:
        para("At a glance", 13, bold)
        for line in report.summary_lines():
            para(f"- {line}", indent=3, gap=0.5)
        pdf.ln(3)
        for section in report.sections:
            para(section.title, 13, bold)
            if not section.claims:
                para(section.empty_text, style=italic, gap=3)
                continue
            for claim in section.claims:
                para(f"- {claim.text} [{', '.join(claim.item_ids)}]", indent=3, gap=0.8)
                for quote in claim.quotes:
                    para(f'"{quote.text}" ({quote.item_id})', 9.5, italic, indent=9, gap=0.8)
            pdf.ln(3)
    footer = footer_lines(report)
    # One pass to learn whether anything is transliterated, so the note can say so.
    for line in footer:
        clean(line)
    if transliterated:
        footer.append(
            "Characters outside Latin-1 were transliterated for this PDF (no Unicode font was "
            "available; set PULSE_PDF_FONT to a .ttf file to keep them). The Markdown export "
            "keeps the original text."
        )
    pdf.ln(2)
    for line in footer:
        para(line, 8.5, italic, gap=0.8)
    return bytes(pdf.output())


# ------------------------------------------------------------------------------------------
# Small helpers


def _nss(positive: int, negative: int, total: int) -> float | None:
    if not total:
        return None
    return round(100.0 * (positive - negative) / total, 1)


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0f}"


def _volume(items: int, prev_items: int) -> str:
    if prev_items == items:
        return f"the same as before ({prev_items})"
    word = "up" if items > prev_items else "down"
    return f"{word} from {prev_items}"


def _ids(value: Any) -> tuple[str, ...]:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ()
    return tuple(str(v) for v in list(value))


def _label(label: Callable[[str], str], key: str, fallback: Any) -> str:
    shown = label(key)
    if shown == key and isinstance(fallback, str) and fallback:
        return fallback
    return shown


def _blank(text: Any) -> bool:
    return not isinstance(text, str) or not text.strip()


def _period(start: date, end: date) -> str:
    return f"{start:%d %b %Y} to {end:%d %b %Y}"


def prev_window(start: date, end: date) -> tuple[date, date]:
    """The period of the same length just before (start, end): what the report compares with."""
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)
