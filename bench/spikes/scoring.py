"""Score `emerging_issues` flags against the sandbox's injected incidents (its ground truth).

Shared by `bench.spikes.evaluate` and the e2e test so both judge detection the same way:

- an incident's *affected weeks* are the weeks (Monday starts, as the mart's) that overlap its
  window [start, end);
- a flag (an `is_spike` row: week x topic x segment) is *true* when its topic is one of an
  incident's topics, its week is affected, and its segment is one the incident touches
  ('all', any chapter, or for a tier-scoped incident only the affected tiers);
- an incident is *hit* when any of its topics is flagged truly in an affected week; for a
  tier-scoped incident the affected tiers flagged are reported beside it;
- the *quiet control period* is every week whose baseline is warm (the mart's own
  `baseline_weeks` >= spike_min_baseline_weeks) and which ends before the first incident
  starts: a flag there is a false positive by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from connectors.imis_sandbox.generate import TIERS

FLAGS_SQL = """
select week_start, topic_key, segment_type, segment_value, robust_z
from {table}
where is_spike
order by week_start, topic_key, segment_type, segment_value
"""
WARM_WEEKS_SQL = "select distinct week_start from {table} where baseline_weeks >= ?"


@dataclass(frozen=True)
class Flag:
    week: date
    topic: str
    segment_type: str
    segment_value: str
    z: float


@dataclass
class IncidentScore:
    name: str
    topics: tuple[str, ...]
    start: date
    end: date
    tiers: tuple[str, ...]  # customer type codes (the marts' member_tier); () = every tier
    flags: list[Flag] = field(default_factory=list)  # its true flags

    @property
    def hit(self) -> bool:
        return bool(self.flags)

    @property
    def first_flagged_week(self) -> date | None:
        return min((f.week for f in self.flags), default=None)

    @property
    def days_to_first_flag(self) -> int | None:
        """Days from the incident's start to the end of its first flagged week (when the
        weekly mart can first show it); None when missed."""
        first = self.first_flagged_week
        return None if first is None else (first + timedelta(days=7) - self.start).days

    @property
    def max_z(self) -> float | None:
        return max((f.z for f in self.flags), default=None)

    @property
    def tiers_flagged(self) -> tuple[str, ...]:
        return tuple(sorted({f.segment_value for f in self.flags if f.segment_type == "tier"}))


@dataclass
class Evaluation:
    incidents: list[IncidentScore]
    flags: list[Flag]
    false_flags: list[Flag]
    quiet_weeks: list[date]  # the control period's weeks

    @property
    def quiet_flags(self) -> list[Flag]:
        return [f for f in self.false_flags if f.week in set(self.quiet_weeks)]

    @property
    def recall(self) -> float:
        return sum(i.hit for i in self.incidents) / len(self.incidents)

    @property
    def precision(self) -> float:
        """True flags / all flags, each week x topic x segment counted once."""
        if not self.flags:
            return 1.0
        return 1 - len(self.false_flags) / len(self.flags)

    @property
    def topic_week_precision(self) -> float:
        """The same at week x topic grain (what one alert per topic and week would see)."""
        flagged = {(f.week, f.topic) for f in self.flags}
        if not flagged:
            return 1.0
        false = flagged - {(f.week, f.topic) for i in self.incidents for f in i.flags}
        return 1 - len(false) / len(flagged)


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def affected_weeks(start: date, end: date) -> set[date]:
    """Week starts of every week overlapping [start, end)."""
    weeks, week = set(), week_of(start)
    while week < end:
        weeks.add(week)
        week += timedelta(days=7)
    return weeks


def _incident(entry: dict) -> IncidentScore:
    scoped = len(entry["tiers"]) < len(TIERS)  # listing every tier is not tier-scoped
    return IncidentScore(
        name=entry["name"],
        topics=tuple(entry["topics"]),
        start=date.fromisoformat(entry["start"]),
        end=date.fromisoformat(entry["end"]),
        tiers=tuple(entry["tiers"]) if scoped else (),
    )


def _explains(incident: IncidentScore, flag: Flag) -> bool:
    if flag.topic not in incident.topics:
        return False
    if flag.week not in affected_weeks(incident.start, incident.end):
        return False
    outside_tiers = flag.segment_type == "tier" and flag.segment_value not in incident.tiers
    return not (incident.tiers and outside_tiers)


def evaluate(
    marts: Path, truth: dict, *, min_baseline_weeks: int = 4, table: str = "emerging_issues"
) -> Evaluation:
    """Score the published marts' flags against the generator's ground truth (`table`:
    `marts.emerging_issues` to read the warehouse's copy instead)."""
    con = duckdb.connect(str(marts), read_only=True, config={"threads": 1})
    try:
        flags = [Flag(*row) for row in con.execute(FLAGS_SQL.format(table=table)).fetchall()]
        warm_sql = WARM_WEEKS_SQL.format(table=table)
        warm = sorted(r[0] for r in con.execute(warm_sql, [min_baseline_weeks]).fetchall())
    finally:
        con.close()
    incidents = [_incident(entry) for entry in truth["incidents"]]
    false_flags = []
    for flag in flags:
        explained = [i for i in incidents if _explains(i, flag)]
        for incident in explained:
            incident.flags.append(flag)
        if not explained:
            false_flags.append(flag)
    first_start = min(i.start for i in incidents)
    quiet = [w for w in warm if w + timedelta(days=7) <= first_start]
    return Evaluation(incidents, flags, false_flags, quiet)
