"""Alert settings from the environment (read when asked, never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


class AlertConfigError(ValueError):
    """An alert setting is invalid; the message names the variable."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if not value:
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise AlertConfigError(f"{name}={value!r}: use 1/0, true/false, yes/no or on/off")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise AlertConfigError(f"{name}={value!r} is not a number") from None
    if number < 0:
        raise AlertConfigError(f"{name}={value!r} must not be negative")
    return number


@dataclass(frozen=True)
class AlertConfig:
    webhook_url: str | None = None  # Slack-compatible incoming webhook
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    email_from: str = "member-pulse@localhost"
    email_to: tuple[str, ...] = ()
    app_url: str = "http://127.0.0.1:8501"  # links to the evidence in the dashboard
    dagster_url: str = "http://127.0.0.1:3000"  # links to failed runs
    min_interval_s: float = 1.0  # between two messages to the sinks
    max_per_evaluation: int = 10  # the rest wait for the next evaluation
    urgent_items: bool = True  # also alert on new high-urgency items
    urgent_lookback_days: int = 2  # "new": created this close to the newest item
    spike_lookback_weeks: int = 1  # spikes of the latest week and this many before it

    @property
    def email_configured(self) -> bool:
        return bool(self.smtp_host and self.email_to)

    @property
    def configured(self) -> bool:
        return bool(self.webhook_url) or self.email_configured

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertConfig:
        env = os.environ if env is None else env
        app_port = env.get("PULSE_APP_PORT") or "8501"
        dagster_port = env.get("PULSE_DAGSTER_PORT") or "3000"
        recipients = tuple(
            a.strip() for a in (env.get("PULSE_ALERT_EMAIL_TO") or "").split(",") if a.strip()
        )
        return cls(
            webhook_url=env.get("PULSE_ALERT_WEBHOOK_URL") or None,
            smtp_host=env.get("PULSE_ALERT_SMTP_HOST") or None,
            smtp_port=int(_number(env, "PULSE_ALERT_SMTP_PORT", 25)),
            smtp_user=env.get("PULSE_ALERT_SMTP_USER") or None,
            smtp_password=env.get("PULSE_ALERT_SMTP_PASSWORD") or None,
            smtp_starttls=_flag(env, "PULSE_ALERT_SMTP_STARTTLS", False),
            email_from=env.get("PULSE_ALERT_EMAIL_FROM") or "member-pulse@localhost",
            email_to=recipients,
            app_url=(env.get("PULSE_APP_URL") or f"http://127.0.0.1:{app_port}").rstrip("/"),
            dagster_url=(env.get("PULSE_DAGSTER_URL") or f"http://127.0.0.1:{dagster_port}").rstrip(
                "/"
            ),
            min_interval_s=_number(env, "PULSE_ALERT_MIN_INTERVAL_S", 1.0),
            max_per_evaluation=int(_number(env, "PULSE_ALERT_MAX_PER_EVALUATION", 10)),
            urgent_items=_flag(env, "PULSE_ALERT_URGENT_ITEMS", True),
            urgent_lookback_days=int(_number(env, "PULSE_ALERT_URGENT_LOOKBACK_DAYS", 2)),
        )
