"""Notice and takedown stored, on both backends: a lookup asked for is done by the worker, a notice is
drafted to the right abuse desk and followed through its states with dates and who, re-checks are
kept, overdue notices are found, time to removal is counted, and every change is audited."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import update
from support import build_instance
from takedown_support import CONTACTS_CSV, URLS, FakeResolver, report_with_urls

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.instance import Instance
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.store.takedown import TakedownNoticeRow
from tipline.takedown import mail, service
from tipline.takedown.contacts import ContactImportError
from tipline.takedown.figures import removal_times
from tipline.takedown.notices import CheckResult, NoticeRefused, NoticeState

ANALYST = Actor.system("test-analyst")


def _actions(instance: Instance, report_id: int) -> list[str]:
    with instance.db.transaction() as session:
        return [e.action for e in instance.audit.events_for_report(session, report_id)
                if e.action.startswith("takedown.")]


def _located(instance: Instance) -> int:
    report_id = report_with_urls(instance)
    with instance.db.transaction() as session:
        assert service.request_locate(instance, session, report_id, ANALYST)
    assert InProcessWorker(instance).drain(timeout=60)
    return report_id


def test_nothing_is_looked_up_until_asked_and_then_by_the_worker(hotline: Instance, resolver: FakeResolver) -> None:
    report_id = report_with_urls(hotline)
    assert resolver.asked == []  # TIPLINE_RESOLVE_HOSTS is off: the pipeline looked nothing up
    with hotline.db.transaction() as session:
        assert service.urls_of(session, report_id) == URLS
        assert service.request_locate(hotline, session, report_id, ANALYST)
        assert not service.request_locate(hotline, session, report_id, ANALYST)  # already waiting
        assert service.lookup_pending(session, report_id)
    assert resolver.asked == []  # asking only queued the work
    assert InProcessWorker(hotline).drain(timeout=60)
    assert sorted(resolver.asked) == ["files.example", "gone.example", "mirror.example.org"]
    with hotline.db.transaction() as session:
        assert not service.lookup_pending(session, report_id)
        lookups = service.lookups_of(session, report_id)
    assert (lookups[URLS[0]].country, lookups[URLS[0]].asn) == ("GB", 64501)
    assert (lookups[URLS[1]].country, lookups[URLS[1]].organisation) == ("AU", "Example Cloud Pty")
    assert lookups[URLS[2]].addresses == [] and "could not be resolved" in (lookups[URLS[2]].error or "")
    assert _actions(hotline, report_id) == ["takedown.locate_requested", "takedown.located"]


def test_the_setting_lets_the_pipeline_ask_by_itself(tmp_path: Path, request: pytest.FixtureRequest,
                                                      takedown_env: dict[str, str], resolver: FakeResolver) -> None:
    instance = build_instance(tmp_path / "auto", "sqlite", request, TIPLINE_RESOLVE_HOSTS="on", **takedown_env)
    try:
        report_id = report_with_urls(instance)
        assert sorted(resolver.asked) == ["files.example", "gone.example", "mirror.example.org"]
        with instance.db.transaction() as session:
            assert len(service.lookups_of(session, report_id)) == 3
            (asked,) = [e for e in instance.audit.events_for_report(session, report_id)
                        if e.action == "takedown.locate_requested"]
        assert asked.details["automatic"] is True and asked.actor_name == "pipeline"
    finally:
        instance.close()


def test_a_notice_goes_to_the_hosts_abuse_desk_and_through_its_states(hotline: Instance, resolver: FakeResolver) -> None:
    report_id = _located(hotline)
    with hotline.db.transaction() as session:
        counts = service.import_contacts(hotline, session, CONTACTS_CSV.encode(), ANALYST)
    assert counts == {"added": 3, "updated": 0, "unchanged": 0}
    with hotline.db.transaction() as session:
        assert service.import_contacts(hotline, session, CONTACTS_CSV.encode(), ANALYST)["unchanged"] == 3
        notice = service.draft_notice(hotline, session, report_id, URLS[0], ANALYST)
        notice_id, text = notice.id, notice.text
        assert notice.provider == "Files Example abuse desk" and notice.contact_web_form == "https://files.example/abuse"
        assert notice.state == "drafted" and notice.drafted_by == "test-analyst"
        with pytest.raises(service.TakedownError, match="is already drafted"):
            service.draft_notice(hotline, session, report_id, URLS[0], ANALYST)
    assert URLS[0] in text and f"TD-{notice_id:06d}" in text and "198.51.100.7" in text
    assert "Robin" not in text and "13" not in text.replace(f"{notice_id:06d}", "")  # nothing of the report but where
    with hotline.db.transaction() as session:
        with pytest.raises(NoticeRefused, match="a notice that is drafted cannot become acknowledged"):
            service.move_notice(hotline, session, notice_id, NoticeState.ACKNOWLEDGED, ANALYST)
    with hotline.db.transaction() as session:
        sent = service.move_notice(hotline, session, notice_id, NoticeState.SENT, ANALYST)
        assert sent.sent_at is not None and sent.sent_by == "test-analyst"
        service.record_check(hotline, session, notice_id, CheckResult.STILL_ONLINE, ANALYST)
        service.move_notice(hotline, session, notice_id, NoticeState.ACKNOWLEDGED, ANALYST, note="ticket 4411")
    with hotline.db.transaction() as session:
        removed = service.record_check(hotline, session, notice_id, CheckResult.REMOVED, ANALYST)
        assert removed.state == "removed" and removed.removed_at is not None
        assert [c["result"] for c in removed.checks] == ["still_online", "removed"]
        assert service.hours_to_removal(removed) is not None
        with pytest.raises(NoticeRefused, match="it can become: none: it is final"):
            service.move_notice(hotline, session, notice_id, NoticeState.SENT, ANALYST)
    assert _actions(hotline, report_id)[2:] == [
        "takedown.notice_drafted", "takedown.notice_sent", "takedown.notice_checked", "takedown.notice_acknowledged",
        "takedown.notice_checked", "takedown.notice_removed"]


def test_a_url_hosted_abroad_goes_to_the_partner_hotline_not_a_notice(hotline: Instance, resolver: FakeResolver) -> None:
    report_id = _located(hotline)
    with hotline.db.transaction() as session:
        with pytest.raises(service.TakedownError, match="hosted in AU, not in GB: route it to the partner hotline"):
            service.draft_notice(hotline, session, report_id, URLS[1], ANALYST)
        with pytest.raises(service.TakedownError, match="where https://gone.example/x is hosted is not known"):
            service.draft_notice(hotline, session, report_id, URLS[2], ANALYST)
        with pytest.raises(service.TakedownError, match="holds no web address"):
            service.draft_notice(hotline, session, report_id, "https://elsewhere.example/", ANALYST)
        assert service.notices_of(session, report_id) == []


def test_overdue_notices_and_the_time_to_removal(hotline: Instance, resolver: FakeResolver) -> None:
    first = _located(hotline)
    with hotline.db.transaction() as session:
        service.import_contacts(hotline, session, CONTACTS_CSV.encode(), ANALYST)
        ids = [service.draft_notice(hotline, session, first, URLS[0], ANALYST).id]
    now = utc_now()
    with hotline.db.transaction() as session:
        service.move_notice(hotline, session, ids[0], NoticeState.SENT, ANALYST, at=now - timedelta(minutes=1))
        session.execute(update(TakedownNoticeRow).where(TakedownNoticeRow.id == ids[0]).values(
            sent_at=now - timedelta(hours=50), drafted_at=now - timedelta(hours=51)))
    with hotline.db.transaction() as session:
        assert [n.id for n in service.overdue_notices(session, 48)] == ids
        assert service.overdue_notices(session, 72) == []
        service.move_notice(hotline, session, ids[0], NoticeState.REMOVED, ANALYST, at=now - timedelta(hours=20))
        assert service.overdue_notices(session, 48) == []
        (by_country,) = removal_times(session, "country")
        (by_provider,) = removal_times(session, "provider")
    assert (by_country.group, by_country.notices, by_country.median_hours) == ("GB", 1, 30.0)
    assert by_provider.group == "Files Example abuse desk"
    with hotline.db.transaction() as session, pytest.raises(service.TakedownError, match="in the future"):
        other = service.draft_notice(hotline, session, first, URLS[0], ANALYST)  # removed: a new notice may be drafted
        service.move_notice(hotline, session, other.id, NoticeState.SENT, ANALYST, at=now + timedelta(days=1))


def test_a_bad_contact_file_changes_nothing(hotline: Instance) -> None:
    with hotline.db.transaction() as session:
        service.import_contacts(hotline, session, CONTACTS_CSV.encode(), ANALYST)
    bad = CONTACTS_CSV.replace("AS64501", "AS-one").encode()
    with pytest.raises(ContactImportError, match="line 2, asn"), hotline.db.transaction() as session:
        service.import_contacts(hotline, session, bad.replace(b"Example Transit Inc", b"Renamed"), ANALYST)
    with hotline.db.transaction() as session:
        assert [r.name for r in service.list_contacts(session)] == [
            "Example Hosting Ltd", "Example Transit Inc", "Files Example abuse desk"]


class FakeSMTP:
    """Stands in for smtplib.SMTP: keeps what it was given, or fails as a refusing server does."""

    sent: list[EmailMessage] = []
    refuse = False

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port = host, port

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def starttls(self) -> None:
        pass

    def login(self, username: str, password: str) -> None:
        assert (username, password) == ("hotline", "mail-secret")

    def send_message(self, message: EmailMessage) -> None:
        if FakeSMTP.refuse:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no such mailbox")})
        FakeSMTP.sent.append(message)


def test_with_a_mail_server_the_worker_sends_the_notice_and_marks_it_sent(
        tmp_path: Path, request: pytest.FixtureRequest, backend: str, takedown_env: dict[str, str],
        resolver: FakeResolver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail, "smtp_for_tests", FakeSMTP)
    monkeypatch.setattr(FakeSMTP, "sent", [])
    instance = build_instance(tmp_path / "mail", backend, request, TIPLINE_SMTP_HOST="smtp.hotline.example",
                              TIPLINE_SMTP_FROM="notices@hotline.example", TIPLINE_SMTP_USERNAME="hotline",
                              TIPLINE_SMTP_PASSWORD="mail-secret", TIPLINE_JOB_RETRY_SECONDS="0",
                              **takedown_env)
    try:
        report_id = _located(instance)
        with instance.db.transaction() as session:
            service.import_contacts(instance, session, CONTACTS_CSV.encode(), ANALYST)
            web_form_only = service.draft_notice(instance, session, report_id, URLS[0], ANALYST)
            with pytest.raises(service.TakedownError, match="has no email address"):
                service.request_mail(instance, session, web_form_only.id, ANALYST)
            service.move_notice(instance, session, web_form_only.id, NoticeState.UNREACHABLE, ANALYST)
        report_id = report_with_urls(instance, ["http://198.51.100.8/other"])  # AS64501: the desk with an email
        with instance.db.transaction() as session:
            service.request_locate(instance, session, report_id, ANALYST)
        assert InProcessWorker(instance).drain(timeout=60)
        with instance.db.transaction() as session:
            notice_id = service.draft_notice(instance, session, report_id, "http://198.51.100.8/other", ANALYST).id
            assert service.request_mail(instance, session, notice_id, ANALYST)
        FakeSMTP.refuse = True
        try:
            assert InProcessWorker(instance).drain(timeout=60)  # refused: retried, then parked for a person
        finally:
            FakeSMTP.refuse = False
        with instance.db.transaction() as session:
            assert service.notice(session, notice_id).state == "drafted"
            assert service.request_mail(instance, session, notice_id, ANALYST)  # asked again
        assert InProcessWorker(instance).drain(timeout=60)
        (message,) = FakeSMTP.sent
        assert message["To"] == "abuse@hosting.example" and message["From"] == "notices@hotline.example"
        assert message["Subject"] == f"Notice of illegal material hosted on your service (our reference TD-{notice_id:06d})"
        assert "http://198.51.100.8/other" in message.get_content()
        with instance.db.transaction() as session:
            sent = service.notice(session, notice_id)
            assert sent.state == "sent" and sent.sent_by == "test-analyst" and sent.note == "sent by mail to abuse@hosting.example"
        actions = _actions(instance, report_id)
        assert "takedown.mail_failed" in actions and actions[-1] == "takedown.notice_sent"
    finally:
        instance.close()
