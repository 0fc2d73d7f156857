"""Settings and partitions, resolved each time definitions load (never at import).

Not cached: a test or a `dagster dev` reload that changes the environment sees the change."""

from __future__ import annotations

import dagster as dg

from connectors.sources import SourcesConfig, load_sources
from orchestration.lib.config import Settings

OWNERS = ["team:data-engineering"]


def settings() -> Settings:
    return Settings.from_env()


def sources() -> SourcesConfig:
    return load_sources(settings().sources_file)


def daily_partitions() -> dg.DailyPartitionsDefinition:
    """Days of the item's creation date in the iMIS time zone; today's partial day included.

    `end_offset=1` keeps today's partition open so the hourly live tail has a partition to
    refresh; a backfill of the past simply selects a range.
    """
    s = settings()
    return dg.DailyPartitionsDefinition(start_date=s.start_date, timezone=s.timezone, end_offset=1)
