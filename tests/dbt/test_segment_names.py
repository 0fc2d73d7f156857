"""dim_segments names every tier and chapter code the marts hold: iMIS's member-type
description for a tier, the chapter_names seed for a chapter, the code itself otherwise."""

from __future__ import annotations

import duckdb

from tests.warehouse_fixtures import CHAPTERS, TIER_LABELS, TIERS


def _names(con: duckdb.DuckDBPyConnection, kind: str) -> dict[str, tuple[str, str]]:
    rows = con.execute(
        "select segment_code, segment_label, label_source from marts.dim_segments "
        "where segment_type = ?",
        [kind],
    ).fetchall()
    return {code: (label, source) for code, label, source in rows}


def test_tiers_are_named_by_imis_and_fall_back_to_the_code(con: duckdb.DuckDBPyConnection):
    tiers = _names(con, "tier")
    for tier in TIERS:
        if tier in TIER_LABELS:
            assert tiers[tier] == (TIER_LABELS[tier], "imis")
        else:
            assert tiers[tier] == (tier, "code")
    assert tiers["Unknown"] == ("Unknown", "code")


def test_every_code_in_the_aggregates_has_a_name(con: duckdb.DuckDBPyConnection):
    chapters = _names(con, "chapter")
    used = con.execute(
        "select distinct member_tier, member_chapter from marts.agg_sentiment_daily"
    ).fetchall()
    tiers = _names(con, "tier")
    assert used and all(t in tiers and c in chapters for t, c in used)
    # The fixture's chapters are not in the chapter_names seed: shown as their codes.
    assert {code: chapters[code] for code in CHAPTERS} == {c: (c, "code") for c in CHAPTERS}


def test_the_seed_names_the_chapters_it_lists(con: duckdb.DuckDBPyConnection):
    seeded = dict(
        con.execute("select chapter_code, chapter_name from staging.chapter_names").fetchall()
    )
    assert seeded["MTN"] == "Mountain" and len(seeded) == 8
