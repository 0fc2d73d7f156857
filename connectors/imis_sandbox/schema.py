"""The sandbox's entities: one SQLite table each, with the CLR type of every property.

iMIS panel sources are real tables with a business object on top (API.md 5.1), so the sandbox
stores each entity as a table whose columns are the property names the REST API exposes. The
CLR type decides how a value is wrapped in GenericEntityData (`System.Int32`...) and how a
filter value is compared.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

Clr = Literal["String", "Int32", "DateTime", "Boolean", "Decimal", "Guid"]
Shape = Literal[
    "generic", "party", "partynote", "commlog", "groupmember", "changelog", "group", "user"
]

ASI = "Asi.Contracts"
GENERIC_ENTITY = f"Asi.Soa.Core.DataContracts.GenericEntityData, {ASI}"


@dataclass(frozen=True)
class Column:
    name: str
    clr: Clr = "String"


@dataclass(frozen=True)
class Entity:
    name: str
    shape: Shape
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    element_type: str  # the CLR type named in the paging envelope's `$type`
    # Key the server assigns on POST: a global sequence (SEQN), or the next Ordinal per ID.
    auto_key: str | None = None
    per_parent: str | None = None
    parent: str | None = "Party"  # PrimaryParentEntityTypeName of GenericEntityData rows
    writable: bool = False
    indexes: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return self.name.lower()

    def column(self, name: str) -> Column | None:
        lowered = name.lower()
        return next((c for c in self.columns if c.name.lower() == lowered), None)


def _cols(spec: str) -> tuple[Column, ...]:
    """`"ID Ordinal:Int32 SubmittedOn:DateTime"` -> columns (String when no type is given)."""
    out = []
    for token in spec.split():
        name, _, clr = token.partition(":")
        out.append(Column(name, clr or "String"))  # type: ignore[arg-type]
    return tuple(out)


def _panel(name: str, spec: str, **kw: object) -> Entity:
    """A Contact-parent multi-instance panel source keyed by (ID, Ordinal)."""
    return Entity(
        name=name,
        shape="generic",
        columns=_cols("ID Ordinal:Int32 " + spec),
        key=("ID", "Ordinal"),
        element_type=GENERIC_ENTITY,
        auto_key="Ordinal",
        per_parent="ID",
        writable=True,
        **kw,  # type: ignore[arg-type]
    )


ENTITIES: dict[str, Entity] = {
    e.name.lower(): e
    for e in (
        Entity(
            name="Party",
            shape="party",
            columns=_cols(
                "PartyId Id UniformId:Guid IsCompany:Boolean NamePrefix FirstName LastName "
                "InformalName OrganizationName Title Email Phone AddressLine CityName "
                "CountrySubEntityCode PostalCode CustomerTypeCode Chapter JoinDate:DateTime "
                "PaidThruDate:DateTime Status CreatedOn:DateTime UpdatedOn:DateTime"
            ),
            key=("PartyId",),
            element_type=f"Asi.Soa.Membership.DataContracts.PartyData, {ASI}",
            parent=None,
            indexes=("UpdatedOn",),
        ),
        Entity(
            name="Activity",
            shape="generic",
            columns=_cols(
                "SEQN:Int32 PartyId ACTIVITY_TYPE PRODUCT_CODE TRANSACTION_DATE:DateTime "
                "EFFECTIVE_DATE:DateTime THRU_DATE:DateTime TICKLER_DATE:DateTime DESCRIPTION "
                "NOTE NOTE_2 SOURCE_CODE OTHER_CODE AMOUNT:Decimal CO_ID"
            ),
            key=("SEQN",),
            element_type=GENERIC_ENTITY,
            auto_key="SEQN",
            writable=True,
            indexes=("TRANSACTION_DATE", "PartyId"),
        ),
        Entity(
            name="PartyNote",
            shape="partynote",
            columns=_cols(
                "PartyNoteId:Int32 PartyId Purpose Text CreatedBy CreatedOn:DateTime "
                "UpdatedBy UpdatedOn:DateTime"
            ),
            key=("PartyNoteId",),
            element_type=f"Asi.Soa.Membership.DataContracts.PartyNoteData, {ASI}",
            auto_key="PartyNoteId",
            parent=None,
            writable=True,
            indexes=("CreatedOn",),
        ),
        Entity(
            name="CommunicationLog",
            shape="commlog",
            columns=_cols(
                "CommunicationLogId:Guid PartyId Subject Html Text SourceProcess "
                "CommunicationType CreatedBy CreatedOn:DateTime"
            ),
            key=("CommunicationLogId",),
            element_type=f"Asi.Soa.Communications.DataContracts.CommunicationLogData, {ASI}",
            parent=None,
            indexes=("CreatedOn",),
        ),
        _panel(
            "PULSE_SurveyResponse",
            "SurveyCode SubmittedOn:DateTime Question ResponseText Score:Int32",
            indexes=("SubmittedOn",),
        ),
        _panel(
            "PULSE_CaseNote",
            "CaseNumber OpenedOn:DateTime Category CaseStatus NoteText FollowUpDate:DateTime "
            "FollowUpActioned:Boolean",
            indexes=("OpenedOn",),
        ),
        _panel(
            "Sentiment_Log",
            "SourceEntity SourceKey Sentiment Score:Decimal Topics Summary ModelVersion "
            "ProcessedOn:DateTime NeedsFollowUp:Boolean",
            indexes=("SourceKey",),
        ),
        Entity(
            name="GroupSummary",
            shape="group",
            columns=_cols("GroupId:Guid Name Description GroupClass StatusCode"),
            key=("GroupId",),
            element_type=f"Asi.Soa.Membership.DataContracts.GroupSummaryData, {ASI}",
            parent=None,
        ),
        Entity(
            name="GroupMember",
            shape="groupmember",
            columns=_cols(
                "GroupMemberId:Guid GroupId:Guid PartyId JoinDate:DateTime IsActive:Boolean "
                "RoleId:Guid EffectiveDate:DateTime ExpirationDate:DateTime"
            ),
            key=("GroupMemberId",),
            element_type=f"Asi.Soa.Membership.DataContracts.GroupMemberData, {ASI}",
            parent=None,
            writable=True,
        ),
        Entity(
            name="User",
            shape="user",
            # ASSUMPTION (API.md is silent on `/api/User`): UserData names its login `UserName`,
            # its contact `Party` (a PartySummaryData) and its roles `Roles.$values[].RoleName`.
            # Staff users carry the role "Staff"; members' web logins carry "Member".
            columns=_cols(
                "UserId:Guid UserName PartyId FirstName LastName Email IsDisabled:Boolean "
                "Roles CreatedOn:DateTime UpdatedOn:DateTime"
            ),
            key=("UserId",),
            element_type=f"Asi.Soa.Membership.DataContracts.UserData, {ASI}",
            parent=None,
        ),
        Entity(
            name="ChangeLog",
            shape="changelog",
            # ASSUMPTION: the change date's property name is not documented (API.md 2.4).
            columns=_cols(
                "ChangeLogId:Int32 IdentityEntityTypeName IdentityId CreatedBy "
                "CreatedOn:DateTime PropertyName OriginalValue NewValue"
            ),
            key=("ChangeLogId",),
            element_type=f"Asi.Soa.Core.DataContracts.ChangeLogData, {ASI}",
            parent=None,
            indexes=("CreatedOn",),
        ),
    )
}

# `/api/Person` and `/api/Organization` are views of the Party table.
PARTY_VIEWS = {"person": False, "organization": True}

_SQL_TYPES = {"Int32": "INTEGER", "Boolean": "INTEGER", "Decimal": "REAL"}


def create_tables(db: sqlite3.Connection) -> None:
    for entity in ENTITIES.values():
        # NOCASE: iMIS runs on SQL Server's case-insensitive collation, so `lastname=eq:smith`
        # matches "Smith".
        cols = ", ".join(
            f'"{c.name}" {_SQL_TYPES.get(c.clr, "TEXT COLLATE NOCASE")}' for c in entity.columns
        )
        keys = ", ".join(f'"{k}"' for k in entity.key)
        db.execute(f'CREATE TABLE IF NOT EXISTS "{entity.table}" ({cols}, PRIMARY KEY ({keys}))')
        for col in entity.indexes:
            db.execute(
                f'CREATE INDEX IF NOT EXISTS "ix_{entity.table}_{col.lower()}" '
                f'ON "{entity.table}" ("{col}")'
            )
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
