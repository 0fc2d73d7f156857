"""Typed records every source yields, whatever it is (iMIS entity, IQA query, SQL, file).

`SourceItem.text` is RAW member text: it may hold names, e-mails and phone numbers, so it must
be redacted before it is stored, logged or sent anywhere (DESIGN.md rule 1). Its `repr` hides
the text so that an exception or a log line never carries it by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class SourceItem:
    """One piece of member-written text, as read from a source, before redaction."""

    source_name: str
    source_key: str
    channel: str
    created_at: datetime  # naive local time of the source (iMIS dates carry no zone)
    text: str = field(repr=False)
    member_id: str | None = None
    question: str | None = None  # survey question the text answers, when there is one
    updated_at: datetime | None = None
    original_length: int | None = None  # characters before HTML / quoted-history stripping


@dataclass(frozen=True)
class MemberRecord:
    """A member's segment attributes, plus the identifiers the redactor needs.

    `first_name`, `last_name` and `emails` exist only so the redactor can hash them into its
    known-people index; they are never written to the warehouse (hidden from repr).
    """

    member_id: str
    tier: str | None
    chapter: str | None
    status: str | None
    join_date: date | None
    paid_through: date | None
    updated_at: datetime | None
    first_name: str | None = field(default=None, repr=False)
    last_name: str | None = field(default=None, repr=False)
    emails: tuple[str, ...] = field(default=(), repr=False)
    tier_label: str | None = None  # CustomerTypeDescription, e.g. "Fellow"


@dataclass(frozen=True)
class StaffRecord:
    """A staff user known to iMIS: only for the redactor's known-people index.

    Staff names turn up in member text ("Escalated to Tom Whitfield") and must be redacted like
    members' names; like those, they are never written anywhere (hidden from repr).
    """

    user_id: str
    party_id: str | None = None
    first_name: str | None = field(default=None, repr=False)
    last_name: str | None = field(default=None, repr=False)
    emails: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class MemberChange:
    """A dated change of a member's tier, chapter or status (iMIS change log)."""

    member_id: str
    changed_at: datetime
    attribute: str  # tier | chapter | status
    old_value: str | None
    new_value: str | None


@dataclass(frozen=True)
class SourceProblem:
    """A row a source could not turn into an item: reported, never fatal to the other rows."""

    source_name: str
    location: str  # e.g. "exports/survey.jsonl:17" or "Activity offset 1500"
    reason: str
    # The row's creation time when it could be read: the problem is then counted on that day,
    # so per-day reconciliation with the source adds up (items + problems = source rows).
    created_at: datetime | None = None
