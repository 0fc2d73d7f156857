"""Access control in the query layer (app/data.py + app/access.py): a chapter-bound scope gets
zero rows of other chapters from every loader, aggregate-only scopes get no item rows, hostile
filter values are bound parameters, and users/passwords load as documented."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from app import data
from app.access import (
    AccessDenied,
    Role,
    Scope,
    UsersFileError,
    authenticate,
    hash_password,
    load_users,
    verify_password,
)
from tests.app.marts_fixture import CHAPTERS, END_DATE, SPIKE_TOPIC, TOPICS, Marts

NORTH = Scope("north_manager", "North", item_level=True, can_review=False)
EVERYONE = Scope("lead", None, item_level=True, can_review=False)
VIEWER = Scope("viewer", None, item_level=False, can_review=False)
WHOLE = data.Slice(END_DATE - timedelta(days=400), END_DATE)


def _path(marts: Marts) -> str:
    return str(marts.path)


def _loaders(path: str, scope: Scope, slice_: data.Slice) -> dict[str, pd.DataFrame]:
    v = 0
    emerging = data.load_emerging(path, v, scope, slice_)
    return {
        "sentiment_over_time": data.load_sentiment_over_time(path, v, scope, slice_, "Week"),
        "high_urgency": data.load_high_urgency_items(path, v, scope, slice_, 500),
        "topic_weekly": data.load_topic_weekly(path, v, scope, slice_),
        "verbatims": pd.concat(
            [data.load_topic_verbatims(path, v, scope, slice_, t, None, 1000) for t in TOPICS]
        ),
        "segments": data.load_segments(path, v, scope, slice_),
        "emerging": emerging,
        "emerging_series": data.load_emerging_series(
            path, v, scope, tuple(emerging["series_key"]), END_DATE
        ),
        "review_queue": data.load_review_queue(path, v, scope, slice_, (), 5000),
        "question": data.load_question_frame(path, v, scope, slice_, "Week"),
        "movers": data.load_movers(path, v, scope, slice_),
    }


@pytest.mark.parametrize(
    "slice_",
    [WHOLE, data.Slice(WHOLE.start, WHOLE.end, chapters=("South",))],
    ids=["no-filter", "filter-asks-for-South"],
)
def test_chapter_scope_returns_no_row_of_another_chapter(
    marts_source: Marts, slice_: data.Slice
) -> None:
    path = _path(marts_source)
    chapter_of = {r["item_id"]: r["member_chapter"] for r in marts_source.feedback}
    frames = _loaders(path, NORTH, slice_)

    for name in ("high_urgency", "verbatims", "review_queue", "question"):
        assert set(frames[name]["member_chapter"]) <= {"North"}, name
    for name in ("high_urgency", "verbatims", "review_queue"):
        assert {chapter_of[i] for i in frames[name]["item_id"]} <= {"North"}, name
    segments = frames["segments"]
    assert set(segments.loc[segments["dimension"] == "member_chapter", "segment"]) <= {"North"}
    # Emerging issues: only the chapter's own segment rows (the 'all' and tier rows mix chapters).
    for name in ("emerging",):
        assert set(frames[name]["segment_type"]) <= {"chapter"}
        assert set(frames[name]["segment_value"]) <= {"North"}
    assert all(key.endswith("|chapter|North") for key in frames["emerging_series"]["series_key"])

    south_ids = tuple(i for i, c in chapter_of.items() if c == "South")
    assert data.load_items(path, 0, NORTH, south_ids).empty
    assert data.load_date_bounds(path, 0, NORTH) is not None
    assert data.load_filter_options(path, 0, NORTH)["chapter"] == ["North"]

    if slice_.chapters:  # asking for South inside a North scope: nothing at all
        assert all(frames[n].empty for n in ("high_urgency", "verbatims", "review_queue"))
        assert data.load_kpis(path, 0, NORTH, slice_).item_count == 0
    else:  # ... while the North rows are all there
        north = marts_source.items(member_chapter="North")
        assert data.load_kpis(path, 0, NORTH, slice_).item_count == len(north)
        assert not frames["emerging"].empty  # the planted spike is in North


def test_unscoped_user_sees_every_chapter(marts_source: Marts) -> None:
    frames = _loaders(_path(marts_source), EVERYONE, WHOLE)
    assert set(frames["review_queue"]["member_chapter"]) == set(CHAPTERS)
    assert data.load_kpis(_path(marts_source), 0, EVERYONE, WHOLE).item_count == len(
        marts_source.feedback
    )
    assert set(frames["emerging"]["topic_key"]) == {SPIKE_TOPIC}


def test_report_frames_respect_the_chapter(marts_source: Marts) -> None:
    chapter_of = {r["item_id"]: r["member_chapter"] for r in marts_source.feedback}
    frames = data.load_report_frames(_path(marts_source), 0, NORTH, WHOLE)
    assert {chapter_of[i] for i in frames["evidence"]["item_id"]} == {"North"}
    concerns = frames["concerns"]
    assert set(concerns.loc[concerns["dimension"] == "Chapter", "segment"]) <= {"North"}


@pytest.mark.parametrize(
    "call",
    [
        lambda p: data.load_high_urgency_items(p, 0, VIEWER, WHOLE),
        lambda p: data.load_topic_verbatims(p, 0, VIEWER, WHOLE, "website_login"),
        lambda p: data.load_items(p, 0, VIEWER, ("imis_email:1000",)),
        lambda p: data.load_review_queue(p, 0, VIEWER, WHOLE),
        lambda p: data.load_report_frames(p, 0, VIEWER, WHOLE),
    ],
    ids=["high_urgency", "verbatims", "items", "review_queue", "report"],
)
def test_aggregate_only_scope_cannot_read_items(marts_source: Marts, call) -> None:
    with pytest.raises(AccessDenied, match="aggregates only"):
        call(_path(marts_source))


def test_aggregates_are_open_to_the_viewer(marts_source: Marts) -> None:
    assert data.load_kpis(_path(marts_source), 0, VIEWER, WHOLE).item_count == len(
        marts_source.feedback
    )
    assert not data.load_segments(_path(marts_source), 0, VIEWER, WHOLE).empty


def test_statements_without_the_scope_predicate_are_refused(marts_source: Marts) -> None:
    with pytest.raises(AccessDenied, match="scope predicate"):
        data._read(_path(marts_source), "select * from fct_feedback", EVERYONE, {})
    with pytest.raises(AccessDenied, match="scope"):
        data._read(_path(marts_source), data.KPI_SQL, None, WHOLE.params())  # type: ignore[arg-type]


def test_a_channel_subset_filters_every_statement_and_all_channels_filter_nothing(
    marts_source: Marts,
) -> None:
    path = _path(marts_source)
    # Every channel is sent as no filter at all, so the statements skip a per-row test.
    assert WHOLE.params()["channels"] is None
    assert data.Slice(WHOLE.start, WHOLE.end, channels=data.CHANNELS).params()["channels"] is None
    two = data.Slice(WHOLE.start, WHOLE.end, channels=("email", "case"))
    assert two.params()["channels"] == ["email", "case"]

    frames = _loaders(path, EVERYONE, two)
    for name in ("sentiment_over_time", "high_urgency", "verbatims", "review_queue", "question"):
        assert set(frames[name]["channel"]) == {"email", "case"}, name
    in_two = [r for r in marts_source.feedback if r["channel"] in ("email", "case")]
    assert 0 < len(in_two) < len(marts_source.feedback)
    assert data.load_kpis(path, 0, EVERYONE, two).item_count == len(in_two)
    assert data.load_kpis(path, 0, EVERYONE, WHOLE).item_count == len(marts_source.feedback)
    unknown = data.Slice(WHOLE.start, WHOLE.end, channels=("email' or '1'='1",))
    assert data.load_kpis(path, 0, EVERYONE, unknown).item_count == 0


def test_every_statement_carries_the_scope_predicate_and_no_formatting() -> None:
    statements = {n: v for n, v in vars(data).items() if n.endswith("_SQL") and isinstance(v, str)}
    assert len(statements) >= 15
    for name, sql in statements.items():
        assert "{" not in sql and "%s" not in sql, name  # values only as $parameters
        assert "$scope_chapter" in sql or sql in data._UNSCOPED_SQL, name


@pytest.mark.parametrize(
    "hostile",
    ["North' OR '1'='1", "'; DROP TABLE fct_feedback; --", 'South") or true --'],
)
def test_hostile_filter_values_are_bound_not_executed(marts_source: Marts, hostile: str) -> None:
    path = _path(marts_source)
    slice_ = data.Slice(WHOLE.start, WHOLE.end, tiers=(hostile,), chapters=(hostile,))
    assert data.load_kpis(path, 0, EVERYONE, slice_).item_count == 0
    assert data.load_review_queue(path, 0, EVERYONE, slice_).empty
    assert data.load_topic_verbatims(path, 0, EVERYONE, WHOLE, hostile).empty
    assert data.load_kpis(path, 0, EVERYONE, WHOLE).item_count == len(marts_source.feedback)


def test_passwords_are_scrypt_hashed_and_verified() -> None:
    stored = hash_password("s3cret!")
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert verify_password("s3cret!", stored)
    assert not verify_password("s3cret", stored)
    assert not verify_password("s3cret!", "plain-text")
    assert hash_password("s3cret!") != stored  # salted


def test_users_file_roles_and_scopes(tmp_path: Path) -> None:
    stored = hash_password("pw")
    path = tmp_path / "users.yaml"
    path.write_text(
        "users:\n"
        f"  - {{username: boss, roles: [leadership, reviewer], password_hash: '{stored}'}}\n"
        f"  - {{username: ne, roles: [chapter_manager], chapter: NE, password_hash: '{stored}'}}\n"
        f"  - {{username: board, roles: [viewer], password_hash: '{stored}'}}\n"
        "  - {username: sso, roles: [reviewer], email: SSO@Example.org}\n"
    )
    users = load_users(path)
    assert users["boss"].scope == Scope("boss", None, True, True, can_edit_taxonomy=True)
    assert users["ne"].scope == Scope("ne", "NE", True, False)
    assert users["board"].scope == Scope("board", None, False, False)
    assert users["sso"].email == "sso@example.org" and Role.REVIEWER in users["sso"].roles
    assert authenticate(users, "boss", "pw") == users["boss"]
    assert authenticate(users, "boss", "nope") is None
    assert authenticate(users, "nobody", "pw") is None
    assert authenticate(users, "sso", "") is None  # no password login for SSO-only users


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("users:\n  - {username: x, roles: [root], password_hash: h}\n", "unknown role"),
        ("users:\n  - {username: x, roles: [chapter_manager], password_hash: h}\n", "chapter"),
        ("users:\n  - {username: x, roles: [viewer]}\n", "password_hash"),
        ("users: nope\n", "users"),
    ],
)
def test_bad_users_file_is_refused_with_a_clear_error(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(body)
    with pytest.raises(UsersFileError, match=message):
        load_users(path)


def test_example_users_file_loads_with_every_role() -> None:
    from app.access import EXAMPLE_USERS_FILE

    users = load_users(EXAMPLE_USERS_FILE)
    assert {r for u in users.values() for r in u.roles} == set(Role)
    assert all(verify_password("pulse-demo", u.password_hash) for u in users.values())
