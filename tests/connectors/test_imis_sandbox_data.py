"""Generated data: determinism, reuse, ground truth that matches the stored text."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

from connectors.imis_sandbox import generate

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
