"""Alert sensors evaluated on hand-built published marts, sending to a real SMTP server and a
webhook receiver on 127.0.0.1: one alert per spiking topic and run of consecutive flagged weeks,
none in a quiet period, no duplicates."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.defs.alerts.sensors import AlertsResource, alert_defs, build_alert_sensors
from orchestration.lib.alerts import AlertConfig, AlertConfigError, AlertLog, slack_payload

WEEK = date(2026, 3, 23)  # a Monday: the latest week in the marts
EMERGING_DDL = """
create table emerging_issues (
    week_start date, topic_key varchar, topic_label varchar, segment_type varchar,
    segment_value varchar, item_count integer, negative_count integer,
    net_sentiment_score double, nss_change double, robust_z double, is_spike boolean,
    evidence_item_ids varchar[]
)
"""
FCT_DDL = """
create table fct_feedback (
    item_id varchar, source_name varchar, source_key varchar, channel varchar,
    created_at timestamp, member_id varchar, redacted_text varchar, sentiment_label varchar,
    sentiment_score double, sentiment_confidence double, urgency_level varchar,
    primary_topic varchar, enrichment_status varchar
)
"""
SPIKES = [
    # topic, label, segment type, value, items, negatives, NSS, NSS change, z
    ("renewal_billing", "Renewal & billing", "all", "all", 40, 31, -62.5, -48.0, 6.2),
    ("renewal_billing", "Renewal & billing", "chapter", "North", 18, 16, -77.8, -70.0, 5.1),
    ("website_login", "Website login", "tier", "Student", 12, 10, -66.7, -55.0, 4.4),
    ("event_logistics", "Event logistics", "all", "all", 25, 15, -40.0, -35.0, 4.0),
]


def build_marts(
    path: Path,
    spikes=SPIKES,
    *,
    week: date = WEEK,
    urgent: int = 0,
    old_urgent: int = 0,
) -> Path:
    """A published marts file: a quiet baseline week, the latest week's rows (spikes flagged),
    and fct_feedback with `urgent` recent high-urgency items and `old_urgent` old ones."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute(EMERGING_DDL)
    con.execute(FCT_DDL)
    quiet = [("communications", "Communications", "all", "all", 9, 1, 30.0, 2.0, 0.3, False)]
    for prev in (week - timedelta(weeks=1),):
        for row in quiet:
            con.execute(
                "insert into emerging_issues values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [prev, *row, []],
            )
    for row in quiet:
        con.execute(
            "insert into emerging_issues values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [week, *row, []],
        )
    for topic, label, stype, svalue, items, neg, nss, change, z in spikes:
        con.execute(
            "insert into emerging_issues values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?)",
            [week, topic, label, stype, svalue, items, neg, nss, change, z, ["s:1", "s:2"]],
        )
    newest = datetime.combine(week + timedelta(days=6), datetime.min.time())
    rows = [(f"s:{n}", newest - timedelta(hours=n), "high") for n in range(urgent)]
    rows += [(f"s:old{n}", newest - timedelta(days=20), "high") for n in range(old_urgent)]
    rows += [("s:calm", newest, "low")]
    for item_id, created, urgency in rows:
        con.execute(
            "insert into fct_feedback values (?, 's', ?, 'email', ?, '100001', "
            "'the <PERSON> renewal text', 'negative', -0.8, 0.9, ?, 'renewal_billing', 'ok')",
            [item_id, item_id.split(":")[1], created, urgency],
        )
    con.close()
    return path


def resource(home: Path, webhook=None, smtp=None, **kw) -> AlertsResource:
    return AlertsResource(
        pulse_home=str(home),
        webhook_url=webhook.url if webhook else None,
        smtp_host="127.0.0.1" if smtp else None,
        smtp_port=smtp[0] if smtp else 25,
        email_to=["member-services@example.org"] if smtp else None,
        app_url="http://pulse.example.org",
        min_interval_s=0,
        **kw,
    )


_INSTANCE: list[dg.DagsterInstance] = []


def instance() -> dg.DagsterInstance:
    """One ephemeral instance for every evaluation (building one costs about a second)."""
    if not _INSTANCE:
        _INSTANCE.append(dg.DagsterInstance.ephemeral())
    return _INSTANCE[0]


def evaluate(res: AlertsResource):
    sensor = build_alert_sensors()[0]
    return sensor(dg.build_sensor_context(instance=instance(), resources={"alerts": res}))


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "pulse_home"
    home.mkdir()
    return home


def test_one_alert_per_topic_and_week_to_both_sinks_and_none_on_repeat(home, webhook, smtp_server):
    _, inbox = smtp_server
    build_marts(home / "marts.duckdb")
    res = resource(home, webhook, smtp_server)
    result = evaluate(res)
    # renewal_billing spikes among all members and in chapter North: one issue, one alert.
    assert "3 alert(s) sent" in result.skip_message
    assert len(webhook.payloads) == 3 and len(inbox.messages) == 3

    texts = [p["text"] for p in webhook.payloads]
    renewal = next(t for t in texts if "Renewal & billing" in t)
    assert "among all members" in renewal and "31 negative of 40" in renewal
    assert "chapter North (16 negative of 18" in renewal and "change -70" in renewal
    links = [b["text"]["text"] for p in webhook.payloads for b in p["blocks"] if "text" in b]
    assert any("http://pulse.example.org/emerging?topic=renewal_billing|" in t for t in links)
    assert any(
        "http://pulse.example.org/emerging?topic=website_login&tier=Student" in t for t in links
    )
    mail = inbox.messages[0]["message"]
    assert mail["Subject"].startswith("Member Pulse:") and inbox.messages[0]["to"] == [
        "member-services@example.org"
    ]
    body = mail.get_payload()
    assert (
        "spike size:" in body
        and "nss change:" in body
        and "Evidence: http://pulse.example.org/emerging?" in body
    )
    assert "<PERSON>" not in body and all("<PERSON>" not in t for t in texts)  # no item text

    again = evaluate(res)
    assert "0 alert(s) sent" in again.skip_message and "3 already sent" in again.skip_message
    assert len(webhook.payloads) == 3 and len(inbox.messages) == 3
    rows = AlertLog(home / "alert_log.sqlite").rows()
    assert len(rows) == 3 and {r["status"] for r in rows} == {"sent"}
    assert {r["sinks_ok"] for r in rows} == {"webhook,email"}
    assert rows[0]["alert_key"].startswith("spike:") and rows[0]["alert_key"].endswith(
        ":2026-03-23"
    )


def test_a_quiet_period_raises_nothing(home, webhook):
    build_marts(home / "marts.duckdb", spikes=[], old_urgent=3)
    result = evaluate(resource(home, webhook))
    assert "0 alert(s) sent" in result.skip_message
    assert webhook.payloads == []


def test_a_new_week_with_the_same_spike_is_a_new_alert_but_history_is_not_replayed(home, webhook):
    # An old spike (two weeks before the latest week) is not replayed on a first evaluation.
    marts = build_marts(home / "marts.duckdb", week=WEEK - timedelta(weeks=2))
    con = duckdb.connect(str(marts))
    con.execute("insert into emerging_issues select ?, topic_key, topic_label, segment_type, "
                "segment_value, 5, 0, 10, 0, 0, false, [] from emerging_issues", [WEEK])  # fmt: skip
    con.close()
    res = resource(home, webhook)
    assert "0 alert(s) sent" in evaluate(res).skip_message
    build_marts(marts, spikes=SPIKES[:1])
    assert "1 alert(s) sent" in evaluate(res).skip_message
    # Two weeks on, after a week the topic was not flagged in: it is back, a new alert.
    build_marts(marts, spikes=SPIKES[:1], week=WEEK + timedelta(weeks=2))
    assert "1 alert(s) sent" in evaluate(res).skip_message
    assert len(webhook.payloads) == 2


def test_a_spike_that_goes_on_the_next_week_is_the_same_issue(home, webhook):
    marts = build_marts(home / "marts.duckdb", spikes=SPIKES[:1])
    res = resource(home, webhook)
    assert "1 alert(s) sent" in evaluate(res).skip_message
    # Next week's marts: the topic is flagged again, right after the week already alerted.
    build_marts(marts, spikes=SPIKES[:1], week=WEEK + timedelta(weeks=1))
    con = duckdb.connect(str(marts))
    con.execute(
        "insert into emerging_issues values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?)",
        [WEEK, *SPIKES[0], ["s:1"]],
    )
    con.close()
    again = evaluate(res)
    assert "0 alert(s) sent" in again.skip_message and "1 already sent" in again.skip_message
    assert len(webhook.payloads) == 1


def test_new_high_urgency_items_alert_once_each(home, webhook):
    build_marts(home / "marts.duckdb", spikes=[], urgent=2, old_urgent=4)
    res = resource(home, webhook)
    assert "2 alert(s) sent" in evaluate(res).skip_message
    assert "0 alert(s) sent" in evaluate(res).skip_message
    texts = [p["text"] for p in webhook.payloads]
    assert all("high-urgency" in t and "<PERSON>" not in t for t in texts)
    assert "http://pulse.example.org/review?item=s%3A0" in str(webhook.payloads)
    off = resource(home, webhook, urgent_items=False)
    build_marts(home / "marts.duckdb", spikes=[], urgent=5)
    assert "0 alert(s) sent" in evaluate(off).skip_message


def test_rate_limit_defers_the_rest_to_the_next_evaluation(home, webhook):
    build_marts(home / "marts.duckdb")
    res = resource(home, webhook, max_per_evaluation=2)
    assert "2 alert(s) sent" in evaluate(res).skip_message
    assert "1 deferred" in evaluate(res).skip_message or len(webhook.payloads) == 3
    assert len(webhook.payloads) == 3
    assert "0 alert(s) sent" in evaluate(res).skip_message


def test_a_sink_down_does_not_hold_back_the_other_and_failures_are_retried(
    home, webhook, smtp_server
):
    _, inbox = smtp_server
    build_marts(home / "marts.duckdb", spikes=SPIKES[:1])
    webhook.status = 500
    res = resource(home, webhook, smtp_server)
    assert "1 alert(s) sent" in evaluate(res).skip_message
    assert len(inbox.messages) == 1 and webhook.payloads == []
    [row] = AlertLog(home / "alert_log.sqlite").rows()
    assert row["sinks_ok"] == "email" and "HTTP 500" in row["last_error"]

    build_marts(home / "marts.duckdb", spikes=SPIKES[2:3])
    webhook_only = resource(home, webhook)
    assert "1 failed" in evaluate(webhook_only).skip_message
    webhook.status = 200
    assert "1 alert(s) sent" in evaluate(webhook_only).skip_message  # retried, now delivered
    assert len(webhook.payloads) == 1


def test_without_a_sink_or_marts_the_sensor_skips_with_a_reason(home, webhook):
    assert "no alert sink configured" in evaluate(resource(home)).skip_message
    assert "no published marts yet" in evaluate(resource(home, webhook)).skip_message


def test_run_failure_sensor_posts_the_failed_run(home, webhook, smtp_server):
    _, inbox = smtp_server

    @dg.asset
    def fragile():
        raise RuntimeError("boom")

    result = dg.materialize([fragile], instance=instance(), raise_on_error=False)
    assert not result.success
    res = resource(home, webhook, smtp_server)
    sensor = build_alert_sensors()[1]
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alerts",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance(),
        dagster_run=result.dagster_run,
        resources={"alerts": res},
    ).for_run_failure()
    sensor(context)
    sensor(context)  # the same failure seen twice: one message
    assert len(webhook.payloads) == 1 and len(inbox.messages) == 1
    text = webhook.payloads[0]["text"]
    assert "failed" in text and "fragile" in text
    assert f"/runs/{result.dagster_run.run_id}" in str(webhook.payloads[0]["blocks"])


def test_definitions_run_the_sensors_only_when_a_sink_is_configured(pulse_env, monkeypatch):
    for name in ("PULSE_ALERT_WEBHOOK_URL", "PULSE_ALERT_SMTP_HOST", "PULSE_ALERT_EMAIL_TO"):
        monkeypatch.delenv(name, raising=False)
    stopped = {s.name: s.default_status for s in alert_defs().sensors}
    assert stopped == {
        "emerging_issue_alerts": dg.DefaultSensorStatus.STOPPED,
        "run_failure_alerts": dg.DefaultSensorStatus.STOPPED,
        "asset_check_failure_alerts": dg.DefaultSensorStatus.STOPPED,
    }
    monkeypatch.setenv("PULSE_ALERT_WEBHOOK_URL", "https://hooks.example.org/T000/B000/secret")
    defs = alert_defs()
    assert {s.default_status for s in defs.sensors} == {dg.DefaultSensorStatus.RUNNING}
    assert "secret" not in repr(defs.resources["alerts"])  # an EnvVar reference, not the value


def test_config_from_env_and_payload_shape():
    config = AlertConfig.from_env(
        {"PULSE_ALERT_SMTP_HOST": "smtp.example.org", "PULSE_ALERT_EMAIL_TO": "a@x.org, b@x.org",
         "PULSE_APP_URL": "https://pulse.example.org/", "PULSE_ALERT_SMTP_STARTTLS": "yes"}
    )  # fmt: skip
    assert config.configured and config.email_to == ("a@x.org", "b@x.org")
    assert config.app_url == "https://pulse.example.org" and config.smtp_starttls
    with pytest.raises(AlertConfigError, match="PULSE_ALERT_MIN_INTERVAL_S"):
        AlertConfig.from_env({"PULSE_ALERT_MIN_INTERVAL_S": "soon"})
    from orchestration.lib.alerts import Alert

    payload = slack_payload(Alert("k", "spike", "Title", "Text", "http://x", {"topic": "t"}))
    assert payload["text"] == "Title: Text" and payload["blocks"][0]["type"] == "section"


def test_a_failed_asset_check_is_alerted_once(home, webhook):
    @dg.asset(
        check_specs=[dg.AssetCheckSpec("rows_match", asset="items"),
                     dg.AssetCheckSpec("drift", asset="items")]
    )  # fmt: skip
    def items():
        yield dg.MaterializeResult(
            check_results=[
                dg.AssetCheckResult(check_name="rows_match", passed=False, description="3 missing"),
                # a warning is for the UI, not for someone's inbox
                dg.AssetCheckResult(
                    check_name="drift", passed=False, severity=dg.AssetCheckSeverity.WARN
                ),
            ]
        )

    run_instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([items], instance=run_instance)
    check_sensor = build_alert_sensors()[2]
    res = resource(home, webhook)
    context = dg.build_sensor_context(instance=run_instance, resources={"alerts": res})
    check_sensor(context)
    assert len(webhook.payloads) == 1
    assert "rows_match" in webhook.payloads[0]["text"] and "items" in webhook.payloads[0]["text"]
    assert result.run_id in str(webhook.payloads[0])
    # the cursor moved past those results: a second look sends nothing more
    again = dg.build_sensor_context(
        instance=run_instance, resources={"alerts": res}, cursor=context.cursor
    )
    check_sensor(again)
    assert len(webhook.payloads) == 1
