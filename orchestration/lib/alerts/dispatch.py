"""Send due alerts to every sink: de-duplicated by the alert log, rate-limited, recorded."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .detect import Alert
from .log import AlertLog
from .sinks import Sink, SinkError

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    sent: list[str] = field(default_factory=list)  # alert keys at least one sink took
    failed: list[str] = field(default_factory=list)  # no sink took them: retried later
    duplicates: int = 0  # already sent earlier
    deferred: int = 0  # over this evaluation's limit: next evaluation

    def summary(self) -> str:
        return (
            f"{len(self.sent)} alert(s) sent, {len(self.failed)} failed, "
            f"{self.duplicates} already sent, {self.deferred} deferred"
        )


def dispatch(
    alerts: Sequence[Alert],
    sinks: Sequence[Sink],
    alert_log: AlertLog,
    *,
    max_alerts: int = 10,
    min_interval_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DispatchReport:
    """Send each due alert to every sink, at most `max_alerts`, `min_interval_s` apart.

    An alert counts as sent when at least one sink took it (a webhook outage does not hold
    back the e-mail); the log records which sinks did.
    """
    report = DispatchReport()
    due = alert_log.due(list(alerts))
    report.duplicates = len({a.key for a in alerts}) - len(due)
    if not sinks:
        report.deferred = len(due)
        return report
    for n, alert in enumerate(due):
        if n >= max_alerts:
            report.deferred = len(due) - n
            break
        if n and min_interval_s > 0:
            sleep(min_interval_s)
        ok, errors = [], []
        for sink in sinks:
            try:
                sink.send(alert)
                ok.append(sink.name)
            except SinkError as exc:
                errors.append(f"{sink.name}: {exc}")
                log.warning("alert %s not delivered to %s: %s", alert.key, sink.name, exc)
        alert_log.record(alert, ok, "; ".join(errors) or None)
        (report.sent if ok else report.failed).append(alert.key)
    return report
