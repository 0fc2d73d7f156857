"""Where alerts go: a Slack-compatible webhook and e-mail over SMTP."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from functools import lru_cache
from typing import Protocol

import httpx

from .config import AlertConfig
from .detect import Alert


class SinkError(RuntimeError):
    """A sink refused or could not take the message (the alert is retried next evaluation)."""


class Sink(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


def slack_payload(alert: Alert) -> dict:
    """Slack's incoming-webhook JSON: `text` (the fallback every compatible receiver shows)
    plus blocks with the fields and the link."""
    text = f"*{alert.title}*\n{alert.text}"
    if alert.link:
        text += f"\n<{alert.link}|Open the evidence>"
    facts = [
        {"type": "mrkdwn", "text": f"*{name.replace('_', ' ')}*\n{value}"}
        for name, value in alert.fields.items()
        if value is not None and not isinstance(value, list | dict)
    ][:10]
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if facts:
        blocks.append({"type": "section", "fields": facts})
    return {"text": f"{alert.title}: {alert.text}", "blocks": blocks}


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """Loading the CA bundle takes a noticeable fraction of a second: once per process."""
    return httpx.create_ssl_context()


class WebhookSink:
    name = "webhook"

    def __init__(self, url: str, *, timeout: float = 10.0, transport=None):
        self.url = url
        self.timeout = timeout
        self.transport = transport

    def __repr__(self) -> str:  # the URL of a Slack webhook is a secret
        return "WebhookSink(url=***)"

    def send(self, alert: Alert) -> None:
        try:
            with httpx.Client(
                timeout=self.timeout, transport=self.transport, verify=_tls_context()
            ) as http:
                response = http.post(self.url, json=slack_payload(alert))
        except httpx.HTTPError as exc:
            raise SinkError(f"webhook unreachable ({type(exc).__name__})") from None
        if response.status_code >= 300:
            raise SinkError(f"webhook answered HTTP {response.status_code}")


class EmailSink:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: tuple[str, ...],
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ):
        self.host, self.port = host, port
        self.sender, self.recipients = sender, recipients
        self.user, self._password = user, password
        self.starttls = starttls
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"EmailSink({self.host}:{self.port} -> {len(self.recipients)} recipient(s))"

    def send(self, alert: Alert) -> None:
        message = EmailMessage()
        message["Subject"] = alert.title
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        body = [alert.text, ""]
        body += [f"{k.replace('_', ' ')}: {v}" for k, v in alert.fields.items() if v is not None]
        if alert.link:
            body += ["", f"Evidence: {alert.link}"]
        message.set_content("\n".join(body))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self._password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise SinkError(f"SMTP {self.host}:{self.port} failed ({type(exc).__name__})") from None


def build_sinks(config: AlertConfig) -> list[Sink]:
    sinks: list[Sink] = []
    if config.webhook_url:
        sinks.append(WebhookSink(config.webhook_url))
    if config.email_configured:
        assert config.smtp_host
        sinks.append(
            EmailSink(
                config.smtp_host,
                config.smtp_port,
                config.email_from,
                config.email_to,
                user=config.smtp_user,
                password=config.smtp_password,
                starttls=config.smtp_starttls,
            )
        )
    return sinks
