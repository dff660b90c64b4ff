"""`linkwatch scheduler`: cron ticks of load → detect → report → deliver, on a real Neo4j with real servers
for the webhook (HTTP) and e-mail (SMTP) deliveries."""
from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller

from app import delivery
from app.cli import main
from app.scheduler import Scheduler, cron_trigger, single_instance
from graph import db
from graph.errors import LinkwatchError

UTC = timezone.utc


def test_cron_expressions_fire_when_expected():
    daily = cron_trigger("0 6 * * *")
    assert daily.get_next_fire_time(None, datetime(2026, 11, 28, 5, 59, tzinfo=UTC)) == datetime(
        2026, 11, 28, 6, 0, tzinfo=UTC)
    assert daily.get_next_fire_time(None, datetime(2026, 11, 28, 6, 0, 1, tzinfo=UTC)) == datetime(
        2026, 11, 29, 6, 0, tzinfo=UTC)
    every_two_seconds = cron_trigger("*/2 * * * * *")  # six fields: seconds first
    assert every_two_seconds.get_next_fire_time(None, datetime(2026, 11, 28, 6, 0, 1, tzinfo=UTC)) == datetime(
        2026, 11, 28, 6, 0, 2, tzinfo=UTC)
    mondays = cron_trigger("30 7 * * mon")
    assert mondays.get_next_fire_time(None, datetime(2026, 11, 28, tzinfo=UTC)) == datetime(
        2026, 11, 30, 7, 30, tzinfo=UTC)  # 2026-11-28 is a Saturday


@pytest.mark.parametrize("expression, message", [
    ("every day", "expected 5 cron fields"),
    ("61 * * * *", r"bad schedule '61 \* \* \* \*': .*61\) is higher than the maximum value \(59\)"),
    ("* * * * * * *", "expected 5 cron fields"),
])
def test_bad_cron_expressions_are_refused_with_the_reason(expression, message):
    with pytest.raises(LinkwatchError, match=message):
        cron_trigger(expression)


def test_cli_reports_a_bad_schedule_without_a_traceback(capsys):
    assert main(["scheduler", "--cron", "every day", "--max-runs", "1"]) == 2
    err = capsys.readouterr().err
    assert "bad schedule 'every day'" in err and "Traceback" not in err


def test_cli_refuses_an_unknown_configured_engine(monkeypatch, capsys):
    monkeypatch.setenv("LINKWATCH_SCHEDULE_ENGINE", "spark")
    assert main(["scheduler", "--once"]) == 2
    assert "LINKWATCH_SCHEDULE_ENGINE must be gds or local, got 'spark'" in capsys.readouterr().err


def test_only_one_scheduler_runs_at_a_time(tmp_path):
    lock = tmp_path / "scheduler.lock"
    with single_instance(lock):
        with pytest.raises(LinkwatchError, match="another linkwatch scheduler is running"):
            with single_instance(lock):
                pass
    with single_instance(lock):  # released when the first one stops
        pass


class _Webhook(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class _Mailbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receivers(monkeypatch, tmp_path):
    """A webhook endpoint and an SMTP server on loopback, and the settings that deliver to them and a folder."""
    _Webhook.received = []
    http = HTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    mailbox = _Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    monkeypatch.setenv("LINKWATCH_DELIVER_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("LINKWATCH_DELIVER_WEBHOOK", f"http://127.0.0.1:{http.server_port}/hook")
    monkeypatch.setenv("LINKWATCH_DELIVER_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("LINKWATCH_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LINKWATCH_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("LINKWATCH_SMTP_STARTTLS", "0")
    monkeypatch.setenv("LINKWATCH_MAIL_TO", "trust-and-safety@example.com, lead@example.com")
    yield _Webhook.received, mailbox.messages
    http.shutdown()
    smtp.stop()


def _reports():
    return db.driver().execute_query(
        "MATCH (r:Report) RETURN r.report_id AS id, r.status AS status, r.error AS error, r.trigger AS trigger, "
        "r.started_at AS started, r.finished_at AS finished, r.deliveries AS deliveries ORDER BY r.started_at").records


def test_scheduler_survives_a_failed_run_then_loads_detects_reports_and_delivers(empty_db, tmp_path, receivers):
    hooks, mails = receivers
    staged = tmp_path / "staged"
    assert main(["simulate", "--scale", "demo", "--seed", "3", "--accounts", "1000", "--out", str(staged),
                 "--quiet"]) == 0
    source = tmp_path / "export"  # the upstream export is not there yet at the first tick
    scheduler = Scheduler("*/2 * * * * *", [source], "gds", max_runs=2)
    runner = threading.Thread(target=scheduler.run)
    runner.start()
    deadline = time.monotonic() + 30
    while not scheduler.results and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scheduler.results and not scheduler.results[0].ok
    staged.rename(source)  # the export arrives (in one step) before the next tick
    runner.join(timeout=300)
    assert not runner.is_alive()

    failed, succeeded = scheduler.results
    assert f"{source} does not exist" in failed.error
    assert succeeded.ok, succeeded.error
    records = _reports()
    assert [(r["status"], r["trigger"]) for r in records] == [("failed", "schedule"), ("ok", "schedule")]
    assert f"{source} does not exist" in records[0]["error"]
    # one run at a time: the second run started after the first finished, and ticks that came while the
    # (multi-second) successful run was going were skipped rather than started beside it
    assert records[0]["finished"] <= records[1]["started"]
    assert scheduler.skipped >= 1

    # detection found the simulated campaigns and the report lists them as new
    campaigns = db.driver().execute_query("MATCH (c:Campaign {active: true}) RETURN count(c) AS n").records[0]["n"]
    assert campaigns >= 1
    report_id = succeeded.report_id
    assert records[1]["id"] == report_id
    assert sorted(records[1]["deliveries"]) == sorted(succeeded.deliveries)
    assert all(": ok (" in line for line in succeeded.deliveries) and len(succeeded.deliveries) == 3

    # folder: the whole report folder, complete
    delivered = tmp_path / "outbox" / report_id
    assert {"report.html", "report.json", "campaigns.csv", "indicators.stix.json"} <= {
        p.name for p in delivered.iterdir()}
    assert not list((tmp_path / "outbox").glob(".*partial"))

    # webhook: one signed JSON POST naming the report and its change summary
    assert len(hooks) == 1
    headers, body = hooks[0]
    document = json.loads(body)
    assert document["report_id"] == report_id and document["type"] == "linkwatch.report"
    assert document["summary"].get("new") == campaigns
    assert headers["X-Linkwatch-Signature"] == delivery.signature(body, "s3cret")

    # e-mail: to both recipients, with the report attached
    assert len(mails) == 1
    mail = mails[0]
    assert mail["To"] == "trust-and-safety@example.com, lead@example.com"
    assert mail["Subject"].startswith(f"Linkwatch report {report_id}: ") and f"{campaigns} new" in mail["Subject"]
    attachments = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
    assert set(attachments) == {"report.html", "campaigns.csv"}
    assert "<html" in attachments["report.html"].lower()


def test_a_failed_delivery_is_recorded_and_does_not_fail_the_report(empty_db, tmp_path, monkeypatch):
    monkeypatch.setenv("LINKWATCH_DELIVER_WEBHOOK", f"http://127.0.0.1:{_free_port()}/nobody-listens")
    monkeypatch.setenv("LINKWATCH_DELIVER_DIR", str(tmp_path / "outbox"))
    bundle = tmp_path / "export"
    assert main(["simulate", "--scale", "demo", "--seed", "4", "--accounts", "600", "--out", str(bundle),
                 "--quiet"]) == 0
    assert main(["scheduler", "--once", "--source", str(bundle)]) == 0

    [record] = _reports()
    assert record["status"] == "ok" and record["trigger"] == "cli"
    outcomes = dict(line.split(": ", 1) for line in record["deliveries"])
    assert outcomes["folder"].startswith("ok (")
    assert outcomes["webhook"].startswith("failed (URLError") and "Connection refused" in outcomes["webhook"]
