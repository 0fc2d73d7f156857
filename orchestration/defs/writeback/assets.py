"""Write-back to iMIS, in two steps so iMIS calls never hold the warehouse (DESIGN rule 3).

1. `writeback/items` (pool `duckdb`): one short read-only query of the warehouse (the final
   labels of `marts.fct_feedback` joined with the detail in `enriched.item_labels` /
   `enriched.item_topics`), stored as a snapshot in the write-back ledger (SQLite).
   Why the warehouse and not `marts.duckdb`: the summary, urgency reasons, every topic and the
   staff-praise flag live only in `enriched.*`, which is not published. Reading it outside the
   pool could meet "Could not set lock" while a writer holds the file; inside the pool it
   cannot, and the step lasts one query.
2. `writeback/sentiment_log`, `writeback/follow_up_cases`, `writeback/alert_group_members`,
   `writeback/thank_you_activities` (pool `imis`, limit 1: one API user, one request at a
   time): plan from the snapshot, write through the idempotent primitives, record the ledger.

Loaded only when write-back is enabled (config/writeback.yaml `enabled: true` or
PULSE_WRITEBACK_ENABLED=1), so the default demo neither shows nor runs them.
"""

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg

from connectors.imis import ImisClient
from orchestration.lib.app_state import AppState
from orchestration.lib.config import Paths
from orchestration.lib.writeback import (
    Kind,
    RunReport,
    WritebackConfig,
    WritebackLedger,
    WritebackPreflightError,
    latest_case_decisions,
    load_writeback_config,
    read_items,
    run_writeback,
)
from orchestration.lib.writeback.config import config_path

from ..resources import WarehouseResource
from ..settings import OWNERS, settings

PUBLISHED_MARTS_KEY = dg.AssetKey(["published", "marts"])
ITEMS_KEY = dg.AssetKey(["writeback", "items"])
PREVIEW_ROWS = 20


class WritebackResource(dg.ConfigurableResource):
    """The iMIS write-back target and its configuration (config/writeback.yaml)."""

    base_url: str
    username: str
    password: str
    pulse_home: str
    config_file: str
    timezone: str = "UTC"
    pipeline_start_date: str = "2025-01-01"
    app_url: str | None = None
    dry_run: bool | None = None  # None: the configuration file decides
    start_date: str | None = None  # None: the configuration file, then pipeline_start_date

    def config(self) -> WritebackConfig:
        env = {"PULSE_WRITEBACK_CONFIG": self.config_file}
        if self.start_date:
            env["PULSE_WRITEBACK_START_DATE"] = self.start_date
        config = load_writeback_config(env)
        if self.dry_run is not None:
            config = config.model_copy(update={"dry_run": self.dry_run})
        return config

    def start(self, config: WritebackConfig) -> date:
        return config.effective_start(self.pipeline_start_date)

    def ledger(self) -> WritebackLedger:
        return WritebackLedger(Paths(Path(self.pulse_home)).writeback_ledger)

    def app_state(self) -> AppState:
        return AppState(Paths(Path(self.pulse_home)).app_state)

    @contextmanager
    def client(self, config: WritebackConfig) -> Iterator[ImisClient]:
        with ImisClient(
            self.base_url, self.username, self.password, min_interval_s=config.min_interval_s
        ) as client:
            yield client


def _result(
    context: dg.AssetExecutionContext, report: RunReport, started: float, key: dg.AssetKey
) -> dg.MaterializeResult:
    for line in report.would_write:
        context.log.info("dry run, would write: " + json.dumps(line, ensure_ascii=False))
    if report.failures:
        context.log.warning(
            f"{report.failed} {report.kind} write(s) given up on this run (retried next run "
            "after a look-up): " + "; ".join(f["record_key"] for f in report.failures[:20])
        )
    metadata: dict = {
        **report.metadata(),
        "target": report.target or "",
        "duration_s": round(time.monotonic() - started, 2),
    }
    if report.failures:
        metadata["failures"] = dg.MetadataValue.json(report.failures[:PREVIEW_ROWS])
    if report.would_write:
        metadata["would_write_preview"] = dg.MetadataValue.json(report.would_write[:PREVIEW_ROWS])
    context.log.info(
        f"{report.kind}: {report.created} created, {report.updated} updated, "
        f"{report.reconciled} reconciled, {report.unchanged} unchanged, {report.skipped} "
        f"skipped, {report.failed} failed{' (dry run)' if report.dry_run else ''}"
    )
    return dg.MaterializeResult(
        asset_key=key,
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name="no_failed_writes",
                asset_key=key,
                passed=report.failed == 0,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"rows_failed": report.failed},
                description=(
                    f"{report.failed} write(s) failed; see the asset's `failures` metadata"
                    if report.failed
                    else None
                ),
            )
        ],
    )


def _run(
    context: dg.AssetExecutionContext,
    writeback: WritebackResource,
    kind: Kind,
    key: dg.AssetKey,
) -> dg.MaterializeResult:
    started = time.monotonic()
    config = writeback.config()
    ledger = writeback.ledger()
    items = ledger.snapshot()
    decisions = (
        latest_case_decisions(writeback.app_state().decisions())
        if kind == "follow_up_case"
        else None
    )
    common = dict(
        start=writeback.start(config),
        timezone=writeback.timezone,
        decisions=decisions,
        app_url=writeback.app_url,
    )
    try:
        if config.dry_run:
            report = run_writeback(kind, items, config, ledger, None, dry_run=True, **common)
        else:
            with writeback.client(config) as client:
                report = run_writeback(kind, items, config, ledger, client, **common)
    except WritebackPreflightError as exc:
        raise dg.Failure(description=str(exc)) from None
    result = _result(context, report, started, key)
    if report.stopped_early:
        raise dg.Failure(
            description=f"{kind}: stopped after {report.failed} failed writes "
            f"(max_failures={config.max_failures}); iMIS may be down or misconfigured. "
            "Written rows are recorded; the next run continues after a look-up.",
            metadata=result.metadata,
        )
    return result


def _imis_asset(
    key: dg.AssetKey, kind: Kind, description: str, automation: dg.AutomationCondition | None
) -> dg.AssetsDefinition:
    @dg.asset(
        key=key,
        description=description,
        group_name="writeback",
        kinds={"python", "sqlite"},
        deps=[ITEMS_KEY],
        pool="imis",
        owners=OWNERS,
        automation_condition=automation,
        check_specs=[
            dg.AssetCheckSpec(
                "no_failed_writes",
                asset=key,
                description="Every planned write reached iMIS (failures are retried next run).",
            )
        ],
    )
    def _asset(
        context: dg.AssetExecutionContext, writeback: WritebackResource
    ) -> dg.MaterializeResult:
        return _run(context, writeback, kind, key)

    return _asset


def build_writeback_assets(config: WritebackConfig) -> list[dg.AssetsDefinition]:
    """The items snapshot and one iMIS asset per enabled kind of write."""
    eager = dg.AutomationCondition.eager()

    @dg.asset(
        key=ITEMS_KEY,
        description="The labelled items write-back works from (final labels, summary, topics, "
        "redacted text), read from the warehouse in one short query and kept in the write-back "
        "ledger (SQLite), so the iMIS steps never hold the warehouse.",
        group_name="writeback",
        kinds={"duckdb", "sqlite"},
        deps=[PUBLISHED_MARTS_KEY],
        pool="duckdb",
        owners=OWNERS,
        automation_condition=eager,
    )
    def writeback_items(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        writeback: WritebackResource,
    ) -> dg.MaterializeResult:
        started = time.monotonic()
        cfg = writeback.config()
        start = writeback.start(cfg)
        with warehouse.get().connect(read_only=True) as con:
            items = read_items(con, start)
        read_s = time.monotonic() - started
        stored = writeback.ledger().replace_snapshot(items, start)
        with_member = sum(1 for i in items if i.member_id)
        context.log.info(
            f"{stored} items since {start} ({with_member} linked to a member) read in "
            f"{read_s:.2f}s and stored in {writeback.ledger().path}"
        )
        return dg.MaterializeResult(
            metadata={
                "items": stored,
                "items_with_member": with_member,
                "labelled": sum(1 for i in items if i.enrichment_status == "ok"),
                "start_date": start.isoformat(),
                "warehouse_read_s": round(read_s, 2),
                "dry_run": cfg.dry_run,
            }
        )

    assets = [
        writeback_items,
        _imis_asset(
            dg.AssetKey(["writeback", "sentiment_log"]),
            "sentiment_log",
            f"One {config.sentiment_log.panel_source} panel row per labelled item with a "
            "member, keyed on the source record: a re-run updates, never duplicates.",
            eager,
        ),
    ]
    if config.follow_up_cases.enabled:
        assets.append(
            _imis_asset(
                dg.AssetKey(["writeback", "follow_up_cases"]),
                "follow_up_case",
                f"A {config.follow_up_cases.activity_type} Activity with a tickler date for each "
                "negative, high-urgency item a reviewer approved, created exactly once.",
                eager,
            )
        )
    if config.alert_group.enabled:
        assets.append(
            _imis_asset(
                dg.AssetKey(["writeback", "alert_group_members"]),
                "alert_group",
                f"Members with negative feedback on {', '.join(config.alert_group.topics)} "
                f"added to the iMIS group {config.alert_group.group_name!r} (once each).",
                eager,
            )
        )
    if config.thank_you.enabled:
        assets.append(
            _imis_asset(
                dg.AssetKey(["writeback", "thank_you_activities"]),
                "thank_you",
                f"A {config.thank_you.activity_type} Activity for positive feedback praising "
                "staff, created exactly once.",
                eager,
            )
        )
    return assets


def writeback_resource(
    config: WritebackConfig, config_file: Path, env: dict[str, str]
) -> WritebackResource:
    s = settings()
    app_port = env.get("PULSE_APP_PORT") or "8501"
    return WritebackResource(
        base_url=dg.EnvVar("IMIS_BASE_URL"),
        username=dg.EnvVar("IMIS_USERNAME"),
        password=dg.EnvVar("IMIS_PASSWORD"),
        pulse_home=str(s.home),
        config_file=str(config_file),
        timezone=s.timezone,
        pipeline_start_date=s.start_date,
        app_url=env.get("PULSE_APP_URL") or f"http://127.0.0.1:{app_port}",
        # the environment's overrides, resolved once so the UI shows what a run will do
        dry_run=config.dry_run if env.get("PULSE_WRITEBACK_DRY_RUN") else None,
        start_date=env.get("PULSE_WRITEBACK_START_DATE") or None,
    )


@dg.definitions
def writeback_defs() -> dg.Definitions:
    env = dict(os.environ)
    config = load_writeback_config(env)
    if not config.enabled:
        return dg.Definitions()
    resource = writeback_resource(config, config_path(env), env)
    return dg.Definitions(assets=build_writeback_assets(config), resources={"writeback": resource})
