"""Emerging-issue detection on the shared pipeline run: every incident the sandbox injected is
flagged by `emerging_issues` in a week it affects, and nothing is flagged outside them.

Scored with `bench.spikes.scoring`, the same rules as `make eval-spikes`. The fixture's month
leaves only its last two weeks with a warm baseline (spike_min_baseline_weeks = 4), both inside
incidents, so its quiet control period (warm weeks before the first incident) is empty: the
"nothing in quiet weeks" guarantee is asserted here as "no flag outside an incident", and over
a year of quiet weeks by the benchmark.
"""

from __future__ import annotations

from bench.spikes.scoring import affected_weeks, evaluate, week_of


def test_each_injected_incident_is_flagged_in_an_affected_week(pipeline_run):
    result = evaluate(pipeline_run["marts"], pipeline_run["truth"])
    assert [i.name for i in result.incidents] == [
        "dues_increase", "conference_venue", "login_outage"
    ]  # fmt: skip
    for incident in result.incidents:
        assert incident.hit, f"{incident.name} ({', '.join(incident.topics)}) was not flagged"
        weeks = affected_weeks(incident.start, incident.end)
        assert {f.week for f in incident.flags} <= weeks
        assert {f.topic for f in incident.flags} <= set(incident.topics)


def test_nothing_is_flagged_outside_the_incidents_or_before_them(pipeline_run):
    result = evaluate(pipeline_run["marts"], pipeline_run["truth"])
    assert result.false_flags == []
    assert result.quiet_flags == []
    before = week_of(min(i.start for i in result.incidents))
    assert [f for f in result.flags if f.week < before] == []
