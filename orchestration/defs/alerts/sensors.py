"""Alert sensors: emerging issues and new high-urgency items from the published marts, and
failed runs, sent to the configured sinks (a Slack-compatible webhook, e-mail over SMTP).

Sensors read `marts.duckdb` (never the working warehouse) with one short read-only
connection, and keep their own SQLite alert log, so one alert goes out per issue and period
however often they are evaluated. Both sensors run by default when a sink is configured
(PULSE_ALERT_WEBHOOK_URL, or PULSE_ALERT_SMTP_HOST with PULSE_ALERT_EMAIL_TO) and are shown
stopped otherwise.
"""

import os
from pathlib import Path

import dagster as dg

from orchestration.lib.alerts import (
    AlertConfig,
    AlertLog,
    DispatchReport,
    build_sinks,
    check_failure_alert,
    dispatch,
    read_alerts,
    run_failure_alert,
)
from orchestration.lib.config import Paths

from ..settings import settings

SECRETS = {"webhook_url": "PULSE_ALERT_WEBHOOK_URL", "smtp_password": "PULSE_ALERT_SMTP_PASSWORD"}


class AlertsResource(dg.ConfigurableResource):
    """The alert sinks and limits; secrets come from the environment (dg.EnvVar)."""

    pulse_home: str
    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    email_from: str = "member-pulse@localhost"
    email_to: list[str] | None = None
    app_url: str = "http://127.0.0.1:8501"
    dagster_url: str = "http://127.0.0.1:3000"
    min_interval_s: float = 1.0
    max_per_evaluation: int = 10
    urgent_items: bool = True
    urgent_lookback_days: int = 2

    def config(self) -> AlertConfig:
        return AlertConfig(
            webhook_url=self.webhook_url or None,
            smtp_host=self.smtp_host or None,
            smtp_port=self.smtp_port,
            smtp_user=self.smtp_user or None,
            smtp_password=self.smtp_password or None,
            smtp_starttls=self.smtp_starttls,
            email_from=self.email_from,
            email_to=tuple(self.email_to or ()),
            app_url=self.app_url.rstrip("/"),
            dagster_url=self.dagster_url.rstrip("/"),
            min_interval_s=self.min_interval_s,
            max_per_evaluation=self.max_per_evaluation,
            urgent_items=self.urgent_items,
            urgent_lookback_days=self.urgent_lookback_days,
        )

    @property
    def paths(self) -> Paths:
        return Paths(Path(self.pulse_home))

    def log(self) -> AlertLog:
        return AlertLog(self.paths.alert_log)


def _send(alerts_resource: AlertsResource, alerts: list) -> DispatchReport:
    config = alerts_resource.config()
    return dispatch(
        alerts,
        build_sinks(config),
        alerts_resource.log(),
        max_alerts=config.max_per_evaluation,
        min_interval_s=config.min_interval_s,
    )


def build_alert_sensors(
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.STOPPED,
) -> list[dg.SensorDefinition]:
    """The alert sensors; running by default only when a sink is configured."""

    @dg.sensor(
        name="emerging_issue_alerts",
        default_status=default_status,
        minimum_interval_seconds=300,
        description="Sends one alert per topic and week with an emerging-issue spike "
        "(emerging_issues.is_spike; the segments that spiked listed inside) and per new "
        "high-urgency item in the published marts to the configured webhook and e-mail, with "
        "topic, segments, spike size, NSS change and a link to the evidence in the app.",
    )
    def emerging_issue_alerts(context: dg.SensorEvaluationContext, alerts: AlertsResource):
        config = alerts.config()
        if not config.configured:
            return dg.SkipReason(
                "no alert sink configured: set PULSE_ALERT_WEBHOOK_URL, or PULSE_ALERT_SMTP_HOST "
                "and PULSE_ALERT_EMAIL_TO"
            )
        marts = alerts.paths.marts
        if not marts.exists():
            return dg.SkipReason(f"no published marts yet ({marts})")
        found = read_alerts(
            marts,
            config.app_url,
            spike_lookback_weeks=config.spike_lookback_weeks,
            urgent_items=config.urgent_items,
            urgent_lookback_days=config.urgent_lookback_days,
        )
        report = _send(alerts, found)
        context.log.info(report.summary())
        if report.failed:
            context.log.warning(f"alerts not delivered (retried next time): {report.failed}")
        return dg.SkipReason(report.summary())

    @dg.run_failure_sensor(
        name="run_failure_alerts",
        default_status=default_status,
        minimum_interval_seconds=60,
        description="Posts a failed Dagster run (job, failed steps, link to the run) to the same "
        "alert sinks.",
    )
    def run_failure_alerts(context: dg.RunFailureSensorContext, alerts: AlertsResource):
        config = alerts.config()
        if not config.configured:
            return dg.SkipReason("no alert sink configured")
        run = context.dagster_run
        failed_steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
        alert = run_failure_alert(
            run.run_id,
            run.job_name,
            context.failure_event.message,
            failed_steps,
            config.dagster_url,
        )
        report = _send(alerts, [alert])
        context.log.info(report.summary())
        return None

    @dg.sensor(
        name="asset_check_failure_alerts",
        default_status=default_status,
        minimum_interval_seconds=60,
        description="Posts every failed asset check of error severity (ingest row counts, "
        "residual PII, enrichment coverage, dbt tests) to the same alert sinks.",
    )
    def asset_check_failure_alerts(context: dg.SensorEvaluationContext, alerts: AlertsResource):
        config = alerts.config()
        if not config.configured:
            return dg.SkipReason("no alert sink configured")
        records = context.instance.get_event_records(
            dg.EventRecordsFilter(
                event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION,
                after_cursor=int(context.cursor) if context.cursor else None,
            ),
            limit=500,
            ascending=True,
        )
        failed = []
        for record in records:
            evaluation = record.event_log_entry.dagster_event.event_specific_data
            if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
                continue
            failed.append(
                check_failure_alert(
                    evaluation.asset_key.to_user_string(),
                    evaluation.check_name,
                    record.event_log_entry.run_id,
                    evaluation.description,
                    config.dagster_url,
                )
            )
        if records:
            context.update_cursor(str(records[-1].storage_id))
        if not failed:
            return dg.SkipReason(f"{len(records)} check results since the last look, none failed")
        report = _send(alerts, failed)
        context.log.info(report.summary())
        return dg.SkipReason(report.summary())

    return [emerging_issue_alerts, run_failure_alerts, asset_check_failure_alerts]


def alerts_resource(env: dict[str, str]) -> AlertsResource:
    """Built when definitions load; secrets stay EnvVar references, shown as names in the UI."""
    config = AlertConfig.from_env(env)
    secrets = {field: dg.EnvVar(name) for field, name in SECRETS.items() if env.get(name)}
    return AlertsResource(
        pulse_home=str(settings().home),
        smtp_host=config.smtp_host,
        smtp_port=config.smtp_port,
        smtp_user=config.smtp_user,
        smtp_starttls=config.smtp_starttls,
        email_from=config.email_from,
        email_to=list(config.email_to),
        app_url=config.app_url,
        dagster_url=config.dagster_url,
        min_interval_s=config.min_interval_s,
        max_per_evaluation=config.max_per_evaluation,
        urgent_items=config.urgent_items,
        urgent_lookback_days=config.urgent_lookback_days,
        **secrets,
    )


@dg.definitions
def alert_defs() -> dg.Definitions:
    env = dict(os.environ)
    configured = AlertConfig.from_env(env).configured
    status = dg.DefaultSensorStatus.RUNNING if configured else dg.DefaultSensorStatus.STOPPED
    return dg.Definitions(
        sensors=build_alert_sensors(status),
        resources={"alerts": alerts_resource(env)},
    )
