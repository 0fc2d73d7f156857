"""The marts' contracts: every column typed as documented, and a null can never be written to a
column documented as not null (DuckDB enforces the constraint as dbt writes the table)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml

MARTS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts"


def documented_marts() -> dict[str, list[dict]]:
    models = {}
    for path in MARTS_DIR.rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            models[model["name"]] = model["columns"]
    return models


def test_every_mart_is_built_with_the_documented_types_and_not_null_columns(con):
    marts = documented_marts()
    assert len(marts) >= 11
    for name, columns in marts.items():
        built = con.execute(
            "select column_name, data_type, is_nullable from information_schema.columns "
            "where table_schema = 'marts' and table_name = ? order by ordinal_position",
            [name],
        ).fetchall()
        assert [(c, t.lower()) for c, t, _ in built] == [
            (c["name"], c["data_type"]) for c in columns
        ], name
        not_null = {
            c["name"] for c in columns if {"type": "not_null"} in (c.get("constraints") or [])
        }
        assert {c for c, _, nullable in built if nullable == "NO"} == not_null, name


@pytest.mark.parametrize(
    ("mart", "column"),
    [("fct_feedback", "channel"), ("review_queue", "queue_reason"), ("dim_members", "tier")],
)
def test_a_null_in_a_not_null_mart_column_is_refused(home, mart, column):
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        with pytest.raises(duckdb.ConstraintException, match=column):
            con.execute(f"update marts.{mart} set {column} = null")
        # the refused statement changed nothing
        nulls = con.execute(f"select count(*) from marts.{mart} where {column} is null")
        assert nulls.fetchone()[0] == 0
