"""Read member text straight from an on-premise iMIS database (`kind: sql`, API.md 6.2).

For installs where the REST API is limited, a source can be a SQL query over iMIS's classic
tables (`Name`, `Activity`, `Name_Note`, panel-source tables...). The query is the customer's:
it names the columns, and it must filter the item's creation date on the half-open window
`[:watermark_start, :watermark_end)`. Both parameters are bound as naive local datetimes,
as iMIS stores its dates (`datetime` columns with no zone).

The database URL is a SQLAlchemy URL read, when the read starts, from the environment variable
the source names (`url_env`, default `IMIS_SQL_URL`), so no password sits in the sources file.
SQL Server, which iMIS runs on, is reached through pyodbc and Microsoft's ODBC Driver 18
(install `pyodbc` and the `msodbcsql18` package of your OS; neither is needed for the tests,
which use SQLite in its place):

    IMIS_SQL_URL='mssql+pyodbc://pulse_reader:SECRET@imis-sql.example.org:1433/iMIS_Prod?driver=ODBC+Driver+18+for+SQL+Server&Encrypt=yes&TrustServerCertificate=no'

Use a login with read-only rights (`db_datareader`) on the iMIS database. Error messages name
the source and the kind of failure, never the URL (it holds a password) or any row's text.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from connectors.imis.entities import parse_datetime
from connectors.imis.text import email_text
from connectors.records import SourceItem, SourceProblem
from connectors.sources import SqlSource

FETCH_ROWS = 1000  # rows fetched per round trip; results are streamed, never held whole


class SqlSourceError(RuntimeError):
    """The database could not be reached or the query failed (message names the source only)."""


def engine_for(source: SqlSource, url: str | None = None) -> sa.Engine:
    """An engine for the source's database; `url` overrides the environment variable."""
    url = url or os.environ.get(source.url_env)
    if not url:
        raise SqlSourceError(
            f"source {source.name}: set {source.url_env} to the database's SQLAlchemy URL"
        )
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise SqlSourceError(
            f"source {source.name}: {source.url_env} is not a usable SQLAlchemy URL "
            f"({type(exc).__name__}; for SQL Server install pyodbc and ODBC Driver 18)"
        ) from None


def iter_sql_items(
    source: SqlSource,
    start: datetime,
    end: datetime,
    *,
    url: str | None = None,
    engine: sa.Engine | None = None,
) -> Iterator[SourceItem | SourceProblem]:
    """Items created in [start, end), each once; unusable rows come out as SourceProblems."""
    own_engine = engine is None
    engine = engine or engine_for(source, url)
    statement = sa.text(source.query).bindparams(
        sa.bindparam("watermark_start", type_=sa.DateTime()),
        sa.bindparam("watermark_end", type_=sa.DateTime()),
    )
    window = {
        "watermark_start": start.replace(tzinfo=None),
        "watermark_end": end.replace(tzinfo=None),
    }
    seen: set[str] = set()
    try:
        with engine.connect() as con:
            result = con.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(
                statement, window
            )
            for position, row in enumerate(result.mappings()):
                out = _row_item(source, row, position, start, end, seen)
                if out is not None:
                    yield out
    except sa.exc.SQLAlchemyError as exc:
        cause = type(getattr(exc, "orig", None) or exc).__name__
        raise SqlSourceError(
            f"source {source.name}: the query failed for {start:%Y-%m-%d %H:%M} .. "
            f"{end:%Y-%m-%d %H:%M} ({type(exc).__name__}: {cause})"
        ) from None
    finally:
        if own_engine:
            engine.dispose()


def _row_item(
    source: SqlSource,
    row: Mapping[str, Any],
    position: int,
    start: datetime,
    end: datetime,
    seen: set[str],
) -> SourceItem | SourceProblem | None:
    cols = source.columns
    values = {str(k).lower(): v for k, v in row.items()}
    key_parts = [values.get(c.lower()) for c in cols.key]
    if any(p is None or str(p).strip() == "" for p in key_parts):
        return SourceProblem(source.name, f"{source.name} row {position}", "missing key column")
    key = "|".join(_key_text(p) for p in key_parts)
    location = f"{source.name} {key}"
    try:
        created = parse_datetime(values.get(cols.created_at.lower()))
    except ValueError:
        return SourceProblem(source.name, location, f"unreadable {cols.created_at}")
    if created is None:
        return SourceProblem(source.name, location, f"no {cols.created_at}")
    # The query filters the window; checking again keeps a loose query from leaking rows
    # into a neighbouring partition or repeating a key (e.g. a join that fans out).
    if not start.replace(tzinfo=None) <= created < end.replace(tzinfo=None) or key in seen:
        return None
    seen.add(key)
    parts = [
        str(v).strip()
        for c in cols.text
        if (v := values.get(c.lower())) is not None and str(v).strip()
    ]
    raw = "\n\n".join(parts)
    text = email_text(raw) if source.html else raw
    if not text.strip():
        return SourceProblem(source.name, location, "empty text", created)
    member_id = values.get(cols.member_id.lower()) if cols.member_id else None
    question = values.get(cols.question.lower()) if cols.question else None
    try:
        updated = parse_datetime(values.get(cols.updated_at.lower())) if cols.updated_at else None
    except ValueError:
        updated = None
    return SourceItem(
        source_name=source.name,
        source_key=key,
        channel=source.channel,
        created_at=created,
        text=text,
        member_id=str(member_id).strip() if member_id not in (None, "") else None,
        question=str(question) if question else None,
        updated_at=updated,
        original_length=len(raw) if source.html else None,
    )


def _key_text(value: Any) -> str:
    """SQL Server returns `SEQN` as int, `ID` as a padded char column: normalise both."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
