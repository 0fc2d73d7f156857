"""Alerts (no Dagster): what deserves one (spikes, new high-urgency items, failed runs), where
it goes (webhook, e-mail), and the log that sends each one once."""

from .config import AlertConfig, AlertConfigError
from .detect import (
    Alert,
    check_failure_alert,
    read_alerts,
    run_failure_alert,
    spike_alert,
    spike_alerts,
    urgent_alert,
)
from .dispatch import DispatchReport, dispatch
from .log import AlertLog
from .sinks import EmailSink, Sink, SinkError, WebhookSink, build_sinks, slack_payload

__all__ = [
    "Alert",
    "AlertConfig",
    "AlertConfigError",
    "AlertLog",
    "DispatchReport",
    "EmailSink",
    "Sink",
    "SinkError",
    "WebhookSink",
    "build_sinks",
    "check_failure_alert",
    "dispatch",
    "read_alerts",
    "run_failure_alert",
    "slack_payload",
    "spike_alert",
    "spike_alerts",
    "urgent_alert",
]
