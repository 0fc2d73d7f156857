"""Generated data: determinism, reuse, ground truth that matches the stored text."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

from connectors.imis_sandbox import append_day, generate

PARAMS = {"seed": 11, "members": 40, "items": 400, "end_date": date(2026, 6, 30), "days": 90}


def dump(path) -> list:
    with sqlite3.connect(path) as db:
        tables = [
            r[0]
            for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        ]
        return [(t, db.execute(f'SELECT * FROM "{t}" ORDER BY 1, 2').fetchall()) for t in tables]


def test_same_seed_same_data_and_different_seed_differs(tmp_path):
    a = generate(tmp_path / "a", **PARAMS)
    b = generate(tmp_path / "b", **PARAMS)
    c = generate(tmp_path / "c", **(PARAMS | {"seed": 12}))
    assert dump(a) == dump(b) != dump(c)
    assert (tmp_path / "a" / "ground_truth.json").read_bytes() == (
        tmp_path / "b" / "ground_truth.json"
    ).read_bytes()


def test_existing_data_for_same_parameters_is_reused(tmp_path):
    path = generate(tmp_path, **PARAMS)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO sentiment_log (ID, Ordinal, Sentiment) VALUES ('100001', 1, 'kept')"
        )
    generate(tmp_path, **PARAMS)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT Sentiment FROM sentiment_log").fetchall() == [("kept",)]
    generate(tmp_path, **(PARAMS | {"items": 401}))  # other parameters: rebuilt
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM sentiment_log").fetchone() == (0,)


def test_ground_truth_pii_appears_in_the_stored_text(tmp_path):
    path = generate(tmp_path, **PARAMS)
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    text_of = {"Activity": ("activity", "SEQN", "NOTE"), "PartyNote": ("partynote", "PartyNoteId", "Text"),
               "CommunicationLog": ("communicationlog", "CommunicationLogId", "Html")}  # fmt: skip
    kinds = {p["kind"] for p in truth["pii"]}
    assert {"email", "phone", "member_id", "first_name", "staff_name"} <= kinds
    with sqlite3.connect(path) as db:
        for pii in truth["pii"]:
            if pii["entity"] in text_of:
                table, key, column = text_of[pii["entity"]]
                text = db.execute(
                    f'SELECT "{column}" FROM {table} WHERE "{key}" = ?', [pii["key"]]
                ).fetchone()[0]
            else:
                member, ordinal = pii["key"].split("|")
                column = "ResponseText" if pii["entity"] == "PULSE_SurveyResponse" else "NoteText"
                text = db.execute(f'SELECT "{column}" FROM {pii["entity"].lower()} WHERE ID = ? AND Ordinal = ?',
                                  [member, int(ordinal)]).fetchone()[0]  # fmt: skip
            assert pii["value"] in text.replace("&lt;", "<"), pii


def test_incidents_raise_negative_feedback_on_their_topic(tmp_path):
    path = generate(tmp_path, **(PARAMS | {"members": 200, "items": 3000, "days": 365}))
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    outage = next(i for i in truth["incidents"] if i["name"] == "login_outage")
    with sqlite3.connect(path) as db:

        def share(start, end):
            rows = db.execute("SELECT ResponseText FROM pulse_surveyresponse WHERE SubmittedOn >= ? AND SubmittedOn < ?",
                              [start, end]).fetchall()  # fmt: skip
            login = [
                r
                for (r,) in rows
                if r and ("log in" in r or "locked out" in r or "login" in r.lower())
            ]
            return len(login) / max(len(rows), 1)

        assert share(outage["start"], outage["end"]) > 3 * share("2025-07-01", "2026-03-01")


def item_keys(path) -> dict[str, set]:
    """Every item's key and creation day, per table."""
    queries = {"activity": "SELECT SEQN, TRANSACTION_DATE FROM activity",
               "partynote": "SELECT PartyNoteId, CreatedOn FROM partynote",
               "communicationlog": "SELECT CommunicationLogId, CreatedOn FROM communicationlog",
               "pulse_surveyresponse": "SELECT ID || '|' || Ordinal, SubmittedOn FROM pulse_surveyresponse",
               "pulse_casenote": "SELECT ID || '|' || Ordinal, OpenedOn FROM pulse_casenote"}  # fmt: skip
    with sqlite3.connect(path) as db:
        return {t: set(db.execute(q).fetchall()) for t, q in queries.items()}


def test_append_day_adds_new_items_on_that_day_and_keeps_the_history(tmp_path):
    day = date(2026, 6, 30)  # the day after the generated window
    path = generate(tmp_path / "a", **PARAMS)
    before = item_keys(path)
    append_day(tmp_path / "a", day, 120)
    after = item_keys(path)
    new = {t: after[t] - before[t] for t in after}
    assert all(before[t] <= after[t] for t in after)  # the history is untouched
    assert sum(len(rows) for rows in new.values()) == 120
    assert {created[:10] for rows in new.values() for _, created in rows} == {day.isoformat()}
    with sqlite3.connect(path) as db:  # new items belong to generated members
        members = {r[0] for r in db.execute("SELECT PartyId FROM party WHERE IsCompany = 0")}
        authors = {
            r[0]
            for r in db.execute(
                "SELECT PartyId FROM activity WHERE TRANSACTION_DATE >= ?", [day.isoformat()]
            )
        }
    assert authors and authors <= members  # fmt: skip
    appended_truth = (tmp_path / "a" / "ground_truth_appended.jsonl").read_text().splitlines()
    assert appended_truth and all(json.loads(line)["value"] for line in appended_truth)

    # A second day continues the keys; the same calls on another copy give the same data.
    append_day(tmp_path / "a", date(2026, 7, 1), 50)
    again = generate(tmp_path / "b", **PARAMS)
    append_day(tmp_path / "b", day, 120)
    append_day(tmp_path / "b", date(2026, 7, 1), 50)
    assert dump(again) == dump(path)
    assert sum(len(rows) for rows in item_keys(path).values()) == PARAMS["items"] + 170


def test_a_sandbox_with_appended_days_is_rebuilt_not_reused(tmp_path):
    path = generate(tmp_path, **PARAMS)
    append_day(tmp_path, date(2026, 6, 30), 30)
    # A benchmark resuming a kept sandbox serves it as it stands, appended days included...
    generate(tmp_path, **PARAMS, keep_appended_days=True)
    assert sum(len(rows) for rows in item_keys(path).values()) == PARAMS["items"] + 30
    # ...but by default the data goes back to what the parameters describe.
    generate(tmp_path, **PARAMS)
    assert sum(len(rows) for rows in item_keys(path).values()) == PARAMS["items"]
    assert not (tmp_path / "ground_truth_appended.jsonl").exists()
