"""The sandbox's HTTP surface: `/token`, `/api/{Entity}` and `/api/query` (API.md section 8).

One catch-all route dispatches by lower-cased path segments, because iMIS treats entity names
and `/Token` case-insensitively. Handlers are async and use one SQLite connection on the event
loop's thread, so requests are serialised without locks.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import contracts
from .faults import Faults
from .filters import FilterError, coerce, order_clause, split_operator, where_clause
from .schema import ENTITIES, PARTY_VIEWS, Entity

_PAGING = {"limit", "offset", "orderby"}


@dataclass(frozen=True)
class Query:
    """A saved IQA exposed through `/api/query`: aliases in display order, named filters."""

    entity: str
    aliases: tuple[tuple[str, str], ...]  # (display alias, column)
    filters: dict[str, tuple[str, str]]  # filter name (lower) -> (column, SQL operator)
    required: tuple[str, ...]
    sort: str


QUERIES = {
    "$/memberpulse/surveycomments": Query(
        entity="pulse_surveyresponse",
        aliases=(("ID", "ID"), ("Ordinal", "Ordinal"), ("Survey", "SurveyCode"),
                 ("Submitted On", "SubmittedOn"), ("Question", "Question"), ("Comment", "ResponseText")),
        filters={"startdate": ("SubmittedOn", ">="), "enddate": ("SubmittedOn", "<"),
                 "id": ("ID", "="), "surveycode": ("SurveyCode", "=")},
        required=("startdate", "enddate"),
        sort='"SubmittedOn", "ID", "Ordinal"',
    ),
}  # fmt: skip


@dataclass
class SandboxConfig:
    db_path: Path
    username: str
    password: str
    faults: Faults = field(default_factory=Faults)
    post_status: int = 201  # API.md 8.7: iMIS answers 200 or 201; clients accept both


class Sandbox:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.faults = config.faults
        self.db = sqlite3.connect(config.db_path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (user, expires at, monotonic)
        self.user_token: dict[str, str] = {}
        self._last_purge = time.monotonic()

    def revoke_tokens(self) -> None:
        """What an app-pool restart or "Purge System Cache" does to every issued token."""
        self.tokens.clear()
        self.user_token.clear()

    # -- entry point -------------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        parts = [p for p in request.url.path.split("/") if p]
        head = [p.lower() for p in parts[:2]]
        if head == ["token"] and request.method == "POST":
            return await self.token(request)
        if not head or head[0] != "api" or len(parts) < 2:
            return JSONResponse({"Message": "No HTTP resource was found."}, 404)
        if not self._authorized(request):
            return JSONResponse(contracts.UNAUTHORIZED, 401)
        if fault := await self._fault(request):
            return fault
        try:
            return await self.api(request, parts[1], parts[2:])
        except (FilterError, contracts.ContractError) as exc:
            return JSONResponse(contracts.validation_error(str(exc)), 400)

    async def token(self, request: Request) -> Response:
        form = {k.lower(): v for k, v in (await request.form()).items()}
        if form.get("grant_type") != "password":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if (form.get("username"), form.get("password")) != (
            self.config.username,
            self.config.password,
        ):
            return JSONResponse(
                {
                    "error": "invalid_grant",
                    "error_description": "The user name or password is incorrect.",
                },
                400,
            )
        user = self.config.username
        # A new token for a user expires that user's previous token (API.md 1.2, S12).
        self.tokens.pop(self.user_token.get(user, ""), None)
        token = secrets.token_urlsafe(32)
        lifetime = self.faults.token_expiry_s
        self.tokens[token] = (user, time.monotonic() + lifetime)
        self.faults.injected["token"] += 1
        self.user_token[user] = token
        issued = datetime.now().astimezone()
        return JSONResponse({
            "access_token": token, "token_type": "bearer", "expires_in": lifetime, "userName": user,
            ".issued": format_datetime(issued, usegmt=False),
            ".expires": format_datetime(issued + timedelta(seconds=lifetime), usegmt=False),
        })  # fmt: skip

    def _authorized(self, request: Request) -> bool:
        every = self.faults.revoke_tokens_every_s
        if every and time.monotonic() - self._last_purge >= every:
            self._last_purge = time.monotonic()
            if self.tokens:
                self.faults.injected["revoke"] += 1
            self.revoke_tokens()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        entry = self.tokens.get(token) if scheme.lower() == "bearer" else None
        ok = entry is not None and entry[1] > time.monotonic()
        if not ok:
            self.faults.injected["401"] += 1
        return ok

    async def _fault(self, request: Request) -> Response | None:
        f = self.faults
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        if f.roll(f.rate_429, "429"):
            return JSONResponse(
                {"Message": "Too many requests."}, 429, {"Retry-After": f"{f.retry_after_s:g}"}
            )
        if f.roll(f.rate_5xx, "5xx"):
            status = f.pick((500, 502, 503))
            if status == 500:
                return JSONResponse({"Message": "An error has occurred."}, 500)
            return Response(
                "<html><body><h1>Service Unavailable</h1></body></html>",
                status,
                media_type="text/html",
            )
        return None

    # -- /api --------------------------------------------------------------------------------

    async def api(self, request: Request, name: str, rest: list[str]) -> Response:
        lowered = name.lower()
        if lowered == "query" and request.method == "GET":
            return self.query(request)
        entity = ENTITIES.get(lowered) or (ENTITIES["party"] if lowered in PARTY_VIEWS else None)
        if entity is None:
            return JSONResponse({"Message": f"No HTTP resource was found for '{name}'."}, 404)
        method = request.method
        if method == "GET" and not rest:
            return self.list(request, entity, PARTY_VIEWS.get(lowered))
        if method == "GET" and len(rest) == 1:
            row = self._get(entity, rest[0])
            if row is None:
                return JSONResponse({"Message": f"{entity.name} {rest[0]} was not found."}, 404)
            return JSONResponse(contracts.render(entity, row))
        if method in ("POST", "PUT") and entity.writable:
            try:
                body = await request.json()
            except ValueError:
                raise contracts.ContractError("BadRequest: the body is not valid JSON") from None
            if method == "POST" and not rest:
                row = self.insert(entity, body)
            elif method == "PUT" and len(rest) == 1:
                row = self.update(entity, rest[0], body)
            else:
                raise contracts.ContractError("BadRequest: unsupported path")
            if self.faults.roll(self.faults.write_saved_then_500_rate, "saved_then_500"):
                return JSONResponse({"Message": "An error has occurred."}, 500)
            status = self.config.post_status if method == "POST" else 200
            return JSONResponse(contracts.render(entity, row), status)
        if method == "DELETE" and len(rest) == 1 and entity.shape == "generic" and entity.writable:
            where, args = self._key_where(entity, rest[0])
            self.db.execute(f'DELETE FROM "{entity.table}" WHERE {where}', args)
            self.db.commit()
            return Response(status_code=200)
        return JSONResponse(
            {"Message": f"OperationNotSupportedFault: {method} is not supported on {entity.name}"},
            400,
        )

    def list(self, request: Request, entity: Entity, companies: bool | None) -> Response:
        params = list(request.query_params.multi_items())
        paging = {k.lower(): v for k, v in params if k.lower() in _PAGING}
        filters = [(k, v) for k, v in params if k.lower() not in _PAGING]
        limit, offset = self._paging(paging)
        where, args = where_clause(entity, filters)
        if companies is not None:
            where += f' AND "IsCompany" = {int(companies)}'
        order = order_clause(entity, paging.get("orderby"))
        table = f'"{entity.table}"'
        total = self.db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", args).fetchone()[0]
        rows = self.db.execute(
            f"SELECT * FROM {table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        items = [contracts.render(entity, dict(r)) for r in rows]
        return self._page(contracts.envelope(entity.element_type, items, offset, limit, total))

    def query(self, request: Request) -> Response:
        params = list(request.query_params.multi_items())
        paging = {k.lower(): v for k, v in params if k.lower() in _PAGING}
        named = {k.lower(): v for k, v in params if k.lower() not in _PAGING | {"queryname"}}
        path = next((v for k, v in params if k.lower() == "queryname"), "")
        query = QUERIES.get(path.lower())
        if query is None:
            return JSONResponse({"Message": f"Query {path} was not found."}, 404)
        entity = ENTITIES[query.entity]
        clauses, args = [], []
        for name, value in named.items():
            if name not in query.filters:
                raise FilterError(f"Query {path} has no filter named {name}")
            op, _ = split_operator(value)
            if op == "between":
                raise FilterError(f"Parameter {name} does not have a single value")
            if op != "eq" or value.lower().startswith(("eq:", "equal:")):
                raise FilterError("In IQA query, parameters must be Parameter Equal")
            column, sql_op = query.filters[name]
            clauses.append(f'"{column}" {sql_op} ?')
            args.append(_coerce_query(entity, column, value))
        if missing := [r for r in query.required if r not in named]:
            raise FilterError(f"Query {path} requires a value for {', '.join(missing)}")
        limit, offset = self._paging(paging)
        where = " AND ".join(clauses) or "1=1"
        table = f'"{entity.table}"'
        total = self.db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", args).fetchone()[0]
        # The IQA's saved sort applies; a sort in the request is ignored (API.md 6.1).
        rows = self.db.execute(
            f"SELECT * FROM {table} WHERE {where} ORDER BY {query.sort} LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        items = [{"$type": "System.Dynamic.ExpandoObject, System.Core", **{a: r[c] for a, c in query.aliases}}
                 for r in rows]  # fmt: skip
        return self._page(contracts.envelope(None, items, offset, limit, total))

    def _paging(self, paging: dict[str, str]) -> tuple[int, int]:
        try:
            limit = int(paging.get("limit") or 100)
            offset = max(0, int(paging.get("offset") or 0))
        except ValueError:
            raise FilterError("limit and offset must be integers") from None
        # Larger limits are clamped, and the clamped Limit is echoed (API.md 2.2, ASSUMPTION).
        return max(1, min(limit, self.faults.max_page_size)), offset

    def _page(self, body: dict) -> Response:
        text = json.dumps(body)
        if self.faults.roll(self.faults.malformed_rate, "malformed"):
            text = text[: len(text) // 2]  # a page cut off mid-stream
        return Response(text, 200, media_type="application/json")

    # -- keys and writes ---------------------------------------------------------------------

    def _key_where(self, entity: Entity, raw: str) -> tuple[str, list[str]]:
        parts = raw[1:].split("|") if raw.startswith("~") else [raw]
        if len(parts) != len(entity.key):
            raise contracts.ContractError("ArgumentFault: Incorrect number of identity element")
        return " AND ".join(f'"{k}" = ?' for k in entity.key), parts

    def _get(self, entity: Entity, raw: str) -> dict[str, Any] | None:
        where, args = self._key_where(entity, raw)
        row = self.db.execute(f'SELECT * FROM "{entity.table}" WHERE {where}', args).fetchone()
        return dict(row) if row else None

    def insert(self, entity: Entity, body: Any) -> dict[str, Any]:
        if entity.shape == "groupmember":
            row = self._group_member_row(body)
        elif entity.shape == "partynote":
            now = _now()
            row = {"PartyId": body.get("PartyId"), "Purpose": body.get("Purpose"), "Text": body.get("Text"),
                   "CreatedBy": self.config.username, "CreatedOn": now,
                   "UpdatedBy": self.config.username, "UpdatedOn": now}  # fmt: skip
        else:
            row = contracts.properties_from(entity, body)
        if entity.per_parent:
            parent = row.get(entity.per_parent) or _parent_id(body)
            if not parent:
                raise contracts.ContractError(
                    f"BadRequest: ValidationError: {entity.per_parent} is required"
                )
            row[entity.per_parent] = parent
            scope = f'WHERE "{entity.per_parent}" = ?', [parent]
        else:
            scope = "", []
        self._require_party(row.get("PartyId") or row.get("ID"))
        if entity.auto_key:
            # The server assigns the key: SEQN globally, Ordinal per contact (API.md 8.7).
            row[entity.auto_key] = self.db.execute(
                f'SELECT COALESCE(MAX("{entity.auto_key}"), 0) + 1 FROM "{entity.table}" {scope[0]}',
                scope[1],
            ).fetchone()[0]
        self._write("INSERT", entity, row)
        return self._get(entity, "~" + "|".join(str(row[k]) for k in entity.key)) or row

    def update(self, entity: Entity, raw: str, body: Any) -> dict[str, Any]:
        current = self._get(entity, raw)
        if current is None:
            raise contracts.ContractError(f"BadRequest: {entity.name} {raw} was not found")
        changes = (
            self._group_member_row(body)
            if entity.shape == "groupmember"
            else contracts.properties_from(entity, body)
        )
        # Partial PUTs work for panel rows; the key itself never changes.
        current.update({k: v for k, v in changes.items() if k not in entity.key})
        self._write("REPLACE", entity, current)
        return current

    def _write(self, verb: str, entity: Entity, row: dict[str, Any]) -> None:
        names = [c.name for c in entity.columns]
        columns = ", ".join('"' + n + '"' for n in names)
        marks = ", ".join("?" * len(names))
        self.db.execute(
            f'{verb} INTO "{entity.table}" ({columns}) VALUES ({marks})',
            [row.get(n) for n in names],
        )
        self.db.commit()

    def _require_party(self, party_id: str | None) -> None:
        if (
            party_id is not None
            and not self.db.execute(
                'SELECT 1 FROM "party" WHERE "PartyId" = ?', [party_id]
            ).fetchone()
        ):
            raise contracts.ContractError(
                f"BadRequest: ValidationError: contact {party_id} does not exist"
            )

    def _group_member_row(self, body: Any) -> dict[str, Any]:
        try:
            group_id = body["Group"]["GroupId"]
            party_id = body["Party"].get("PartyId") or body["Party"].get("Id")
        except (KeyError, TypeError, AttributeError):
            raise contracts.ContractError(
                "BadRequest: ValidationError: Group and Party are required"
            ) from None
        if not self.db.execute(
            'SELECT 1 FROM "groupsummary" WHERE "GroupId" = ?', [group_id]
        ).fetchone():
            raise contracts.ContractError(
                f"BadRequest: ValidationError: group {group_id} does not exist"
            )
        if (
            body.get("GroupMemberId") is None
            and self.db.execute(
                'SELECT 1 FROM "groupmember" WHERE "GroupId" = ? AND "PartyId" = ?',
                [group_id, party_id],
            ).fetchone()
        ):
            raise contracts.ContractError(
                f"BadRequest: ValidationError: {party_id} is already in the group"
            )
        details = (body.get("MembershipDetails") or {}).get("$values") or []
        detail = details[0] if details else {}
        return {
            "GroupMemberId": body.get("GroupMemberId") or str(uuid.uuid4()).upper(),
            "GroupId": group_id, "PartyId": party_id, "JoinDate": body.get("JoinDate") or _now(),
            "IsActive": int(bool(body.get("IsActive", True))) if details else 0,
            "RoleId": (detail.get("Role") or {}).get("RoleId"),
            "EffectiveDate": detail.get("EffectiveDate"), "ExpirationDate": detail.get("ExpirationDate"),
        }  # fmt: skip


def _coerce_query(entity: Entity, column_name: str, value: str) -> Any:
    column = entity.column(column_name)
    assert column is not None, column_name  # QUERIES names real columns
    return coerce(column, value)


def _parent_id(body: Any) -> str | None:
    try:
        return body["PrimaryParentIdentity"]["IdentityElements"]["$values"][0] or None
    except (KeyError, TypeError, IndexError):
        return None


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%dT%H:%M:%S")


def build_app(sandbox: Sandbox) -> Starlette:
    methods = ["GET", "POST", "PUT", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", sandbox.dispatch, methods=methods)])
