"""Write-back to iMIS (no Dagster): configuration, the items snapshot, the ledger, planning and
execution. `orchestration/defs/writeback/` wires it into Dagster."""

from .config import WritebackConfig, WritebackConfigError, load_writeback_config
from .items import WritebackItem, read_items
from .ledger import LedgerEntry, WritebackLedger
from .plan import (
    KINDS,
    Kind,
    Plan,
    PlannedWrite,
    Skip,
    latest_case_decisions,
    plan_alert_group,
    plan_follow_up_cases,
    plan_sentiment_rows,
    plan_thank_yous,
)
from .run import (
    RunReport,
    WritebackPreflightError,
    check_panel_source,
    execute_plan,
    make_plan,
    resolve_group,
    run_writeback,
)

__all__ = [
    "KINDS",
    "Kind",
    "LedgerEntry",
    "Plan",
    "PlannedWrite",
    "RunReport",
    "Skip",
    "WritebackConfig",
    "WritebackConfigError",
    "WritebackItem",
    "WritebackLedger",
    "WritebackPreflightError",
    "check_panel_source",
    "execute_plan",
    "latest_case_decisions",
    "load_writeback_config",
    "make_plan",
    "plan_alert_group",
    "plan_follow_up_cases",
    "plan_sentiment_rows",
    "plan_thank_yous",
    "read_items",
    "resolve_group",
    "run_writeback",
]
