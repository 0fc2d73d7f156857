"""Automation: keep the live tail fresh without ever re-enriching history on its own.

- Ingest runs on a cron (hourly at most, as ASI's usage guidelines ask) for the latest
  partitions, re-reading a lookback of recent days to catch late and edited items; each
  partition still replaces only its own window.
- Enrichment follows ingest for those same recent partitions; dbt and publish follow eagerly.
- A new prompt, taxonomy or model changes the enrichment `code_version` and marks it stale in
  the UI, but no condition here reacts to code versions: re-enriching history is an explicit
  backfill (README, "Re-enrich after a taxonomy change").
"""

from datetime import timedelta

import dagster as dg

from .settings import settings

AC = dg.AutomationCondition


def ingest_condition() -> dg.AutomationCondition:
    s = settings()
    return (
        AC.in_latest_time_window(timedelta(days=s.lookback_days))
        & AC.cron_tick_passed(s.ingest_cron, s.timezone).since_last_handled()
        & AC.all_deps_updated_since_cron(s.ingest_cron, s.timezone)
        & ~AC.in_progress()
    ).with_label(f"live tail: {s.ingest_cron}, last {s.lookback_days} days")


def members_condition() -> dg.AutomationCondition:
    s = settings()
    return AC.on_cron(s.ingest_cron, s.timezone)


def recent_partitions_eager() -> dg.AutomationCondition:
    """`eager()`, widened from the latest partition to the lookback the ingest re-reads."""
    return (
        AC.in_latest_time_window(timedelta(days=settings().lookback_days))
        & (AC.newly_missing() | AC.any_deps_updated()).since_last_handled()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
    ).with_label("eager on recent partitions")


@dg.definitions
def automation_defs() -> dg.Definitions:
    return dg.Definitions(
        sensors=[
            dg.AutomationConditionSensorDefinition(
                "live_tail_automation",
                target=dg.AssetSelection.all(),
                default_status=dg.DefaultSensorStatus.RUNNING,
                minimum_interval_seconds=60,
                description="Evaluates every asset's automation condition once a minute.",
            )
        ]
    )
