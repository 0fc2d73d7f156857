"""The iMIS sandbox as an evaluation set: items with the personal data planted in them.

`sandbox_items(tmp, seed, members, items)` generates a sandbox (deterministic for a seed) and
returns its items as the pipeline reads them (e-mail HTML converted and cut at the quoted
history, as `connectors.imis.text.email_text` does), each with the planted values that are
still in its text, plus a `KnownPeople` index of the members (what the `members` asset syncs).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from connectors.imis.text import email_text
from connectors.imis_sandbox import generate
from orchestration.lib.redaction import KnownPeople

SECRET = b"bench-secret-not-for-production"

# sandbox kind -> our entity type
KIND_TO_ENTITY = {
    "first_name": "PERSON",
    "last_name": "PERSON",
    "person_name": "PERSON",
    "staff_name": "PERSON",
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "member_id": "MEMBER_ID",
    "address": "STREET_ADDRESS",
}

# entity -> (table, key columns, text columns, html?)
_SOURCES = {
    "Activity": ("activity", ("SEQN",), ("NOTE", "NOTE_2"), False),
    "PartyNote": ("partynote", ("PartyNoteId",), ("Text",), False),
    "CommunicationLog": ("communicationlog", ("CommunicationLogId",), ("Html",), True),
    "PULSE_SurveyResponse": ("pulse_surveyresponse", ("ID", "Ordinal"), ("ResponseText",), False),
    "PULSE_CaseNote": ("pulse_casenote", ("ID", "Ordinal"), ("NoteText",), False),
}


@dataclass(frozen=True)
class SandboxItem:
    entity: str
    key: str
    text: str
    planted: tuple[tuple[str, str], ...]  # (kind, value) still present in `text`


def sandbox_items(
    data_dir: Path | str, *, seed: int = 23, members: int = 400, items: int = 2000
) -> tuple[list[SandboxItem], KnownPeople]:
    data_dir = Path(data_dir)
    db_path = generate(data_dir, seed=seed, members=members, items=items)
    truth = json.loads((data_dir / "ground_truth.json").read_text(encoding="utf-8"))
    planted: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for p in truth["pii"]:
        planted[(p["entity"], p["key"])].append((p["kind"], p["value"]))
    known = KnownPeople(SECRET)
    out: list[SandboxItem] = []
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for first, last, email in con.execute(
            "select FirstName, LastName, Email from party where IsCompany = 0"
        ):
            known.add_names(first, last, [email] if email else [])
        for entity, (table, keys, fields, html) in _SOURCES.items():
            cols = ", ".join(f'"{c}"' for c in (*keys, *fields))
            for row in con.execute(f'select {cols} from "{table}"'):
                key = "|".join(str(v) for v in row[: len(keys)])
                parts = [str(v) for v in row[len(keys) :] if v and str(v).strip()]
                text = "\n\n".join(parts)
                if html and text:
                    text = email_text(text)
                if not text.strip():
                    continue
                values = tuple(
                    dict.fromkeys((k, v) for k, v in planted.get((entity, key), ()) if v in text)
                )
                out.append(SandboxItem(entity, key, text, values))
    finally:
        con.close()
    return out, known
