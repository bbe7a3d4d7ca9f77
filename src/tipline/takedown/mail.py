"""Sending a notice by mail, when the hotline configures an SMTP server (off by default: a person
sends the notice and marks it sent). Only a worker sends (tipline.takedown.service.run_mail_job)."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from tipline.config import ConfigError, int_setting

HOST_SETTING = "TIPLINE_SMTP_HOST"


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    username: str | None
    password: str | None
    starttls: bool
    timeout: float = 30.0

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"MailSettings(host={self.host!r}, port={self.port}, sender={self.sender!r})"


def mail_settings(extra: dict[str, str]) -> MailSettings | None:
    """TIPLINE_SMTP_HOST (unset: no mail), TIPLINE_SMTP_PORT (587), TIPLINE_SMTP_FROM (required with a
    host), TIPLINE_SMTP_USERNAME and TIPLINE_SMTP_PASSWORD (optional), TIPLINE_SMTP_STARTTLS (true)."""
    host = (extra.get(HOST_SETTING) or "").strip()
    if not host:
        return None
    sender = (extra.get("TIPLINE_SMTP_FROM") or "").strip()
    if "@" not in sender:
        raise ConfigError("TIPLINE_SMTP_FROM must be the address notices are sent from when TIPLINE_SMTP_HOST is set")
    starttls = (extra.get("TIPLINE_SMTP_STARTTLS") or "true").strip().lower() not in {"0", "false", "no", "off"}
    return MailSettings(host, int_setting(extra, "TIPLINE_SMTP_PORT", 587, minimum=1), sender,
                        (extra.get("TIPLINE_SMTP_USERNAME") or "").strip() or None,
                        extra.get("TIPLINE_SMTP_PASSWORD") or None, starttls)


def compose(text: str, sender: str, to: str, reference: str) -> EmailMessage:
    """The notice as a plain-text mail: its first line `Subject: ...` (if it has one) is the subject."""
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        subject, body = first[len("subject:"):].strip(), rest.lstrip("\n")
    else:
        subject, body = f"Notice of illegal material hosted on your service ({reference})", text
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[1])
    message.set_content(body)
    return message


smtp_for_tests: Any = None
"""Tests replace this with a fake smtplib.SMTP class."""


def send(settings: MailSettings, message: EmailMessage) -> None:
    """Hand the message to the SMTP server; smtplib.SMTPException or OSError when it cannot."""
    factory = smtp_for_tests or smtplib.SMTP
    with factory(settings.host, settings.port, timeout=settings.timeout) as server:
        if settings.starttls:
            server.starttls()
        if settings.username:
            server.login(settings.username, settings.password or "")
        server.send_message(message)
