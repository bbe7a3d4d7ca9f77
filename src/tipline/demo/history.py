"""Three years of synthetic history for the trends pages: daily reports with yearly seasonality and
growth, a financial-sextortion surge in the last days, and a ring whose payment handle turns up in
reports from several providers. Benign and invented, like the rest of the demo.

The history is written as decided (closed) reports straight into the store, not through the pipeline
(three years at demo scale would take the pipeline an hour): only what the pipeline would have added
that trends read is added beside them (identifiers, by the real extractor, for the reports that name
a payment handle). Then the counts are rebuilt by the real counting code and the detector runs over
the last days, as its daily run would have."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from tipline.demo.dataset import PROVIDERS, offender_known
from tipline.domain.audit import Actor
from tipline.domain.incident import IncidentType
from tipline.domain.report import ReportContent
from tipline.linking import ExtractionContext, extract_identifiers
from tipline.store.tables import ApiAccount, ReportRow

if TYPE_CHECKING:
    from tipline.instance import Instance

HISTORY_ACTOR = Actor.system("demo:history")
RING_HANDLE = "$ringfund7"  # Cash App: the ring's collection account (invented)
RING_DAYS = 4  # the ring's reports fall in the last four days
SURGE_HANDLES = ["$quickcash5", "$helpme22", "$paynow31"]
TYPE_WEIGHTS = [
    (IncidentType.CHILD_PORNOGRAPHY, 0.55), (IncidentType.ONLINE_ENTICEMENT, 0.25),
    (IncidentType.UNSOLICITED_OBSCENE_MATERIAL, 0.07), (IncidentType.MISLEADING_WORDS_OR_IMAGES, 0.04),
    (IncidentType.CHILD_SEX_TRAFFICKING, 0.04), (IncidentType.CHILD_SEXUAL_MOLESTATION, 0.03),
    (IncidentType.MISLEADING_DOMAIN_NAME, 0.01), (IncidentType.CHILD_SEX_TOURISM, 0.01),
]
DECISIONS = [("informational", 0.5), ("closed_no_action", 0.3), ("referred", 0.2)]


@dataclass(frozen=True)
class HistoryPlan:
    end: date  # the last day of history (the day before the live demo's reports begin, or today)
    days: int = 3 * 365
    per_day: float = 9.0  # the mean daily count three years ago; it grows 40 % a year
    surge_days: int = 3  # the last days carry a financial-sextortion surge (0: none)
    surge_per_day: int = 30
    ring: bool = True
    seed: int = 2026


def season(day: date) -> float:
    """Yearly seasonality: busier in the summer holidays and around the end of the year."""
    t = day.timetuple().tm_yday / 365.25
    return 1.0 + 0.25 * math.sin(2 * math.pi * (t - 0.30)) + 0.15 * math.exp(-((t - 0.97) ** 2) / 0.001)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method, in pieces so a large mean does not underflow
    count, remaining = 0, mean
    while remaining > 0:
        step = min(remaining, 30.0)
        remaining -= step
        limit, product = math.exp(-step), rng.random()
        while product > limit:
            count += 1
            product *= rng.random()
    return count


def _content(rng: random.Random, incident: IncidentType, platform: str, at: datetime, *, public: bool,
             sextortion: bool, handle: str | None) -> dict[str, Any]:
    summary: dict[str, Any] = {"incidentType": incident.value, "platform": platform,
                               "incidentDateTime": (at - timedelta(hours=rng.randint(1, 72))).isoformat()}
    if sextortion:
        summary["reportAnnotations"] = {"sextortion": True}
    content: dict[str, Any] = {"incidentSummary": summary,
                               "victim": [{"victimPerson": {"age": rng.choice([11, 12, 13, 14, 14, 15, 15, 16, 16, 17])}}]}
    words = "The other user asked the child for pictures and said not to tell anyone."
    if sextortion:
        words = "The other user threatened to share a picture unless the child paid."
        if handle:
            words += f" They said to send money to {handle} on Cash App."
    if public:
        content["publicReport"] = {"description": words, "reporterRelationship": rng.choice(
            ["parent_or_carer", "child_themself", "professional", "other_family"]),
            "childGender": rng.choice(["female", "female", "female", "male", "unknown"])}
        known = offender_known(f"{platform}|{at.isoformat()}")
        if known:
            content["publicReport"]["offenderKnown"] = known
    else:
        content["additionalInfo"] = words
        content["reporter"] = {"reportingPerson": {"firstName": "Trust", "lastName": "Team",
                                                   "email": [f"safety@{platform.lower().replace(' ', '')}.example"]}}
    return ReportContent.model_validate(content).to_wire()


def _accounts(instance: Instance, session: Any) -> dict[str, int]:
    existing = {a.username: a.id for a in session.execute(select(ApiAccount)).scalars()}
    for provider in PROVIDERS:
        if provider.username not in existing:
            account, _ = instance.accounts.add_api_account(session, provider.username, HISTORY_ACTOR,
                                                           display_name=provider.display_name)
            existing[provider.username] = account.id
    return existing


def generate_history(plan: HistoryPlan, accounts: dict[str, int]) -> list[dict[str, Any]]:
    """The history's report rows (deterministic for a plan), in the order received."""
    return list(iterate_history(plan, accounts))


def iterate_history(plan: HistoryPlan, accounts: dict[str, int]) -> Iterator[dict[str, Any]]:
    """The same rows made day by day, in the order received: a million reports need not be held in memory
    at once (benchmarks/trends.py). Only the last four days, where the ring's reports fall, wait for them."""
    rng = random.Random(plan.seed)
    first = plan.end - timedelta(days=plan.days - 1)
    held: list[dict[str, Any]] = []  # the days the ring's reports may fall on
    for offset in range(plan.days):
        day = first + timedelta(days=offset)
        rows: list[dict[str, Any]] = []
        years_ago = (plan.end - day).days / 365.25
        mean = plan.per_day * (1.4 ** (3 - years_ago)) * season(day)
        count = _poisson(rng, mean)
        surge = plan.surge_days and (plan.end - day).days < plan.surge_days
        if surge:
            count += plan.surge_per_day
        for n in range(count):
            at = datetime.combine(day, time(), UTC) + timedelta(seconds=rng.randint(0, 86_399))
            surging = bool(surge) and n >= count - plan.surge_per_day
            incident = IncidentType.ONLINE_ENTICEMENT if surging else rng.choices(
                [t for t, _ in TYPE_WEIGHTS], [w for _, w in TYPE_WEIGHTS])[0]
            public = rng.random() < 0.08
            provider = rng.choice(PROVIDERS)
            sextortion = surging or (incident == IncidentType.ONLINE_ENTICEMENT and rng.random() < 0.3)
            handle = rng.choice(SURGE_HANDLES) if surging else None
            rows.append(_row(rng, incident, provider.platform, at, public, None if public else accounts[provider.username],
                             sextortion, handle))
        if plan.ring and (plan.end - day).days < RING_DAYS:
            held.extend(rows)
        else:
            rows.sort(key=lambda r: r["received_at"])
            yield from rows
    if plan.ring:  # six reports in the last four days, from three providers, naming the ring's account
        for n in range(6):
            day = plan.end - timedelta(days=n % RING_DAYS)
            at = datetime.combine(day, time(hour=9 + n), UTC)
            provider = PROVIDERS[n % 3]
            held.append(_row(rng, IncidentType.ONLINE_ENTICEMENT, provider.platform, at, False,
                             accounts[provider.username], True, RING_HANDLE))
    held.sort(key=lambda r: r["received_at"])
    yield from held


def _row(rng: random.Random, incident: IncidentType, platform: str, at: datetime, public: bool,
         account_id: int | None, sextortion: bool, handle: str | None) -> dict[str, Any]:
    decision = rng.choices([d for d, _ in DECISIONS], [w for _, w in DECISIONS])[0]
    return {
        "state": decision, "source": "public_form" if public else "esp_json", "api_account_id": account_id,
        "incident_type": incident.value, "incident_at": at - timedelta(hours=6), "platform": platform,
        "escalated": False, "opened_at": at, "received_at": at, "updated_at": at, "version": 1,
        "content": _content(rng, incident, platform, at, public=public, sextortion=sextortion, handle=handle),
        "priority": rng.choice(["P2", "P3", "P3", "P4"]),
    }


def load_history(instance: Instance, plan: HistoryPlan) -> dict[str, int]:
    """Write the history, its identifiers, rebuild the counts and run the detector over the last days."""
    from tipline.trends.cache import cache_of
    from tipline.trends.counting import rebuild
    from tipline.trends.detector import detect_day

    with instance.db.transaction() as session:
        accounts = _accounts(instance, session)
    rows = generate_history(plan, accounts)
    with instance.db.transaction() as session:
        for start in range(0, len(rows), 1000):
            session.execute(insert(ReportRow), rows[start:start + 1000])
        named = session.execute(select(ReportRow.id, ReportRow.content).where(
            ReportRow.received_at >= datetime.combine(plan.end - timedelta(days=max(plan.surge_days, 4)), time(), UTC),
            ReportRow.state.in_([d for d, _ in DECISIONS]))).all()
        for report_id, content in named:
            document = ReportContent.model_validate(content)
            found = extract_identifiers(document, ExtractionContext(include_reporter=False))
            if any(i.kind.value == "payment" for i in found):
                instance.identifiers.replace(session, report_id, found)
        instance.audit.append(session, HISTORY_ACTOR, "demo.history_loaded", details={
            "reports": len(rows), "first_day": (plan.end - timedelta(days=plan.days - 1)).isoformat(),
            "last_day": plan.end.isoformat()})
    counted = rebuild(instance)
    cache_of(instance).clear()
    alerts = 0
    with instance.db.transaction() as session:
        for back in range(6, -1, -1):
            alerts += detect_day(instance, session, plan.end - timedelta(days=back))
    return {"reports": len(rows), "facts": counted.get("facts", 0), "alerts": alerts}
