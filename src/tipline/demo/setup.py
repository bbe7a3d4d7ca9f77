"""Setting up a demo instance: logins, service-provider accounts, and reports through the real intake path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from tqdm import tqdm

from tipline.demo.dataset import PROVIDERS, generate
from tipline.domain.audit import Actor, ActorType
from tipline.domain.base import utc_now
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.intake.submission import finish_report, submit_report
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.referral.directory import DEMO_AGENCY_USER_CODE, DEMO_KEYS_DIR, load_demo_directory
from tipline.referral.service import mark_opened, record_outcome, refer
from tipline.store.accounts import PUBLIC, Principal, api_principal
from tipline.store.referrals import AgencyRow, ReferralRow, ReportJurisdictionRow
from tipline.store.tables import InstanceSetting, ReportRow, User

DEMO_MARKER = "demo_dataset"
DEMO_REFERRALS = 4  # referred to the demo `agency` login's agency, so its portal has something to show
# What the demo agency reports back on its first referrals (the others wait, unopened).
DEMO_OUTCOMES = [("received", "investigation_opened"), ("received",)]
DEMO_ACTOR = Actor.system("demo")
DEMO_USERS = [
    ("analyst", Role.ANALYST, "Ana Analyst"),
    ("supervisor", Role.SUPERVISOR, "Sam Supervisor"),
    ("admin", Role.ADMIN, "Ada Admin"),
    ("victimid", Role.VICTIM_ID, "Vic Identification"),
    ("agency", Role.AGENCY, "Officer Example"),
    ("advocate", Role.ADVOCATE, "Alex Advocate"),
]


class DemoRefused(RuntimeError):
    pass


@dataclass
class DemoResult:
    logins: list[dict[str, str]] = field(default_factory=list)
    loaded: int = 0
    total_reports: int = 0
    awaiting_review: int = 0
    referred: int = 0
    history: int = 0  # decided reports of earlier years, for the trends pages
    alerts: int = 0  # emerging-threat alerts the detector raised over the history's last week
    agency_key: str = ""  # the demo agency's private key file, to read its referrals in the browser

    def to_dict(self) -> dict[str, Any]:
        return {"logins": self.logins, "loaded": self.loaded, "reports": self.total_reports,
                "awaiting_review": self.awaiting_review, "referred": self.referred, "history": self.history,
                "alerts": self.alerts, "agency_key": self.agency_key}

    def describe(self, url: str) -> str:
        lines = [
            "",
            f"tipline demo: {self.total_reports} synthetic reports ({self.loaded} loaded now), "
            f"{self.awaiting_review} awaiting review, {self.referred} referred to an agency"
            + (f" (with {self.history} reports of earlier years for the trends pages: {self.alerts} emerging-threat "
               "alerts)." if self.history else "."),
            f"Open {url} and sign in with one of these demo logins (passwords are new each run):",
            "",
        ]
        lines += [f"  {login['role']:<11} {login['username']:<11} {login['password']}" for login in self.logins]
        if self.agency_key:
            lines += ["", f"The agency login reads its referrals in the browser with its agency's key file: "
                          f"{self.agency_key}"]
        lines += ["", f"API documentation: {url}/docs", ""]
        return "\n".join(lines)


def prepare_demo(instance: Instance, report_count: int, *, progress: bool = True, history_years: int = 3) -> DemoResult:
    """Idempotent: users get fresh passwords each run; the dataset is loaded only once. With
    `history_years`, decided reports of those earlier years are added beside the dataset (with seasons,
    a financial-sextortion surge in the last days and a ring's shared payment handle) for the trends pages."""
    result = DemoResult()
    with instance.db.transaction() as session:
        marker = session.get(InstanceSetting, DEMO_MARKER)
        existing = session.execute(select(func.count()).select_from(ReportRow)).scalar_one()
        if marker is None and existing:
            raise DemoRefused(
                f"{instance.settings.data_dir} already holds {existing} reports that are not demo data; "
                "run the demo in another folder (TIPLINE_DATA_DIR=var/demo tipline demo)"
            )
        for username, role, name in DEMO_USERS:
            if instance.accounts.user_by_name(session, username) is None:
                _, password = instance.accounts.add_user(session, username, role, DEMO_ACTOR, display_name=name)
            else:
                password = instance.accounts.reset_password(session, username, DEMO_ACTOR)
            result.logins.append({"role": role.value, "username": username, "password": password})
        load_demo_directory(instance, session, DEMO_ACTOR)  # fictional agencies; the `agency` login joins one
        providers = {}
        for provider in PROVIDERS:
            account = next((a for a in instance.accounts.list_api_accounts(session) if a.username == provider.username),
                           None)
            if account is None:
                account, _ = instance.accounts.add_api_account(session, provider.username, DEMO_ACTOR,
                                                               display_name=provider.display_name)
            providers[provider.username] = api_principal(account)
        already_loaded = marker is not None

    if not already_loaded:
        from tipline.demo.victims import place_material, seed_series

        seed_series(instance, DEMO_AGENCY_USER_CODE, DEMO_ACTOR, instance.settings.data_dir)
        reports = place_material(sorted(generate(report_count, utc_now()), key=lambda r: r.received_at))
        for report in tqdm(reports, desc="loading demo reports", unit="report", disable=not progress):
            principal = providers[report.provider] if report.provider else PUBLIC
            with instance.db.transaction() as session:
                row = submit_report(instance, session, report.content, report.source, principal,
                                    finish=not report.files, received_at=report.received_at)
                for name, data in report.files:
                    instance.files.add(session, row.id, data, file_name=name, actor=principal.actor)
                if report.files:
                    finish_report(instance, session, row.id, principal)
                    # the dataset is a history: finishing now must not make old reports look new
                    row.received_at = report.received_at
        with instance.db.transaction() as session:
            session.add(InstanceSetting(key=DEMO_MARKER, value={"reports": report_count, "loaded_at": str(utc_now())}))
        result.loaded = len(reports)

    with tqdm(desc="pipeline", unit="job", disable=not progress) as bar:
        InProcessWorker(instance).drain(on_job=lambda: bar.update(1))
    if not already_loaded:
        refer_demo_reports(instance, DEMO_REFERRALS)
        if history_years:
            from tipline.demo.history import HistoryPlan, load_history

            loaded = load_history(instance, HistoryPlan(end=utc_now().date(), days=365 * history_years))
            result.history, result.alerts = loaded["reports"], loaded["alerts"]
        from tipline.demo.follow_ups import load_demo_follow_ups

        load_demo_follow_ups(instance, DEMO_ACTOR)  # the directory, and reporters who asked to be contacted
    with instance.db.transaction() as session:
        counts = instance.reports.counts_by_state(session)
    result.total_reports = sum(counts.values())
    result.awaiting_review = counts.get("awaiting_review", 0)
    result.referred = counts.get("referred", 0)
    result.agency_key = str(instance.settings.key_dir / DEMO_KEYS_DIR / f"{DEMO_AGENCY_USER_CODE}.key")
    return result


def _user_principal(session: Any, username: str) -> Principal:
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return Principal(actor=Actor(ActorType.USER, str(user.id), user.username), role=Role(user.role),
                     user_id=user.id, display_name=user.display_name)


def refer_demo_reports(instance: Instance, count: int) -> int:
    """Refer a few processed reports the way an analyst would (claim, then refer with a note) to the
    agency of the demo `agency` login, preferring reports the pipeline itself suggested for it; the
    agency then reports outcomes on the first ones. Everything goes through the real referral
    service: signed, encrypted packages, audit events, timelines."""
    with instance.db.transaction() as session:
        agency = session.execute(select(AgencyRow).where(AgencyRow.code == DEMO_AGENCY_USER_CODE)).scalar_one()
        waiting = select(ReportRow.id).where(ReportRow.state == "awaiting_review")
        suggested = list(session.execute(
            waiting.join(ReportJurisdictionRow, ReportJurisdictionRow.report_id == ReportRow.id)
            .where(ReportJurisdictionRow.suggested_agency_id == agency.id).order_by(ReportRow.id.desc()).limit(count)
        ).scalars())
        others = list(session.execute(
            waiting.where(ReportRow.id.not_in(suggested or [0])).order_by(ReportRow.id.desc())
            .limit(count - len(suggested))
        ).scalars()) if len(suggested) < count else []
        analyst, officer = _user_principal(session, "analyst"), _user_principal(session, "agency")
    referred = 0
    for report_id in suggested + others:
        with instance.db.transaction() as session:
            instance.review.claim(session, report_id, analyst)
        reason = None if report_id in suggested else "demo: shown in the demo agency's portal"
        result = refer(instance, report_id, analyst, DEMO_AGENCY_USER_CODE, reason=reason,
                       note="Demo referral: synthetic report, reviewed by the demo analyst.")
        if referred < len(DEMO_OUTCOMES):
            with instance.db.transaction() as session:
                row = session.get(ReferralRow, result.referral.id)
                assert row is not None, "the referral was just made"
                mark_opened(instance, session, row, officer, "portal page")
                for outcome in DEMO_OUTCOMES[referred]:
                    record_outcome(instance, session, row, officer, outcome)
        referred += 1
    return referred
