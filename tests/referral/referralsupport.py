"""Helpers for the referral tests: a directory of two invented agencies with real key pairs, agency
users tied to each, and reports carried through the pipeline into review."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from PIL import Image
from sqlalchemy import select

from tipline.domain.audit import Actor, ActorType
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import finish_report, submit_report
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.referral.directory import assign_user, import_directory
from tipline.referral.keys import create_agency_key, load_agency_private_key
from tipline.store.accounts import Principal, api_principal
from tipline.store.tables import ApiAccount, User

TEST_ACTOR = Actor.system("test")
PASSWORD = "correct horse battery staple"


@dataclass
class Directory:
    keys: dict[str, X25519PrivateKey] = field(default_factory=dict)
    key_files: dict[str, Path] = field(default_factory=dict)


def directory_csv(public_keys: dict[str, str]) -> str:
    return (
        "code,name,type,country,region,city,contact_name,contact_email,contact_phone,public_key,active\n"
        f"us-fcps,Federal Child Protection Service,national_agency,US,,,Duty Desk,duty@fcps.example,,"
        f"{public_keys['us-fcps']},yes\n"
        f"us-il-tf,Illinois Online Safety Task Force,state_task_force,US,IL,,,intake@il-tf.example,,"
        f"{public_keys['us-il-tf']},yes\n"
        f"gb-ncsu,National Child Safety Unit,national_police,GB,,,,referrals@ncsu.example,,{public_keys['gb-ncsu']},yes\n"
        "us-nokey,Agency Without A Key,local_police,US,TX,Austin,,,,,yes\n"
    )


def install_directory(instance: Instance, key_dir: Path) -> Directory:
    """Agencies with fresh key pairs (private keys under key_dir), imported through the real path."""
    directory = Directory()
    public = {}
    for code in ("us-fcps", "us-il-tf", "gb-ncsu"):
        path = key_dir / f"{code}.key"
        public[code] = base64.b64encode(create_agency_key(path)).decode()
        directory.keys[code] = load_agency_private_key(path)
        directory.key_files[code] = path
    with instance.db.transaction() as session:
        import_directory(instance, session, directory_csv(public), TEST_ACTOR)
    return directory


def add_user(instance: Instance, username: str, role: Role, agency: str | None = None) -> None:
    with instance.db.transaction() as session:
        if instance.accounts.user_by_name(session, username) is None:
            instance.accounts.add_user(session, username, role, TEST_ACTOR, password=PASSWORD)
        if agency is not None:
            assign_user(instance, session, username, agency, TEST_ACTOR)


def principal(instance: Instance, username: str) -> Principal:
    with instance.db.transaction() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        return Principal(actor=Actor(ActorType.USER, str(user.id), user.username), role=Role(user.role),
                         user_id=user.id, display_name=user.display_name)


CHAT_LOG = b"u1: are your parents home?\nu2: no\n"


def png_bytes(colour: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """A tiny synthetic image (a plain colour): benign stand-in evidence."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, format="PNG")
    return out.getvalue()


def springfield_report() -> dict[str, Any]:
    """An enticement report whose victim lives in Springfield, Illinois; the reported person's phone is British."""
    return {
        "incidentSummary": {"incidentType": "Online Enticement of Children for Sexual Acts", "platform": "Chirp",
                            "incidentDateTime": "2026-10-15T08:00:00Z",
                            "escalateToHighPriority": "The user proposed meeting the child on Saturday."},
        "internetDetails": [{"chatImIncident": {"chatClient": "Chirp", "content":
                             "u1: how old are you?\nu2: 13\nu1: don't tell your parents about me\n"
                             "u1: can I pick you up after school on Friday?"}}],
        "reporter": {"reportingPerson": {"firstName": "Trust", "lastName": "Team",
                                         "email": ["safety@chirp.example"]}},
        "personOrUserReported": [{
            "personOrUserReportedPerson": {"phone": [{"value": "07700 900123", "countryCallingCode": "+44"}],
                                           "email": ["night.owl@example.com"]},
            "screenName": "NightOwl77", "espService": "Chirp",
            "ipCaptureEvent": [{"ipAddress": "203.0.113.7", "eventName": "Login",
                                "dateTime": "2026-10-14T22:00:00Z"}],
        }],
        "victim": [{"victimPerson": {"firstName": "Robin", "age": 13, "address": [
            {"address": "12 Example Street", "city": "Springfield", "state": "IL", "country": "US", "type": "Home"}]},
            "schoolName": "Springfield Middle School"}],
    }


def report_in_review(instance: Instance, analyst: str, content: dict[str, Any] | None = None,
                     files: list[tuple[str, bytes]] | None = None, provider: str = "chirp") -> int:
    """A report filed by a provider with files, processed by the pipeline, claimed by `analyst`."""
    with instance.db.transaction() as session:
        account = session.execute(select(ApiAccount).where(ApiAccount.username == provider)).scalar_one_or_none()
        if account is None:
            account, _ = instance.accounts.add_api_account(session, provider, TEST_ACTOR)
        esp = api_principal(account)
        row = submit_report(instance, session, ReportContent.model_validate(content or springfield_report()),
                            ReportSource.ESP_JSON, esp, finish=False)
        report_id = row.id
        for name, data in files if files is not None else [("chat-log.txt", b"u1: hi\nu2: hello\n"),
                                                          ("photo.png", png_bytes())]:
            instance.files.add(session, report_id, data, file_name=name, actor=esp.actor)
        finish_report(instance, session, report_id, esp)
    assert InProcessWorker(instance).drain(timeout=60)
    claim(instance, report_id, analyst)
    return report_id


def claim(instance: Instance, report_id: int, username: str) -> None:
    with instance.db.transaction() as session:
        instance.review.claim(session, report_id, principal(instance, username))


@dataclass
class Portal:
    """A site (tests/websupport.py) with the test directory and agency users of two agencies."""

    site: Any
    directory: Directory

    @classmethod
    def build(cls, instance: Instance, tmp_path: Path) -> Portal:
        from websupport import build_site

        site = build_site(instance)
        directory = install_directory(instance, tmp_path / "agency-keys")
        add_user(instance, "agency", Role.AGENCY, agency="us-il-tf")
        add_user(instance, "agency2", Role.AGENCY, agency="gb-ncsu")
        add_user(instance, "drifter", Role.AGENCY)
        return cls(site, directory)

    @property
    def instance(self) -> Instance:
        return self.site.instance

    def referred(self, agency: str, reason: str | None = None, files: list[tuple[str, bytes]] | None = None) -> tuple[int, int]:
        """A report in review, referred by the analyst to `agency`: (report id, referral id)."""
        from tipline.referral.service import refer

        report_id = report_in_review(self.instance, "analyst", files=files)
        result = refer(self.instance, report_id, principal(self.instance, "analyst"), agency, reason=reason)
        return report_id, result.referral.id


def csrf_of(client: Any, path: str) -> str:
    import re

    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)
