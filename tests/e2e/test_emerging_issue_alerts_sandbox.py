"""The emerging_issue_alerts sensor on the marts the shared pipeline run published, sending to a
real SMTP server and a webhook receiver on 127.0.0.1.

The alert rule is one alert per issue: a topic's flagged rows of a week (all members, tiers,
chapters) are one alert, never one per segment, and the weeks a topic goes on spiking are the
same issue (keyed by the first). In this run every incident spikes in one of its topics, so
each raises exactly one alert (an incident spiking in two of its topics would raise one per
topic). A second evaluation sends nothing, and the marts as they stood before the incidents
raise nothing.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from bench.spikes.scoring import affected_weeks, week_of
from orchestration.defs.alerts.sensors import AlertsResource, build_alert_sensors
from orchestration.lib.alerts import AlertLog
from tests.orchestration.alerts import conftest as receivers

# The SMTP server and webhook receiver on 127.0.0.1 that the alert unit tests use.
smtp_server, webhook = receivers.smtp_server, receivers.webhook


def publish_copy(marts: Path, home: Path, *, through: date | None = None) -> Path:
    """The pipeline's marts in a home of this test's own (its alert log stays here), cut after
    the week `through` when given: the marts as they were published then (a week's baseline
    only looks back, so earlier rows do not change)."""
    home.mkdir()
    shutil.copyfile(marts, home / "marts.duckdb")
    if through is not None:
        con = duckdb.connect(str(home / "marts.duckdb"))
        con.execute("delete from emerging_issues where week_start > ?", [through])
        con.close()
    return home


def sensor_evaluation(home: Path, receiver, smtp) -> str:
    resource = AlertsResource(
        pulse_home=str(home),
        webhook_url=receiver.url,
        smtp_host="127.0.0.1",
        smtp_port=smtp[0],
        email_to=["member-services@example.org"],
        min_interval_s=0,
        urgent_items=False,  # spikes only: urgent items are tested in tests/orchestration
    )
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"alerts": resource})
        return build_alert_sensors()[0](context).skip_message


def spike_keys(home: Path) -> list[tuple[str, date]]:
    """(topic, week) of each spike alert sent, from keys `spike:<topic>:<week>`."""
    keys = [r["alert_key"] for r in AlertLog(home / "alert_log.sqlite").rows()]
    assert all(k.startswith("spike:") for k in keys)
    return [(k.split(":")[1], date.fromisoformat(k.split(":")[2])) for k in keys]


@pytest.fixture
def incidents(pipeline_run) -> list[dict]:
    return pipeline_run["truth"]["incidents"]


def owner(incidents: list[dict], topic: str, week: date) -> str | None:
    for incident in incidents:
        start, end = date.fromisoformat(incident["start"]), date.fromisoformat(incident["end"])
        weeks = affected_weeks(start, end)
        if topic in incident["topics"] and week in weeks:
            return incident["name"]
    return None


def test_each_incident_raises_one_alert_per_spiking_topic_and_a_repeat_sends_none(
    pipeline_run, incidents, tmp_path, webhook, smtp_server
):
    home = publish_copy(pipeline_run["marts"], tmp_path / "home")
    first = sensor_evaluation(home, webhook, smtp_server)
    sent = spike_keys(home)
    per_incident = Counter(owner(incidents, topic, week) for topic, week in sent)
    assert per_incident == {"dues_increase": 1, "conference_venue": 1, "login_outage": 1}
    assert len(set(sent)) == len(sent)  # one per topic and run of weeks, whatever the segments
    assert f"{len(sent)} alert(s) sent" in first
    _, inbox = smtp_server
    assert len(webhook.payloads) == len(inbox.messages) == len(sent)
    texts = [p["text"] for p in webhook.payloads]
    assert any("Event logistics" in t and "Also spiking among" in t for t in texts)

    again = sensor_evaluation(home, webhook, smtp_server)
    assert "0 alert(s) sent" in again and f"{len(sent)} already sent" in again
    assert len(webhook.payloads) == len(inbox.messages) == len(sent)


def test_the_marts_before_the_incidents_raise_no_alert(
    pipeline_run, incidents, tmp_path, webhook, smtp_server
):
    # The last week that ends before the first incident starts.
    last_quiet_week = week_of(min(date.fromisoformat(i["start"]) for i in incidents)) - timedelta(
        weeks=1
    )
    home = publish_copy(pipeline_run["marts"], tmp_path / "home", through=last_quiet_week)
    assert "0 alert(s) sent" in sensor_evaluation(home, webhook, smtp_server)
    assert webhook.payloads == [] and smtp_server[1].messages == []
