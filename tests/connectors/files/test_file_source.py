"""The file source: CSV and JSONL exports, bad rows reported with file and line, never fatal."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from connectors.files import iter_file_items
from connectors.records import SourceItem, SourceProblem
from connectors.sources import FileSource, SourcesConfigError, load_sources

COLUMNS = {
    "id": "id",
    "text": "text",
    "channel": "channel",
    "created_at": "created_at",
    "member_id": "member_id",
    "question": "question",
}


def _write_jsonl(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _sources_yaml(tmp_path: Path, export: str) -> Path:
    config = tmp_path / "sources.yaml"
    config.write_text(
        "sources:\n"
        "  - name: pilot_survey\n"
        "    kind: file\n"
        f"    path: {export}\n"
        "    columns: {id: id, text: text, channel: channel, created_at: created_at,\n"
        "              member_id: member_id, question: question}\n",
        encoding="utf-8",
    )
    return config


def test_jsonl_rows_become_items_and_bad_rows_problems_with_line_numbers(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    good = {
        "id": "r1",
        "text": "The venue was too cold.",
        "channel": "survey",
        "created_at": "2026-03-02T10:15:00",
        "member_id": "1042",
        "question": "How was the venue?",
    }
    _write_jsonl(
        exports / "survey.jsonl",
        [
            json.dumps(good),
            "{not json",
            json.dumps({**good, "id": "r3", "text": "   "}),
            json.dumps({k: v for k, v in good.items() if k != "text"} | {"id": "r4"}),
            json.dumps({**good, "id": "r5", "created_at": "yesterday"}),
            json.dumps({**good, "id": "r6", "channel": "fax"}),
            json.dumps({**good, "id": "r7", "channel": ""}),
        ],
    )
    source = load_sources(_sources_yaml(tmp_path, "exports/survey.jsonl")).sources[0]
    assert source.path == (exports / "survey.jsonl").resolve()

    records = list(iter_file_items(source))
    items = [r for r in records if isinstance(r, SourceItem)]
    problems = {
        int(p.location.rsplit(":", 1)[1]): p.reason for p in records if isinstance(p, SourceProblem)
    }

    assert [i.source_key for i in items] == ["r1", "r7"]
    first = items[0]
    assert first.channel == "survey"
    assert first.member_id == "1042"
    assert first.question == "How was the venue?"
    assert first.created_at == datetime(2026, 3, 2, 10, 15)
    assert items[1].channel == "survey"  # empty channel falls back to the source's default
    assert set(problems) == {2, 3, 4, 5, 6}
    assert "not valid JSON" in problems[2]
    assert "empty text" in problems[3]
    assert "missing column(s): text" in problems[4]
    assert "unreadable date" in problems[5]
    assert "unknown channel 'fax'" in problems[6]
    assert all(
        str(exports / "survey.jsonl") in p.location for p in records if isinstance(p, SourceProblem)
    )


def test_csv_with_multiline_text_window_and_duplicate_ids(tmp_path):
    path = tmp_path / "comments.csv"
    path.write_text(
        "id,text,created_at\n"
        'a,"First line\nsecond line",2026-01-01\n'
        "b,In the window,2026-01-02T08:00:00\n"
        "b,Duplicate id,2026-01-02T09:00:00\n"
        "c,After the window,2026-01-03T00:00:00\n"
        "d,too,many,fields,2026-01-02\n",
        encoding="utf-8",
    )
    source = FileSource(
        kind="file",
        name="comments",
        path=path,
        columns={"id": "id", "text": "text", "created_at": "created_at"},
    )
    records = list(iter_file_items(source, datetime(2026, 1, 1), datetime(2026, 1, 3)))
    items = [r for r in records if isinstance(r, SourceItem)]
    problems = [r for r in records if isinstance(r, SourceProblem)]
    assert [(i.source_key, i.text) for i in items] == [
        ("a", "First line\nsecond line"),
        ("b", "In the window"),
    ]
    reasons = sorted(p.reason for p in problems)
    assert any("duplicate id 'b'" in r for r in reasons)
    assert any("more fields than the header" in r for r in reasons)


def test_missing_file_is_a_problem_not_a_crash(tmp_path):
    source = FileSource(
        kind="file",
        name="gone",
        path=tmp_path / "nope.csv",
        columns={"id": "id", "text": "text", "created_at": "created_at"},
    )
    [problem] = list(iter_file_items(source))
    assert isinstance(problem, SourceProblem)
    assert problem.reason == "file not found"


def test_raw_text_never_appears_in_repr():
    item = SourceItem("s", "k", "email", datetime(2026, 1, 1), text="Call Dana at 555-0100")
    assert "Dana" not in repr(item)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("sources: []\n", "sources"),
        ("sources:\n  - {name: x, kind: ftp}\n", "kind"),
        ("sources: [\n", "not valid YAML"),
        (
            "sources:\n"
            "  - {name: a, kind: file, path: a.csv, columns: {id: i, text: t, created_at: c}}\n"
            "  - {name: a, kind: file, path: b.csv, columns: {id: i, text: t, created_at: c}}\n",
            "repeated: a",
        ),
    ],
)
def test_invalid_sources_file_names_the_file_and_the_problem(tmp_path, body, message):
    config = tmp_path / "sources.yaml"
    config.write_text(body, encoding="utf-8")
    with pytest.raises(SourcesConfigError) as excinfo:
        load_sources(config)
    assert str(config) in str(excinfo.value)
    assert message in str(excinfo.value)


def test_missing_sources_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourcesConfigError, match="cannot read sources file"):
        load_sources(tmp_path / "absent.yaml")
