"""Deliver a finished report: copy it to a folder, POST a JSON summary to a webhook, e-mail it.

Each channel is optional and configured in the settings table (docs/configuration.md). A channel that
fails does not fail the report: the outcome of every channel is returned (and recorded on the
``(:Report)`` node by the scheduler), so an analyst can see that the mail server refused yesterday's report.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from graph.config import setting

WEBHOOK_TIMEOUT_S = 20
SMTP_TIMEOUT_S = 30
# E-mail attachments: the human-readable report and the table; the STIX bundle goes to machines by webhook/folder.
MAIL_ATTACHMENTS = {"report.html": "html", "campaigns.csv": "csv"}


@dataclass(frozen=True)
class Delivered:
    channel: str  # folder | webhook | email
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{self.channel}: {'ok' if self.ok else 'failed'} ({self.detail})"


def payload(report_id: str, path: Path, files: list[str], summary: dict) -> dict:
    """The JSON document a webhook receives."""
    return {"type": "linkwatch.report", "report_id": report_id, "summary": summary,
            "files": sorted(files), "path": str(path)}


def deliver(report_id: str, path: Path, files: list[str], summary: dict) -> list[Delivered]:
    """Send the report through every configured channel; returns one outcome per channel tried."""
    outcomes = []
    if setting("LINKWATCH_DELIVER_DIR"):
        outcomes.append(_attempt("folder", lambda: to_folder(path, Path(setting("LINKWATCH_DELIVER_DIR")))))
    if setting("LINKWATCH_DELIVER_WEBHOOK"):
        outcomes.append(_attempt("webhook", lambda: to_webhook(
            setting("LINKWATCH_DELIVER_WEBHOOK"), payload(report_id, path, files, summary),
            setting("LINKWATCH_DELIVER_WEBHOOK_SECRET"))))
    if setting("LINKWATCH_SMTP_HOST"):
        outcomes.append(_attempt("email", lambda: by_email(report_id, path, summary)))
    return outcomes


def _attempt(channel: str, send) -> Delivered:
    try:
        return Delivered(channel, True, send())
    except (OSError, smtplib.SMTPException, ValueError) as exc:  # network, HTTP status, refused mail, bad setting
        return Delivered(channel, False, f"{type(exc).__name__}: {exc}")


def to_folder(report_dir: Path, outbox: Path) -> str:
    """Copy the report folder into ``outbox`` (a shared drive, a folder another system picks up)."""
    target = outbox / report_dir.name
    staging = outbox / f".{report_dir.name}.partial"
    outbox.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(report_dir, staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)  # readers of the outbox never see half a report
    return str(target)


def signature(body: bytes, secret: str) -> str:
    """``X-Linkwatch-Signature`` header value: HMAC-SHA256 of the body, so the receiver can verify the sender."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def to_webhook(url: str, document: dict, secret: str = "") -> str:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"LINKWATCH_DELIVER_WEBHOOK must be an http(s) URL, got {url!r}")
    body = json.dumps(document).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "linkwatch-report"}
    if secret:
        headers["X-Linkwatch-Signature"] = signature(body, secret)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:  # raises HTTPError on 4xx/5xx
        return f"HTTP {response.status}"


def subject(report_id: str, summary: dict) -> str:
    changes = ", ".join(f"{n} {event}" for event, n in sorted(summary.items()) if isinstance(n, int) and n)
    return f"Linkwatch report {report_id}: {changes or 'no change'}"


def by_email(report_id: str, report_dir: Path, summary: dict) -> str:
    recipients = [r.strip() for r in setting("LINKWATCH_MAIL_TO").split(",") if r.strip()]
    if not recipients:
        raise ValueError("LINKWATCH_SMTP_HOST is set but LINKWATCH_MAIL_TO names no recipient")
    message = EmailMessage()
    message["Subject"] = subject(report_id, summary)
    message["From"] = setting("LINKWATCH_MAIL_FROM")
    message["To"] = ", ".join(recipients)
    lines = [f"{event}: {n}" for event, n in sorted(summary.items())]
    message.set_content("Linkwatch linkage report " + report_id + "\n\n" + "\n".join(lines)
                        + "\n\nThe full report is attached (report.html) and stored at " + str(report_dir) + ".\n")
    for name, subtype in MAIL_ATTACHMENTS.items():
        if (report_dir / name).exists():
            message.add_attachment((report_dir / name).read_text(encoding="utf-8"), subtype=subtype, filename=name)
    host, port = setting("LINKWATCH_SMTP_HOST"), int(setting("LINKWATCH_SMTP_PORT"))
    with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S) as smtp:
        if setting("LINKWATCH_SMTP_STARTTLS") == "1":
            smtp.starttls(context=ssl.create_default_context())
        if setting("LINKWATCH_SMTP_USER"):
            smtp.login(setting("LINKWATCH_SMTP_USER"), setting("LINKWATCH_SMTP_PASSWORD"))
        smtp.send_message(message)
    return f"sent to {len(recipients)} recipient(s) via {host}:{port}"
