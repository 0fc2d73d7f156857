"""Executing a plan against iMIS, recorded in the ledger.

For each planned write:

1. the ledger says it is already written with the same values: nothing is sent;
2. otherwise the ledger records `pending`, then the write-back primitive (connectors/imis/
   writeback.py) looks the row up by its source key under the contact (GET by contact id),
   writes only what is missing or changed, and looks up again after any unknown outcome.
   A member's Sentiment_Log rows are read once per run and serve all that member's items
   (`member_rows.MemberRows`); a failed write makes the next look-up read iMIS again;
3. the ledger records `written` with the key iMIS returned, or `failed` with the reason.

A run killed anywhere leaves at worst a `pending` row, which the next run reconciles the
same way, so every record has exactly one row in iMIS. The client's `min_interval_s`
throttles every request. A dry run sends nothing, records nothing, and returns what it would
send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.imis import ImisAuthError, ImisClient, ImisRequestError
from connectors.imis.writeback import (
    MEMBER_ROLE_ID,
    ImisWriteRejected,
    add_group_member,
    create_activity,
    entity_properties,
    find_group_id,
    upsert_panel_row,
)

from .config import WritebackConfig
from .items import WritebackItem
from .ledger import WritebackLedger
from .member_rows import MemberRows
from .plan import (
    Kind,
    Plan,
    PlannedWrite,
    plan_alert_group,
    plan_follow_up_cases,
    plan_sentiment_rows,
    plan_thank_yous,
)

log = logging.getLogger(__name__)


class WritebackPreflightError(RuntimeError):
    """iMIS is not set up for write-back as configured (a missing panel source, property or
    group): nothing was written."""


@dataclass
class RunReport:
    kind: str
    dry_run: bool
    target: str | None = None
    created: int = 0  # new rows in iMIS
    updated: int = 0  # existing rows whose values changed (Sentiment_Log only)
    reconciled: int = 0  # found in iMIS although the ledger had not recorded them as written
    unchanged: int = 0  # already written with the same values: no request sent
    skipped: int = 0  # not eligible, with the reason in the ledger
    failed: int = 0  # given up on this run; retried (after a look-up) by the next one
    failures: list[dict[str, str]] = field(default_factory=list)
    would_write: list[dict[str, Any]] = field(default_factory=list)  # dry run: exact writes
    stopped_early: bool = False

    @property
    def written(self) -> int:
        return self.created + self.updated + self.reconciled

    def metadata(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows_written": self.created,
            "rows_updated": self.updated,
            "rows_reconciled": self.reconciled,
            "rows_unchanged": self.unchanged,
            "rows_skipped": self.skipped,
            "rows_failed": self.failed,
            "would_write": len(self.would_write),
        }


# -- preflight -------------------------------------------------------------------------------


def check_panel_source(client: ImisClient, config: WritebackConfig) -> set[str] | None:
    """The configured panel source exists, and holds every mapped property when a row shows
    them. Raises WritebackPreflightError naming what is missing."""
    cfg = config.sentiment_log
    try:
        properties = entity_properties(client, cfg.panel_source)
    except ImisWriteRejected as exc:
        raise WritebackPreflightError(
            f"panel source {cfg.panel_source!r} not found in iMIS ({exc.path}: HTTP "
            f"{exc.status}). Create it (Contact parent, multi-instance) in RiSE > Panel Designer, "
            "or set sentiment_log.panel_source in the write-back configuration."
        ) from None
    if properties is not None:
        have = {p.lower() for p in properties}
        wanted = [cfg.parent_field, *cfg.mapped().values()]
        missing = [p for p in wanted if p.lower() not in have]
        if missing:
            raise WritebackPreflightError(
                f"panel source {cfg.panel_source!r} has no propert"
                f"{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)}: add "
                f"{'it' if len(missing) == 1 else 'them'} in Panel Designer or map the field to "
                "null in sentiment_log.fields"
            )
    return properties


def resolve_group(client: ImisClient, group_name: str) -> str:
    group_id = find_group_id(client, group_name)
    if not group_id:
        raise WritebackPreflightError(
            f"iMIS group {group_name!r} not found (GET /api/GroupSummary?Name=...): create it "
            "or set alert_group.group_name in the write-back configuration"
        )
    return group_id


# -- execution -------------------------------------------------------------------------------


def _write(
    client: ImisClient | MemberRows,
    write: PlannedWrite,
    config: WritebackConfig,
    group_id: str | None,
) -> tuple[str, bool]:
    attempts = config.attempts
    if write.kind == "sentiment_log":
        cfg = config.sentiment_log
        identity, created = upsert_panel_row(
            client,
            write.target,
            write.member_id,
            write.key_fields,
            write.properties,
            parent_field=cfg.parent_field,
            ordinal_field=cfg.ordinal_field,
            attempts=attempts,
        )
        return "|".join(str(part) for part in identity), created
    if write.kind in ("follow_up_case", "thank_you"):
        assert write.activity_type
        return create_activity(
            client,
            write.member_id,
            write.activity_type,
            write.key_fields,
            write.properties,
            attempts=attempts,
        )
    if write.kind == "alert_group":
        assert group_id
        return add_group_member(
            client,
            group_id,
            write.member_id,
            role_id=config.alert_group.role_id or MEMBER_ROLE_ID,
            attempts=attempts,
        )
    raise ValueError(f"unknown write kind {write.kind}")


def execute_plan(
    plan: Plan,
    config: WritebackConfig,
    ledger: WritebackLedger,
    client: ImisClient | None,
    *,
    dry_run: bool = False,
    group_id: str | None = None,
    on_progress: Callable[[RunReport], None] | None = None,
) -> RunReport:
    """Send `plan` to iMIS (or, with `dry_run`, only say what would be sent)."""
    report = RunReport(plan.kind, dry_run, plan.writes[0].target if plan.writes else None)
    entries = ledger.entries(plan.kind)
    member_rows: dict[str, MemberRows] = {}
    report.skipped = len(plan.skips)
    if not dry_run and plan.skips:
        ledger.mark_skipped(
            plan.kind, ((s.record_key, s.item_id, s.member_id, s.reason) for s in plan.skips)
        )
    for n, write in enumerate(plan.writes, start=1):
        entry = entries.get(write.record_key)
        content_hash = write.content_hash
        # Activities and group members are created once and then belong to staff.
        if (
            entry is not None
            and entry.status == "written"
            and (plan.kind != "sentiment_log" or entry.content_hash == content_hash)
        ):
            report.unchanged += 1
            continue
        if dry_run:
            action = "update" if entry is not None and entry.status == "written" else "write"
            report.would_write.append({"action": action, **write.describe()})
            continue
        if client is None:
            raise ValueError("a real run needs an iMIS client")
        ledger.mark_pending(
            plan.kind,
            write.record_key,
            item_id=write.item_id,
            member_id=write.member_id,
            target=write.target,
        )
        writer = client
        if plan.kind == "sentiment_log":
            writer = member_rows.setdefault(write.member_id, MemberRows(client, write.target))
        try:
            imis_key, created = _write(writer, write, config, group_id)
        except ImisAuthError:
            raise  # every later write would fail the same way
        except ImisRequestError as exc:
            reason = str(exc)
            ledger.mark_failed(plan.kind, write.record_key, reason)
            report.failed += 1
            report.failures.append({"record_key": write.record_key, "reason": reason[:500]})
            log.warning("write-back %s %s failed: %s", plan.kind, write.record_key, reason)
            if report.failed >= config.max_failures:
                report.stopped_early = True
                break
            continue
        was_written = entry is not None and entry.status == "written"
        if created:
            action = "created"
            report.created += 1
        elif was_written:
            action = "updated"
            report.updated += 1
        else:
            action = "found"
            report.reconciled += 1
        ledger.mark_written(
            plan.kind, write.record_key, imis_key=imis_key, content_hash=content_hash, action=action
        )
        if on_progress and n % 100 == 0:
            on_progress(report)
    return report


def make_plan(
    kind: Kind,
    items: list[WritebackItem],
    config: WritebackConfig,
    *,
    start: date,
    timezone: str,
    decisions: Mapping[str, Mapping[str, Any]] | None = None,
    now: datetime | None = None,
    app_url: str | None = None,
) -> Plan:
    """The plan of one kind; `now` defaults to the current naive local time of `timezone`."""
    now = now or datetime.now(ZoneInfo(timezone)).replace(tzinfo=None)
    if kind == "sentiment_log":
        return plan_sentiment_rows(items, config, start=start, timezone=timezone)
    if kind == "follow_up_case":
        return plan_follow_up_cases(
            items, config, decisions or {}, start=start, now=now, app_url=app_url
        )
    if kind == "alert_group":
        return plan_alert_group(items, config, start=start)
    if kind == "thank_you":
        return plan_thank_yous(items, config, start=start, now=now, app_url=app_url)
    raise ValueError(f"unknown write-back kind {kind!r}")


def run_writeback(
    kind: Kind,
    items: list[WritebackItem],
    config: WritebackConfig,
    ledger: WritebackLedger,
    client: ImisClient | None,
    *,
    start: date,
    timezone: str,
    decisions: Mapping[str, Mapping[str, Any]] | None = None,
    now: datetime | None = None,
    app_url: str | None = None,
    dry_run: bool | None = None,
) -> RunReport:
    """Plan one kind of write, check iMIS is set up for it, and execute (or dry-run) it."""
    dry_run = config.dry_run if dry_run is None else dry_run
    plan = make_plan(
        kind, items, config, start=start, timezone=timezone, decisions=decisions, now=now,
        app_url=app_url,
    )  # fmt: skip
    group_id = None
    if client is not None and plan.writes:
        if kind == "sentiment_log":
            check_panel_source(client, config)
        elif kind == "alert_group":
            group_id = resolve_group(client, config.alert_group.group_name)
    return execute_plan(plan, config, ledger, client, dry_run=dry_run, group_id=group_id)
