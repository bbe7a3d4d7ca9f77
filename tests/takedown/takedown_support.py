"""Helpers of the takedown tests: a fake resolver, a report naming web addresses, a contact CSV."""

from __future__ import annotations

from support import sample_content

from tipline.domain.audit import Actor, ActorType
from tipline.domain.report import ReportContent, ReportSource
from tipline.domain.roles import Role
from tipline.instance import Instance
from tipline.store.accounts import Principal
from tipline.takedown.hosting import HostLookupError

# What the fake DNS answers: invented names under .example, documentation addresses.
ANSWERS: dict[str, list[str]] = {
    "files.example": ["198.51.100.7"],  # United Kingdom, AS64501
    "cdn.example.net": ["203.0.113.10", "203.0.113.11"],  # United States, AS64500
    "mirror.example.org": ["192.0.2.20"],  # Australia, AS64502
    "lan.example": ["10.0.0.5"],  # not on the public internet
}
URLS = ["https://files.example/f/abc123", "http://mirror.example.org/page/77", "https://gone.example/x"]
CONTACTS_CSV = (
    "code,name,asn,domain_suffix,email,web_form,country,language,active\n"
    "example-hosting,Example Hosting Ltd,AS64501,,abuse@hosting.example,,GB,en,yes\n"
    "files-desk,Files Example abuse desk,,files.example,,https://files.example/abuse,GB,en,yes\n"
    "transit,Example Transit Inc,64500 64510,,abuse@transit.example,,US,en,yes\n"
)
ESP = Principal(Actor(ActorType.API_ACCOUNT, "1", "chirp"), Role.ESP, api_account_id=None)


class FakeResolver:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def addresses(self, host: str) -> list[str]:
        self.asked.append(host)
        if host not in ANSWERS:
            raise HostLookupError(f"{host} could not be resolved (Name or service not known)")
        return list(ANSWERS[host])


def content_with_urls(urls: list[str] | None = None) -> dict[str, object]:
    content = sample_content()
    content["internetDetails"] = [*content["internetDetails"], {"webPageIncident": {"url": urls or URLS}}]
    return content


def report_with_urls(instance: Instance, urls: list[str] | None = None, *, process: bool = True) -> int:
    """A received service-provider report naming these web addresses, through the whole pipeline."""
    from tipline.intake.submission import submit_report
    from tipline.pipeline.engine.inprocess import InProcessWorker

    with instance.db.transaction() as session:
        row = submit_report(instance, session, ReportContent.model_validate(content_with_urls(urls)),
                            ReportSource.ESP_JSON, ESP, finish=True)
        report_id = row.id
    if process:
        assert InProcessWorker(instance).drain(timeout=120)
    return report_id
