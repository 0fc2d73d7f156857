"""`kind: sql`: the classic iMIS `Name` / `Activity` tables (API.md 6.2) in SQLite standing in
for SQL Server, filled from the sandbox's own data, read the same as through the REST API."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
import sqlalchemy as sa
import yaml

from connectors.imis import iter_source_items
from connectors.imis.entities import parse_datetime
from connectors.records import SourceItem
from connectors.sources import SourcesConfigError, SqlSource, load_sources
from connectors.sql import SqlSourceError, iter_sql_items

START, END = datetime(2026, 4, 1), datetime(2026, 5, 1)
QUERY = """
SELECT a.SEQN, a.ID, a.TRANSACTION_DATE, a.NOTE, a.NOTE_2
FROM Activity AS a
JOIN Name AS n ON n.ID = a.ID AND n.COMPANY_RECORD = 0
WHERE a.ACTIVITY_TYPE = :activity_type_is_fixed_below
"""
FEEDBACK = {
    "kind": "sql", "name": "activity_feedback", "channel": "email", "url_env": "PULSE_TEST_SQL_URL",
    "query": """
        SELECT a.SEQN, a.ID, a.TRANSACTION_DATE, a.NOTE, a.NOTE_2
        FROM Activity AS a
        JOIN Name AS n ON n.ID = a.ID AND n.COMPANY_RECORD = 0
        WHERE a.ACTIVITY_TYPE = 'FEEDBACK'
          AND a.TRANSACTION_DATE >= :watermark_start AND a.TRANSACTION_DATE < :watermark_end
    """,
    "columns": {"key": ["SEQN"], "text": ["NOTE", "NOTE_2"], "created_at": "TRANSACTION_DATE",
                "member_id": "ID"},
}  # fmt: skip


def _classic_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """The columns API.md 6.2 lists for `Name` and `Activity` (types as in iMIS's schema)."""
    name = sa.Table(
        "Name", metadata,
        sa.Column("ID", sa.String(10), primary_key=True), sa.Column("CO_ID", sa.String(10)),
        sa.Column("MEMBER_TYPE", sa.String(5)), sa.Column("CATEGORY", sa.String(5)),
        sa.Column("STATUS", sa.String(5)), sa.Column("MEMBER_STATUS", sa.String(5)),
        sa.Column("COMPANY_RECORD", sa.Boolean), sa.Column("FIRST_NAME", sa.String(20)),
        sa.Column("LAST_NAME", sa.String(30)), sa.Column("FULL_NAME", sa.String(70)),
        sa.Column("CHAPTER", sa.String(15)), sa.Column("JOIN_DATE", sa.DateTime),
        sa.Column("PAID_THRU", sa.DateTime), sa.Column("LAST_UPDATED", sa.DateTime),
    )  # fmt: skip
    activity = sa.Table(
        "Activity", metadata,
        sa.Column("SEQN", sa.Integer, primary_key=True), sa.Column("ID", sa.String(10)),
        sa.Column("ACTIVITY_TYPE", sa.String(10)), sa.Column("PRODUCT_CODE", sa.String(31)),
        sa.Column("OTHER_CODE", sa.String(30)), sa.Column("TRANSACTION_DATE", sa.DateTime),
        sa.Column("EFFECTIVE_DATE", sa.DateTime), sa.Column("THRU_DATE", sa.DateTime),
        sa.Column("DESCRIPTION", sa.String(255)), sa.Column("NOTE", sa.Text),
        sa.Column("NOTE_2", sa.Text), sa.Column("TICKLER_DATE", sa.DateTime),
        sa.Column("SOURCE_CODE", sa.String(40)), sa.Column("CO_ID", sa.String(10)),
    )  # fmt: skip
    return name, activity


@pytest.fixture(scope="module")
def imis_db(sandbox, tmp_path_factory) -> str:
    """An iMIS-shaped database holding the sandbox's contacts and activities."""
    url = f"sqlite:///{tmp_path_factory.mktemp('imis-sql') / 'imis.sqlite'}"
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    name, activity = _classic_tables(metadata)
    metadata.create_all(engine)
    src = sqlite3.connect(sandbox.sandbox.config.db_path)
    src.row_factory = sqlite3.Row
    dt = parse_datetime
    with engine.begin() as con:
        con.execute(name.insert(), [
            {"ID": r["PartyId"], "MEMBER_TYPE": r["CustomerTypeCode"], "STATUS": r["Status"],
             "COMPANY_RECORD": bool(r["IsCompany"]), "FIRST_NAME": r["FirstName"],
             "LAST_NAME": r["LastName"], "CHAPTER": r["Chapter"], "JOIN_DATE": dt(r["JoinDate"]),
             "PAID_THRU": dt(r["PaidThruDate"]), "LAST_UPDATED": dt(r["UpdatedOn"])}
            for r in src.execute("SELECT * FROM party")
        ])  # fmt: skip
        con.execute(activity.insert(), [
            {"SEQN": r["SEQN"], "ID": r["PartyId"], "ACTIVITY_TYPE": r["ACTIVITY_TYPE"],
             "PRODUCT_CODE": r["PRODUCT_CODE"], "TRANSACTION_DATE": dt(r["TRANSACTION_DATE"]),
             "EFFECTIVE_DATE": dt(r["EFFECTIVE_DATE"]), "DESCRIPTION": r["DESCRIPTION"],
             "NOTE": r["NOTE"], "NOTE_2": r["NOTE_2"], "TICKLER_DATE": dt(r["TICKLER_DATE"]),
             "SOURCE_CODE": r["SOURCE_CODE"]}
            for r in src.execute("SELECT * FROM activity")
        ])  # fmt: skip
    src.close()
    engine.dispose()
    return url


def test_sql_source_reads_what_the_rest_api_reads(imis_db, client):
    sql_source = SqlSource.model_validate(FEEDBACK)
    rest_source = next(
        s for s in load_sources("connectors/imis_sandbox/sources.yaml").sources
        if s.name == "activity_feedback"
    )  # fmt: skip
    via_sql = list(iter_sql_items(sql_source, START, END, url=imis_db))
    via_rest = list(iter_source_items(client, rest_source, START, END))
    assert len(via_sql) > 20
    # same keys, dates, member ids, text and problems (REST reads week by week: order differs)
    assert sorted(via_sql, key=repr) == sorted(via_rest, key=repr)


def test_url_comes_from_the_environment(imis_db, monkeypatch):
    source = SqlSource.model_validate(FEEDBACK)
    monkeypatch.delenv("PULSE_TEST_SQL_URL", raising=False)
    with pytest.raises(SqlSourceError, match="set PULSE_TEST_SQL_URL"):
        list(iter_sql_items(source, START, END))
    monkeypatch.setenv("PULSE_TEST_SQL_URL", imis_db)
    items = list(iter_sql_items(source, START, END))
    assert items and all(START <= i.created_at < END for i in items)


def test_window_is_half_open_and_keys_are_not_repeated(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    name, activity = _classic_tables(metadata)
    metadata.create_all(engine)
    with engine.begin() as con:
        con.execute(name.insert(), [{"ID": "7", "COMPANY_RECORD": False}])
        con.execute(activity.insert(), [
            {"SEQN": 1, "ID": "7", "ACTIVITY_TYPE": "FEEDBACK", "TRANSACTION_DATE": START, "NOTE": "first"},
            {"SEQN": 2, "ID": "7", "ACTIVITY_TYPE": "FEEDBACK", "TRANSACTION_DATE": END, "NOTE": "next window"},
            {"SEQN": 3, "ID": "7", "ACTIVITY_TYPE": "FEEDBACK",
             "TRANSACTION_DATE": datetime(2026, 4, 30, 23, 59, 59, 997000), "NOTE": "<p>last</p>", "NOTE_2": " "},
            {"SEQN": 4, "ID": "7", "ACTIVITY_TYPE": "FEEDBACK", "TRANSACTION_DATE": datetime(2026, 4, 2), "NOTE": " "},
            {"SEQN": 5, "ID": "7", "ACTIVITY_TYPE": "CALL", "TRANSACTION_DATE": datetime(2026, 4, 2), "NOTE": "x"},
        ])  # fmt: skip
    engine.dispose()
    # A loose query (no window filter on one side, a join that repeats rows) is still safe.
    loose = SqlSource.model_validate({**FEEDBACK, "query": """
        SELECT a.* FROM Activity a JOIN Name n ON n.ID = a.ID
        JOIN (SELECT 1 AS k UNION ALL SELECT 2) fan ON 1 = 1
        WHERE a.ACTIVITY_TYPE = 'FEEDBACK' AND a.TRANSACTION_DATE >= :watermark_start
          AND :watermark_end IS NOT NULL"""})  # fmt: skip
    out = list(iter_sql_items(loose, START, END, url=url))
    assert [(type(o).__name__, getattr(o, "source_key", None)) for o in out] == [
        ("SourceItem", "1"), ("SourceItem", "3"), ("SourceProblem", None),
    ]  # fmt: skip
    assert out[1].text == "<p>last</p>" and out[2].reason == "empty text"
    assert START <= out[2].created_at < END  # dated by its row, for per-day reconciliation
    html = SqlSource.model_validate({**FEEDBACK, "html": True})
    item = next(o for o in iter_sql_items(html, START, END, url=url) if o.source_key == "3")
    assert isinstance(item, SourceItem) and item.text == "last" and item.original_length == 11


def test_a_failing_query_names_the_source_not_the_url(tmp_path):
    secret_url = f"sqlite:///{tmp_path / 'no-such-dir' / 'hunter2.sqlite'}"  # cannot be opened
    source = SqlSource.model_validate(FEEDBACK)
    with pytest.raises(SqlSourceError) as info:
        list(iter_sql_items(source, START, END, url=secret_url))
    assert "activity_feedback" in str(info.value) and "hunter2" not in str(info.value)


def test_sources_file_accepts_sql_and_checks_the_window_parameters(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [FEEDBACK]}))
    config = load_sources(path)
    assert isinstance(config.sources[0], SqlSource) and not config.needs_imis
    path.write_text(yaml.safe_dump({"sources": [{**FEEDBACK, "query": QUERY}]}))
    with pytest.raises(SourcesConfigError, match="watermark_start and :watermark_end"):
        load_sources(path)
