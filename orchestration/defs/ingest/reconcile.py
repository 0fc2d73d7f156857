"""The reconciliation sensor: re-ingest the days on which the warehouse and iMIS disagree.

Each tick compares one iMIS source's per-day counts (one `limit=1` request per day) for the
`PULSE_RECONCILE_DAYS` days before the live tail's lookback, and requests a run of that
source's ingest and the enrichment for every day that differs; dbt and publish follow by
their own automation. Sources take turns, one per tick, so a tick stays a few dozen
requests however many sources are configured: with hourly ticks and N sources, each source
is checked every N hours.

A run key of (source, day, both counts) asks for a day once per disagreement: if re-ingesting
cannot make the counts meet (iMIS changing under us), the day is not requested again until
either count moves.
"""

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from connectors.imis import per_day_counts
from connectors.sources import ImisEntitySource, ImisQuerySource
from orchestration.lib.reconcile import differing_days, warehouse_day_counts
from orchestration.lib.warehouse import WarehouseBusy

from ..enrichment.assets import ITEM_LABELS_KEY, ITEM_TOPICS_KEY, LABEL_CACHE_KEY
from ..resources import ImisResource, WarehouseResource
from ..settings import settings, sources
from .assets import ingest_key

TICK_INTERVAL_S = 3600  # as often as the live tail; iMIS asks for no more than hourly polling
WAREHOUSE_WAIT_S = 10.0  # a tick must end well inside the sensor's 60 s evaluation limit


def reconcile_window(today: date) -> tuple[date, date]:
    """[start, end): the days before the lookback (the live tail re-reads those itself)."""
    s = settings()
    end = today - timedelta(days=s.lookback_days)
    start = max(end - timedelta(days=s.reconcile_days), date.fromisoformat(s.start_date))
    return start, end


def build_reconcile_sensor(
    imis_sources: list[ImisEntitySource | ImisQuerySource],
) -> dg.SensorDefinition:
    @dg.sensor(
        name="ingest_reconciliation",
        minimum_interval_seconds=TICK_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        asset_selection=[ingest_key(s.name) for s in imis_sources]
        + [LABEL_CACHE_KEY, ITEM_LABELS_KEY, ITEM_TOPICS_KEY],
        description="Compares one iMIS source's per-day counts with the warehouse per tick "
        "(sources take turns) and re-ingests and re-labels the days that differ.",
    )
    def ingest_reconciliation(
        context: dg.SensorEvaluationContext, imis: ImisResource, warehouse: WarehouseResource
    ):
        turn = int(context.cursor or 0) % len(imis_sources)
        source = imis_sources[turn]
        start, end = reconcile_window(datetime.now(ZoneInfo(settings().timezone)).date())
        if start >= end:
            return dg.SkipReason("no days before the live tail's lookback to compare yet")
        db = dataclasses.replace(warehouse.get(), lock_wait_s=WAREHOUSE_WAIT_S)
        if not db.path.exists():
            return dg.SkipReason("nothing ingested yet: the warehouse does not exist")
        with imis.client() as client:
            in_imis = per_day_counts(client, source, start, end)
        try:
            with db.connect(read_only=True) as con:
                in_warehouse = warehouse_day_counts(con, source.name, start, end)
        except WarehouseBusy:
            # The cursor stays: this source gets the next tick instead of losing its turn.
            return dg.SkipReason("the warehouse is busy with a run; this source is next again")
        context.update_cursor(str(turn + 1))
        differences = differing_days(in_imis, in_warehouse)
        window = f"{start:%Y-%m-%d} .. {end - timedelta(days=1):%Y-%m-%d}"
        if not differences:
            return dg.SkipReason(f"{source.name}: all {len(in_imis)} days {window} match iMIS")
        context.log.info(
            f"{source.name}: {len(differences)} of {len(in_imis)} days {window} differ from "
            "iMIS; re-ingesting them: " + "; ".join(d.describe() for d in differences)
        )
        return [
            dg.RunRequest(
                run_key=f"{source.name}:{d.day}:{d.in_imis}:{d.in_warehouse}",
                partition_key=d.day.isoformat(),
                asset_selection=[
                    ingest_key(source.name),
                    LABEL_CACHE_KEY,
                    ITEM_LABELS_KEY,
                    ITEM_TOPICS_KEY,
                ],
                tags={"pulse/reason": "reconciliation", "pulse/source": source.name},
            )
            for d in differences
        ]

    return ingest_reconciliation


@dg.definitions
def reconcile_defs() -> dg.Definitions:
    imis_sources = [
        s for s in sources().sources if isinstance(s, ImisEntitySource | ImisQuerySource)
    ]
    if not imis_sources:
        return dg.Definitions()
    return dg.Definitions(sensors=[build_reconcile_sensor(imis_sources)])
