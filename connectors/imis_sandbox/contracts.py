"""Rows <-> iMIS JSON: GenericEntityData with typed wrappers, and the typed data contracts."""

from __future__ import annotations

from typing import Any

from .generate import STATUSES, TIERS
from .schema import ASI, GENERIC_ENTITY, Entity

CORE = "Asi.Soa.Core.DataContracts"
MEMBERSHIP = "Asi.Soa.Membership.DataContracts"
PROPERTY = f"{CORE}.GenericPropertyData, {ASI}"
PROPERTIES = f"{CORE}.GenericPropertyDataCollection, {ASI}"
IDENTITY = f"{CORE}.IdentityData, {ASI}"
STRINGS = "System.Collections.ObjectModel.Collection`1[[System.String, mscorlib]], mscorlib"
UNAUTHORIZED = {
    "$type": "System.Web.Http.HttpError, System.Web.Http",
    "Message": "Authorization has been denied for this request.",
}
_WRAPPED = {"Int32": "System.Int32", "Boolean": "System.Boolean", "Decimal": "System.Decimal",
            "Guid": "System.Guid"}  # fmt: skip


class ContractError(ValueError):
    """A request body the server rejects with 400 (iMIS `ValidationResultsData`)."""


def envelope(
    element_type: str | None, items: list[Any], offset: int, limit: int, total: int
) -> dict:
    """PagedResult as in API.md 2.2; `element_type=None` is the query endpoint's non-generic form."""
    if element_type is None:
        paged, listed = f"{CORE}.PagedResult, {ASI}", "System.Object, mscorlib"
    else:
        paged, listed = f"{CORE}.PagedResult`1[[{element_type}]], {ASI}", element_type
    has_next = offset + len(items) < total
    return {
        "$type": paged,
        "Items": {
            "$type": f"System.Collections.Generic.List`1[[{listed}]], mscorlib",
            "$values": items,
        },
        "Offset": offset,
        "Limit": limit,
        "Count": len(items),
        "TotalCount": total,
        "NextPageLink": None,
        "HasNext": has_next,
        "NextOffset": offset + len(items) if has_next else 0,
    }


def validation_error(message: str) -> dict:
    # ASSUMPTION (API.md 1.4): the exact 400 body is unknown; clients read Errors.$values[].Message.
    return {
        "$type": f"{CORE}.ValidationResultsData, {ASI}",
        "Errors": {
            "$type": f"{CORE}.ValidationResultDataCollection, {ASI}",
            "$values": [{"$type": f"{CORE}.ValidationResultData, {ASI}", "Message": message}],
        },
        "IsValid": False,
    }


def identity(entity_type: str, elements: list[str]) -> dict:
    return {"$type": IDENTITY, "EntityTypeName": entity_type,
            "IdentityElements": {"$type": STRINGS, "$values": elements}}  # fmt: skip


def _wrap(value: Any, clr: str) -> Any:
    if clr == "Boolean":
        value = bool(value)
    return {"$type": _WRAPPED[clr], "$value": value} if clr in _WRAPPED else value


def generic_entity(entity: Entity, row: dict[str, Any]) -> dict:
    """Nulls are properties without `Value` (API.md 3.1), never `"Value": null`."""
    props = []
    for column in entity.columns:
        prop = {"$type": PROPERTY, "Name": column.name}
        if row.get(column.name) is not None:
            prop["Value"] = _wrap(row[column.name], column.clr)
        props.append(prop)
    out: dict[str, Any] = {
        "$type": GENERIC_ENTITY,
        "EntityTypeName": entity.name,
        "PrimaryParentEntityTypeName": entity.parent or "Standalone",
        "Identity": identity(entity.name, [str(row[k]) for k in entity.key]),
    }
    parent_id = row.get(entity.per_parent or "PartyId")
    if entity.parent and parent_id is not None:
        out["PrimaryParentIdentity"] = identity(entity.parent, [str(parent_id)])
    out["Properties"] = {"$type": PROPERTIES, "$values": props}
    return out


def properties_from(entity: Entity, body: Any) -> dict[str, Any]:
    """Read a GenericEntityData body into column values, checking typed wrappers."""
    try:
        values = body["Properties"]["$values"]
    except (KeyError, TypeError):
        raise ContractError("BadRequest: ValidationError: Properties are required") from None
    row: dict[str, Any] = {}
    for prop in values:
        column = entity.column(str(prop.get("Name", "")))
        if column is None:
            raise ContractError(f"BadRequest: ValidationError: unknown property {prop.get('Name')}")
        value = prop.get("Value")
        if isinstance(value, dict):
            value = value.get("$value")
        elif column.clr == "Boolean" and value is not None:
            # iMIS rejects a bare JSON bool for a Boolean property (API.md 3.2, S23).
            raise ContractError(
                f"BadRequest: ValidationError: {column.name} needs a System.Boolean wrapper"
            )
        row[column.name] = _store(column.clr, value)
    return row


def _store(clr: str, value: Any) -> Any:
    if value is None or value == "":
        return None if clr != "String" else value
    if clr == "Int32":
        return int(value)
    if clr == "Boolean":
        return int(bool(value) if not isinstance(value, str) else value.lower() == "true")
    if clr == "Decimal":
        return float(value)
    return str(value)


def _attribute(name: str, value: Any) -> dict:
    prop: dict[str, Any] = {"$type": PROPERTY, "Name": name}
    if value is not None:
        prop["Value"] = value
    return prop


def _update_information(created_on: str | None, updated_on: str | None) -> dict:
    return {"$type": f"{CORE}.EntityUpdateInformationData, {ASI}", "CreatedBy": "MANAGER",
            "CreatedOn": created_on, "UpdatedBy": "MANAGER", "UpdatedOn": updated_on}  # fmt: skip


def party(row: dict[str, Any]) -> dict:
    """PersonData (API.md 3.3) or, for companies, OrganizationData."""
    status = row["Status"] or "A"
    common = {
        "Emails": {"$type": f"{MEMBERSHIP}.EmailDataCollection, {ASI}", "$values": [
            {"$type": f"{MEMBERSHIP}.EmailData, {ASI}", "Address": row["Email"],
             "EmailType": "_Primary", "IsPrimary": True}] if row["Email"] else []},
        "Phones": {"$type": f"{MEMBERSHIP}.PhoneDataCollection, {ASI}", "$values": [
            {"$type": f"{MEMBERSHIP}.PhoneData, {ASI}", "Number": row["Phone"], "PhoneType": "_Work Phone"}]
            if row["Phone"] else []},
        "UpdateInformation": _update_information(row["CreatedOn"], row["UpdatedOn"]),
        "PartyId": row["PartyId"],
        "Id": row["Id"],
        "UniformId": row["UniformId"],
        "Status": {"$type": f"{MEMBERSHIP}.PartyStatusData, {ASI}", "PartyStatusId": status,
                   "Name": STATUSES[status], "Description": STATUSES[status]},
    }  # fmt: skip
    tier = row["CustomerTypeCode"]
    attributes = [
        _attribute("CustomerTypeCode", tier),
        _attribute("CustomerTypeDescription", TIERS[tier][0] if tier in TIERS else None),
        _attribute(
            "IsMember", {"$type": "System.Boolean", "$value": tier in TIERS and status == "A"}
        ),
        _attribute("JoinDate", row["JoinDate"]),
        _attribute("PaidThruDate", row["PaidThruDate"]),
        _attribute("Chapter", row["Chapter"]),
    ]
    if row["IsCompany"]:
        return {
            "$type": f"{MEMBERSHIP}.OrganizationData, {ASI}",
            "OrganizationName": row["OrganizationName"],
            "AdditionalAttributes": {"$type": PROPERTIES, "$values": attributes},
            **common,
            "Name": row["OrganizationName"],
            "Sort": (row["OrganizationName"] or "").upper(),
        }
    full = " ".join(p for p in (row["NamePrefix"], row["FirstName"], row["LastName"]) if p)
    return {
        "$type": f"{MEMBERSHIP}.PersonData, {ASI}",
        "PersonName": {"$type": f"{MEMBERSHIP}.PersonNameData, {ASI}", "FirstName": row["FirstName"],
                       "LastName": row["LastName"], "InformalName": row["InformalName"],
                       "NamePrefix": row["NamePrefix"], "FullName": full},
        "PrimaryOrganization": {"$type": f"{MEMBERSHIP}.PrimaryOrganizationInformationData, {ASI}",
                                "Name": row["OrganizationName"], "Title": row["Title"]},
        "AdditionalAttributes": {"$type": PROPERTIES, "$values": attributes},
        "Addresses": {"$type": f"{MEMBERSHIP}.FullAddressDataCollection, {ASI}", "$values": [{
            "$type": f"{MEMBERSHIP}.FullAddressData, {ASI}", "AddressPurpose": "Address",
            "Address": {"$type": f"{MEMBERSHIP}.AddressData, {ASI}",
                        "AddressLines": {"$type": f"{MEMBERSHIP}.AddressLineDataCollection, {ASI}",
                                         "$values": [row["AddressLine"]]},
                        "CityName": row["CityName"], "CountryCode": "US",
                        "CountrySubEntityCode": row["CountrySubEntityCode"], "PostalCode": row["PostalCode"]}}]},
        **common,
        "Name": full,
        "Sort": f"{(row['LastName'] or '').upper()}, {(row['FirstName'] or '').upper()}",
    }  # fmt: skip


def party_note(row: dict[str, Any]) -> dict:
    return {"$type": f"{MEMBERSHIP}.PartyNoteData, {ASI}", "PartyNoteId": str(row["PartyNoteId"]),
            "PartyId": row["PartyId"], "Purpose": row["Purpose"], "Text": row["Text"],
            "UpdateInformation": _update_information(row["CreatedOn"], row["UpdatedOn"])}  # fmt: skip


def communication_log(row: dict[str, Any]) -> dict:
    # ASSUMPTION (API.md 4): CommunicationLogData's REST names mirror the table's columns.
    return {"$type": f"Asi.Soa.Communications.DataContracts.CommunicationLogData, {ASI}",
            **{k: row[k] for k in ("CommunicationLogId", "PartyId", "Subject", "Html", "Text",
                                   "SourceProcess", "CommunicationType", "CreatedBy", "CreatedOn")}}  # fmt: skip


def group_summary(row: dict[str, Any]) -> dict:
    return {"$type": f"{MEMBERSHIP}.GroupSummaryData, {ASI}", "GroupId": row["GroupId"], "Name": row["Name"],
            "Description": row["Description"], "StatusCode": row["StatusCode"],
            "GroupClass": {"$type": f"{MEMBERSHIP}.GroupClassSummaryData, {ASI}", "Name": row["GroupClass"]}}  # fmt: skip


def group_member(row: dict[str, Any]) -> dict:
    return {
        "$type": f"{MEMBERSHIP}.GroupMemberData, {ASI}",
        "GroupMemberId": row["GroupMemberId"],
        "MembershipDetails": {"$type": f"{MEMBERSHIP}.GroupMemberDetailDataCollection, {ASI}", "$values": [{
            "$type": f"{MEMBERSHIP}.GroupMemberDetailData, {ASI}", "EffectiveDate": row["EffectiveDate"],
            "ExpirationDate": row["ExpirationDate"], "IsActive": bool(row["IsActive"]),
            "Role": {"$type": f"{MEMBERSHIP}.GroupRoleData, {ASI}", "RoleId": row["RoleId"], "Name": "Member"}}]},
        "Group": {"$type": f"{MEMBERSHIP}.GroupSummaryData, {ASI}", "GroupId": row["GroupId"]},
        "Party": {"$type": f"{MEMBERSHIP}.PartySummaryData, {ASI}", "PartyId": row["PartyId"], "Id": row["PartyId"]},
        "JoinDate": row["JoinDate"],
        "IsActive": bool(row["IsActive"]),
    }  # fmt: skip


def change_log(row: dict[str, Any]) -> dict:
    return {
        "$type": f"{CORE}.ChangeLogData, {ASI}",
        "ChangeLogId": str(row["ChangeLogId"]),
        "Identity": identity(row["IdentityEntityTypeName"], [row["IdentityId"]]),
        "CreatedBy": row["CreatedBy"],
        "CreatedOn": row["CreatedOn"],
        "Changes": {"$type": f"{CORE}.ChangeDataCollection, {ASI}", "$values": [{
            "$type": f"{CORE}.ChangeData, {ASI}", "PropertyName": row["PropertyName"],
            "OriginalValue": row["OriginalValue"], "NewValue": row["NewValue"]}]},
    }  # fmt: skip


def user(row: dict[str, Any]) -> dict:
    """UserData (ASSUMPTION, see schema.py): the login, its contact and its roles."""
    full = " ".join(p for p in (row["FirstName"], row["LastName"]) if p)
    roles = [r for r in (row["Roles"] or "").split("|") if r]
    return {
        "$type": f"{MEMBERSHIP}.UserData, {ASI}",
        "UserId": row["UserId"],
        "UserName": row["UserName"],
        "IsDisabled": bool(row["IsDisabled"]),
        "Party": {"$type": f"{MEMBERSHIP}.PartySummaryData, {ASI}", "PartyId": row["PartyId"],
                  "Id": row["PartyId"], "Name": full, "Email": row["Email"],
                  "PersonName": {"$type": f"{MEMBERSHIP}.PersonNameData, {ASI}",
                                 "FirstName": row["FirstName"], "LastName": row["LastName"],
                                 "FullName": full}},
        "Roles": {"$type": f"{MEMBERSHIP}.RoleDataCollection, {ASI}", "$values": [
            {"$type": f"{MEMBERSHIP}.RoleData, {ASI}", "RoleName": r} for r in roles]},
        "UpdateInformation": _update_information(row["CreatedOn"], row["UpdatedOn"]),
    }  # fmt: skip


RENDERERS = {"party": party, "partynote": party_note, "commlog": communication_log,
             "group": group_summary, "groupmember": group_member, "changelog": change_log,
             "user": user}  # fmt: skip


def render(entity: Entity, row: dict[str, Any]) -> dict:
    if entity.shape == "generic":
        return generic_entity(entity, row)
    return RENDERERS[entity.shape](row)
