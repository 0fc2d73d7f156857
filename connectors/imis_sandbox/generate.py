"""Deterministic synthetic association: members, their history, and four channels of feedback.

Items are generated one at a time from an RNG seeded with (seed, index) and written in batches,
so memory stays flat however many items are asked for (members are held in memory: they are few).
The SQLite file and `ground_truth.json` are built under temporary names and renamed at the end:
a killed generation leaves no half-built data that a later run would mistake for complete.

`append_day` adds a day of new items to an existing sandbox, as new feedback arriving in iMIS
(the end-to-end benchmark's incremental day); it works on a running sandbox too.
"""

from __future__ import annotations

import bisect
import json
import os
import random
import sqlite3
import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from faker import Faker

from .schema import ENTITIES, create_tables
from .textgen import STAFF, TOPICS, Person, compose, email_html, random_phone

DB_NAME = "sandbox.sqlite"
GROUND_TRUTH_NAME = "ground_truth.json"
APPENDED_TRUTH_NAME = "ground_truth_appended.jsonl"  # planted values of appended days
FIRST_MEMBER_ID = 100001
BATCH = 2000
# Bumped whenever the generated tables change, so a cached sandbox of an older layout is rebuilt.
DATA_VERSION = 2
FIRST_STAFF_ID = 900001
STAFF_DOMAIN = "association.example"

TIERS = {  # code -> (description, share of members)
    "STU": ("Student", 0.12),
    "ASSOC": ("Associate", 0.15),
    "MEM": ("Member", 0.48),
    "FELLOW": ("Fellow", 0.10),
    "EMER": ("Emeritus", 0.07),
    "ORG": ("Organizational", 0.08),
}
CHAPTERS = {  # code -> (name, state used in addresses and text)
    "NE": ("New England", "MA"), "MIDATL": ("Mid-Atlantic", "PA"), "SE": ("Southeast", "GA"),
    "MW": ("Midwest", "IL"), "SW": ("Southwest", "AZ"), "MTN": ("Mountain", "CO"),
    "PACNW": ("Pacific Northwest", "WA"), "CAL": ("California", "CA"),
}  # fmt: skip
STATUSES = {"A": "Active", "I": "Inactive", "S": "Suspended"}
# Share of items per (entity, style); Activity carries three types.
CHANNELS = (
    ("Activity:FEEDBACK", 0.17), ("Activity:CALL", 0.11), ("Activity:HLCOMMUNITY", 0.12),
    ("PartyNote", 0.07), ("CommunicationLog", 0.15), ("PULSE_SurveyResponse", 0.27),
    ("PULSE_CaseNote", 0.11),
)  # fmt: skip
CHANNEL_NAMES, CHANNEL_WEIGHTS = [c for c, _ in CHANNELS], [w for _, w in CHANNELS]
SURVEYS = {
    "PULSE-ANNUAL": "What is the one thing we could do to improve your membership?",
    "PULSE-EVENT": "Tell us about your experience at the event.",
    "PULSE-RENEW": "Is there anything that would make renewing easier?",
    "PULSE-NPS": "What is the main reason for your score?",
}
CASE_CATEGORIES = ("Billing", "Events", "Website", "Membership", "Certification", "General")


@dataclass(frozen=True)
class Params:
    seed: int
    members: int
    items: int
    end_date: str
    days: int
    version: int = DATA_VERSION


@dataclass(frozen=True)
class Incident:
    name: str
    topics: tuple[str, ...]
    start: date
    end: date  # exclusive
    tiers: tuple[str, ...]  # customer type codes; all tiers when every code is listed
    share: float  # chance an affected member's item in the window is about the incident
    negative: float  # chance that such an item is negative


@dataclass
class Member:
    person: Person
    tier_history: list[tuple[datetime, str]]  # (effective from, code), sorted


def generate(
    data_dir: str | Path,
    *,
    seed: int = 7,
    members: int = 1500,
    items: int = 6000,
    end_date: date | None = None,
    days: int = 365,
    keep_appended_days: bool = False,
) -> Path:
    """Build (or reuse) the sandbox database in `data_dir`; returns the SQLite path. Days
    appended to it (`append_day`) are dropped by a rebuild unless `keep_appended_days` (a
    benchmark resuming a kept sandbox: the warehouse already holds those days' items)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    params = Params(seed, members, items, (end_date or date.today()).isoformat(), days)
    db_path = data_dir / DB_NAME
    if stored_params(db_path, keep_appended_days) == params:
        return db_path
    tmp_db, tmp_truth = db_path.with_suffix(".tmp"), data_dir / (GROUND_TRUTH_NAME + ".tmp")
    tmp_db.unlink(missing_ok=True)
    db = sqlite3.connect(tmp_db)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        create_tables(db)
        with tmp_truth.open("w", encoding="utf-8") as truth:
            _Generator(db, truth, params).run()
        db.execute("INSERT INTO meta VALUES ('params', ?)", (json.dumps(asdict(params)),))
        db.commit()
    finally:
        db.close()
    os.replace(tmp_db, db_path)
    os.replace(tmp_truth, data_dir / GROUND_TRUTH_NAME)
    (data_dir / APPENDED_TRUTH_NAME).unlink(missing_ok=True)  # days appended to the old data
    return db_path


def stored_params(db_path: Path, with_appended_days: bool = False) -> Params | None:
    if not db_path.exists():
        return None
    try:
        with sqlite3.connect(db_path) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'params'").fetchone()
            appended = db.execute("SELECT 1 FROM meta WHERE key = 'appended'").fetchone()
    except sqlite3.DatabaseError:
        return None
    # Days appended since: the parameters no longer describe the data (unless asked to keep them).
    if not row or (appended and not with_appended_days):
        return None
    stored = json.loads(row[0])
    return Params(**stored) if stored.get("version") == DATA_VERSION else None


def append_day(data_dir: str | Path, day: date, items: int) -> Path:
    """Add `items` new items created on `day` to the sandbox in `data_dir`, in one transaction
    (a running sandbox serves none or all of them). Members stay as they are; keys continue
    after the existing ones; the items' planted values go to `ground_truth_appended.jsonl`.
    Deterministic: item n of the whole sandbox is drawn from (seed, n) as in `generate`."""
    data_dir = Path(data_dir)
    db_path = data_dir / DB_NAME
    db = sqlite3.connect(db_path, timeout=30)
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if "params" not in meta:
            raise FileNotFoundError(f"no generated sandbox in {data_dir}: run generate() first")
        params = Params(**json.loads(meta["params"]))
        appended = json.loads(meta.get("appended", "[]"))
        first = params.items + sum(a["items"] for a in appended)
        with (data_dir / APPENDED_TRUTH_NAME).open("a", encoding="utf-8") as truth:
            generator = _Generator(db, truth, params, truth_lines=True)
            generator.continue_keys()
            members = generator.stored_members()
            for index in range(first, first + items):
                generator.item(random.Random(f"{params.seed}:item:{index}"), index, day, members)
            generator.flush()
            appended.append({"day": day.isoformat(), "items": items, "first_index": first})
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('appended', ?)", (json.dumps(appended),)
            )
            db.commit()
    finally:
        db.close()
    return db_path


def incidents_for(start: date, days: int) -> list[Incident]:
    """Incidents placed at fixed fractions of the window, so every window size has all three."""
    at = lambda fraction: start + timedelta(days=int(days * fraction))  # noqa: E731
    return [
        Incident("dues_increase", ("dues_pricing", "renewal_billing"), at(0.35), at(0.35) + timedelta(days=45),
                 ("STU", "ASSOC", "EMER"), share=0.5, negative=0.85),
        Incident("conference_venue", ("event_logistics",), at(0.62), at(0.62) + timedelta(days=14),
                 tuple(TIERS), share=0.4, negative=0.85),
        Incident("login_outage", ("website_login",), at(0.8), at(0.8) + timedelta(days=4),
                 tuple(TIERS), share=0.55, negative=0.9),
    ]  # fmt: skip


class _Generator:
    def __init__(
        self, db: sqlite3.Connection, truth: Any, params: Params, truth_lines: bool = False
    ):
        self.db, self.truth, self.p = db, truth, params
        self.truth_lines = truth_lines  # one JSON object a line (appended days), not one document
        self.end = date.fromisoformat(params.end_date)
        self.start = self.end - timedelta(days=params.days)
        self.incidents = incidents_for(self.start, params.days)
        self.conference = self.start + timedelta(days=int(params.days * 0.62))
        self.buffers: dict[str, list[tuple]] = {}
        self.first_pii = True
        self.counters = {"SEQN": 20000, "PartyNoteId": 5000}
        self.ordinals: dict[tuple[str, str], int] = {}

    def run(self) -> None:
        self.truth.write(json.dumps({"params": asdict(self.p), "incidents": [
            {"name": i.name, "topics": list(i.topics), "start": i.start.isoformat(),
             "end": i.end.isoformat(), "tiers": list(i.tiers),
             "tier_descriptions": [TIERS[t][0] for t in i.tiers]}
            for i in self.incidents]})[:-1])  # fmt: skip
        self.truth.write(', "pii": [\n')
        members = self._members()
        self._groups()
        self._users(members)
        self._items(members)
        self.flush()
        self.truth.write("\n]}\n")

    # -- members -----------------------------------------------------------------------------

    def _members(self) -> list[Member]:
        fake = Faker("en_US")
        out = []
        all_changes: list[tuple[datetime, str, str, str, str]] = []
        tier_codes, tier_weights = list(TIERS), [w for _, w in TIERS.values()]
        window_start = datetime.combine(self.start, time())
        for i in range(self.p.members):
            rng = random.Random(f"{self.p.seed}:member:{i}")
            fake.seed_instance(f"{self.p.seed}:member:{i}")
            member_id = str(FIRST_MEMBER_ID + i)
            female = rng.random() < 0.55
            first = fake.first_name_female() if female else fake.first_name_male()
            last = fake.last_name()
            chapter = rng.choice(list(CHAPTERS))
            state = CHAPTERS[chapter][1]
            tier = rng.choices(tier_codes, tier_weights)[0]
            years = rng.randint(0, 4) if tier == "STU" else rng.randint(1, 30)
            joined = datetime.combine(
                self.start - timedelta(days=365 * years + rng.randint(0, 364)), time()
            )
            status = "A"
            history: list[tuple[datetime, str]] = [(joined, tier)]
            updated = joined + timedelta(days=rng.randint(0, 30), seconds=rng.randint(0, 86399))
            changes: list[tuple[datetime, str, str, str]] = []

            def change(
                prop: str, old: str, new: str, rng: random.Random = rng, log: list = changes
            ) -> datetime:
                when = window_start + timedelta(
                    days=rng.randrange(self.p.days), seconds=rng.randint(28800, 64800)
                )
                log.append((when, prop, old, new))
                return when

            # Member history inside the window: graduations, chapter moves, lapses.
            if tier == "STU" and rng.random() < 0.25:
                history.append((change("Name.MEMBER_TYPE", "STU", "MEM"), "MEM"))
                tier = "MEM"
            elif tier == "MEM" and rng.random() < 0.05:
                history.append((change("Name.MEMBER_TYPE", "MEM", "FELLOW"), "FELLOW"))
                tier = "FELLOW"
            if rng.random() < 0.05:
                new_chapter = rng.choice([c for c in CHAPTERS if c != chapter])
                change("Name.CHAPTER", chapter, new_chapter)
                chapter = new_chapter
            if rng.random() < 0.08:
                change("Name.STATUS", "A", "I")
                status = "I"
            history.sort()
            if changes:
                updated = max(updated, *(c[0] for c in changes))
            paid_year = self.end.year + (0 if status == "A" else -1) + (rng.random() < 0.3)
            address = f"{fake.street_address()}, {fake.city()}, {state} {fake.zipcode()}"
            email = f"{first}.{last}{rng.randint(1, 99)}@{fake.free_email_domain()}".lower()
            person = Person(member_id, first, last, email, random_phone(rng), address,
                            CHAPTERS[chapter][0], TIERS[tier][0], joined.year, state)  # fmt: skip
            self._add("Party", {
                "PartyId": member_id, "Id": member_id, "UniformId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "IsCompany": 0, "NamePrefix": rng.choice(("Ms." if female else "Mr.", "Dr.", "")), "FirstName": first,
                "LastName": last, "InformalName": first, "OrganizationName": fake.company(), "Title": fake.job()[:60],
                "Email": email, "Phone": person.phone, "AddressLine": address.split(",")[0],
                "CityName": address.split(", ")[1], "CountrySubEntityCode": state, "PostalCode": address.rsplit(" ", 1)[1],
                "CustomerTypeCode": tier, "Chapter": chapter, "JoinDate": _iso(joined),
                "PaidThruDate": f"{paid_year}-12-31T00:00:00", "Status": status, "CreatedOn": _iso(joined),
                "UpdatedOn": _iso(updated),
            })  # fmt: skip
            all_changes += [(when, member_id, prop, old, new) for when, prop, old, new in changes]
            out.append(Member(person, history))
        for j in range(max(1, self.p.members // 25)):
            fake.seed_instance(f"{self.p.seed}:org:{j}")
            org_id = str(FIRST_MEMBER_ID + self.p.members + j)
            self._add("Party", {
                "PartyId": org_id, "Id": org_id, "IsCompany": 1, "OrganizationName": fake.company(),
                "Email": f"info@{fake.domain_name()}", "Phone": fake.phone_number(), "CustomerTypeCode": "ORG",
                "Status": "A", "CreatedOn": _iso(datetime.combine(self.start, time(9))),
                "UpdatedOn": _iso(datetime.combine(self.start, time(9))),
            })  # fmt: skip
        # ChangeLog ids follow change dates, as an audit table's identity column would.
        for log_id, (when, member_id, prop, old, new) in enumerate(sorted(all_changes), start=1):
            self._add("ChangeLog", {
                "ChangeLogId": log_id, "IdentityEntityTypeName": "Party", "IdentityId": member_id,
                "CreatedBy": "MANAGER", "CreatedOn": _iso(when), "PropertyName": prop,
                "OriginalValue": old, "NewValue": new,
            })  # fmt: skip
        return out

    def _groups(self) -> None:
        for i, (name, cls) in enumerate((
            ("Pulse: follow-up needed", "Alerts"), ("Pulse: emerging issue watchers", "Alerts"),
            ("Board of Directors", "Committee"), ("Annual Conference Attendees", "Event"),
        )):  # fmt: skip
            self._add("GroupSummary", {
                "GroupId": str(uuid.UUID(int=random.Random(f"{self.p.seed}:group:{i}").getrandbits(128), version=4)).upper(),
                "Name": name, "Description": name, "GroupClass": cls, "StatusCode": "A",
            })  # fmt: skip

    def _users(self, members: list[Member]) -> None:
        """Staff logins (every staff name the text plants comes from here) and a few members'
        web logins, which are users too but not staff."""
        for i, full in enumerate(STAFF):
            first, last = full.split(" ", 1)
            rng = random.Random(f"{self.p.seed}:staff:{i}")
            self._add("User", {
                "UserId": str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper(),
                "UserName": (first[0] + last).upper().replace(" ", ""),
                "PartyId": str(FIRST_STAFF_ID + i), "FirstName": first, "LastName": last,
                "Email": f"{first[0]}{last}@{STAFF_DOMAIN}".lower().replace(" ", ""),
                "IsDisabled": 0, "Roles": "Staff|RemoteService" if i == 0 else "Staff",
                "CreatedOn": _iso(datetime.combine(self.start, time(9))),
                "UpdatedOn": _iso(datetime.combine(self.start, time(9))),
            })  # fmt: skip
        for j, member in enumerate(members[: min(5, len(members))]):
            person = member.person
            rng = random.Random(f"{self.p.seed}:weblogin:{j}")
            self._add("User", {
                "UserId": str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper(),
                "UserName": person.email, "PartyId": person.member_id, "FirstName": person.first,
                "LastName": person.last, "Email": person.email, "IsDisabled": 0, "Roles": "Member",
                "CreatedOn": _iso(datetime.combine(self.start, time(9))),
                "UpdatedOn": _iso(datetime.combine(self.start, time(9))),
            })  # fmt: skip

    # -- items -------------------------------------------------------------------------------

    def _day_profile(self) -> list[float]:
        """Cumulative weights per day: renewal season and the conference draw more feedback."""
        weights = []
        for d in range(self.p.days):
            day = self.start + timedelta(days=d)
            w = 0.55 if day.weekday() >= 5 else 1.0
            if day.month in (11, 12, 1):
                w *= 1.6
            if abs((day - self.conference).days) <= 10:
                w *= 2.5
            weights.append(w)
        return [sum(weights[: i + 1]) for i in range(len(weights))]

    def _items(self, members: list[Member]) -> None:
        cumulative = self._day_profile()
        for index in range(self.p.items):
            rng = random.Random(f"{self.p.seed}:item:{index}")
            day = bisect.bisect_left(cumulative, rng.random() * cumulative[-1])
            self.item(rng, index, self.start + timedelta(days=day), members)

    def stored_members(self) -> list[Member]:
        """The members as generated, read back from Party (in generation order). Their tier
        history is only the current tier: every tier change lies inside the generated window,
        so for a day after it the current tier is the tier at the time."""
        cursor = self.db.cursor()
        cursor.row_factory = sqlite3.Row
        members = []
        for r in cursor.execute(
            "SELECT * FROM party WHERE IsCompany = 0 ORDER BY CAST(PartyId AS INTEGER)"
        ):
            joined = datetime.fromisoformat(r["JoinDate"])
            state = r["CountrySubEntityCode"]
            address = f"{r['AddressLine']}, {r['CityName']}, {state} {r['PostalCode']}"
            person = Person(r["PartyId"], r["FirstName"], r["LastName"], r["Email"], r["Phone"], address,
                            CHAPTERS[r["Chapter"]][0], TIERS[r["CustomerTypeCode"]][0], joined.year, state)  # fmt: skip
            members.append(Member(person, [(joined, r["CustomerTypeCode"])]))
        return members

    def continue_keys(self) -> None:
        """Number new items after the stored ones, as iMIS identity columns would."""
        self.counters["SEQN"] = self.db.execute("SELECT MAX(SEQN) FROM activity").fetchone()[0]
        self.counters["PartyNoteId"] = self.db.execute(
            "SELECT MAX(PartyNoteId) FROM partynote"
        ).fetchone()[0]
        for entity in ("PULSE_SurveyResponse", "PULSE_CaseNote"):
            table = ENTITIES[entity.lower()].table
            for pid, ordinal in self.db.execute(
                f'SELECT ID, MAX(Ordinal) FROM "{table}" GROUP BY ID'
            ):
                self.ordinals[(entity, pid)] = ordinal

    def item(self, rng: random.Random, index: int, day: date, members: list[Member]) -> None:
        """Item `index`, created on `day`, drawn from `rng`."""
        counters, ordinals = self.counters, self.ordinals
        when = datetime.combine(day, time()) + timedelta(seconds=rng.randint(7 * 3600, 21 * 3600))
        member = members[int(len(members) * rng.random() ** 1.4)]
        colleague = members[rng.randrange(len(members))]
        tier = next(code for start, code in reversed(member.tier_history) if start <= when) \
            if member.tier_history[0][0] <= when else member.tier_history[0][1]  # fmt: skip
        topics, sentiment = self._topics(rng, when.date(), tier)
        channel = rng.choices(CHANNEL_NAMES, CHANNEL_WEIGHTS)[0]
        entity, _, activity_type = channel.partition(":")
        style = {"FEEDBACK": "email", "CALL": "call", "HLCOMMUNITY": "community", "PartyNote": "note",
                 "CommunicationLog": "email", "PULSE_SurveyResponse": "survey",
                 "PULSE_CaseNote": "case"}[activity_type or entity]  # fmt: skip
        composed = compose(rng, style, topics, sentiment, member.person, colleague.person)
        text, pii = composed.text, composed.pii
        if rng.random() < 0.001:  # a pasted thread: the "huge text" case
            text = "\n\n".join([text] * (12000 // max(len(text), 1) + 1))
        empty = rng.random() < 0.004
        if entity == "CommunicationLog":
            text, pii = email_html(rng, composed, member.person)
            if empty:  # a forward with nothing but quoted history
                text = (
                    text.split("<body")[0]
                    + "<body><blockquote>On Monday the office wrote:<br>Noted.</blockquote></body></html>"
                )
        elif empty:
            text = rng.choice(("", "   ", "\n"))
        if empty:
            pii = []
        pid = member.person.member_id
        row: dict[str, Any]
        if entity == "Activity":
            counters["SEQN"] += 1
            key = str(counters["SEQN"])
            row = {"SEQN": counters["SEQN"], "PartyId": pid, "ACTIVITY_TYPE": activity_type,
                   "PRODUCT_CODE": topics[0].upper()[:10] if activity_type != "HLCOMMUNITY" else "DISCUSSION",
                   "TRANSACTION_DATE": _iso(when), "EFFECTIVE_DATE": _iso(when), "DESCRIPTION": composed.subject,
                   "NOTE": text, "SOURCE_CODE": "OUTLOOK" if activity_type == "FEEDBACK" else None}  # fmt: skip
            if activity_type == "CALL" and rng.random() < 0.3:
                row["NOTE_2"] = "Follow-up: member confirmed the issue is resolved."
                row["TICKLER_DATE"] = _iso(when + timedelta(days=3))
        elif entity == "PartyNote":
            counters["PartyNoteId"] += 1
            key = str(counters["PartyNoteId"])
            row = {"PartyNoteId": counters["PartyNoteId"], "PartyId": pid, "Purpose": "Member feedback",
                   "Text": text, "CreatedBy": "MANAGER", "CreatedOn": _iso(when),
                   "UpdatedBy": "MANAGER", "UpdatedOn": _iso(when)}  # fmt: skip
        elif entity == "CommunicationLog":
            key = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            row = {"CommunicationLogId": key, "PartyId": pid, "Subject": composed.subject, "Html": text,
                   "Text": "", "SourceProcess": "OutlookIntegration", "CommunicationType": "Email",
                   "CreatedBy": "MANAGER", "CreatedOn": _iso(when)}  # fmt: skip
        else:
            ordinal = ordinals[(entity, pid)] = ordinals.get((entity, pid), 0) + 1
            key = f"{pid}|{ordinal}"
            if entity == "PULSE_SurveyResponse":
                code = "PULSE-EVENT" if "event" in topics[0] else rng.choice(list(SURVEYS))
                row = {"ID": pid, "Ordinal": ordinal, "SurveyCode": code, "SubmittedOn": _iso(when),
                       "Question": SURVEYS[code], "ResponseText": text or None,
                       "Score": {"positive": rng.randint(8, 10), "neutral": rng.randint(5, 8),
                                 "negative": rng.randint(0, 5)}[sentiment]}  # fmt: skip
            else:
                row = {"ID": pid, "Ordinal": ordinal, "CaseNumber": f"C-{index + 10000}",
                       "OpenedOn": _iso(when), "Category": rng.choice(CASE_CATEGORIES),
                       "CaseStatus": rng.choice(("Open", "Closed", "Closed", "Pending")), "NoteText": text,
                       "FollowUpActioned": int(rng.random() < 0.5)}  # fmt: skip
        self._add(entity, row)
        for kind, value in pii:
            self._pii(entity, key, kind, value)

    def _topics(self, rng: random.Random, day: date, tier: str) -> tuple[list[str], str]:
        for incident in self.incidents:
            if (
                incident.start <= day < incident.end
                and tier in incident.tiers
                and rng.random() < incident.share
            ):
                sentiment = (
                    "negative"
                    if rng.random() < incident.negative
                    else rng.choice(("neutral", "positive"))
                )
                return [rng.choice(incident.topics)], sentiment
        weights = [1.0] * len(TOPICS)
        if day.month in (11, 12, 1):
            for t in ("dues_pricing", "renewal_billing"):
                weights[TOPICS.index(t)] *= 3
        if abs((day - self.conference).days) <= 10:
            for t in (
                "event_registration",
                "event_logistics",
                "event_content",
                "event_cancellation",
            ):
                weights[TOPICS.index(t)] *= 4
        topics = [rng.choices(TOPICS, weights)[0]]
        if rng.random() < 0.3:
            topics.append(rng.choice([t for t in TOPICS if t != topics[0]]))
        mood = {"FELLOW": (0.5, 0.3), "STU": (0.3, 0.35), "EMER": (0.45, 0.35)}.get(
            tier, (0.38, 0.32)
        )
        roll = rng.random()
        sentiment = "positive" if roll < mood[0] else "neutral" if roll < sum(mood) else "negative"
        return topics, sentiment

    # -- writing -----------------------------------------------------------------------------

    def _pii(self, entity: str, key: str, kind: str, value: str) -> None:
        if self.truth_lines:
            record = {"entity": entity, "key": key, "kind": kind, "value": value}
            self.truth.write(json.dumps(record) + "\n")
            return
        sep = "" if self.first_pii else ",\n"
        self.first_pii = False
        self.truth.write(
            sep + json.dumps({"entity": entity, "key": key, "kind": kind, "value": value})
        )

    def _add(self, entity_name: str, row: dict[str, Any]) -> None:
        entity = ENTITIES[entity_name.lower()]
        values = tuple(row.get(c.name) for c in entity.columns)
        buffer = self.buffers.setdefault(entity.table, [])
        buffer.append(values)
        if len(buffer) >= BATCH:
            self.flush()

    def flush(self) -> None:
        for table, rows in self.buffers.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                self.db.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)
                rows.clear()


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")
