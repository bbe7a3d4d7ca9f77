"""The service providers' page says when each last filed a report, also for reports loaded without the
API (the demo's), besides when it last signed in to the API."""

from __future__ import annotations

import lxml.html
from sqlalchemy import select
from support import sample_content
from websupport import Site

from tipline.domain.report import ReportContent, ReportSource
from tipline.intake.submission import submit_report
from tipline.store.accounts import api_principal
from tipline.store.tables import ApiAccount

LAST_USED, NEWEST = 4, 5  # the columns "Last signed in to the API" and "Newest report"


def _row_of(html: str, username: str) -> list[str]:
    page = lxml.html.fromstring(html)
    for row in page.xpath("//tbody/tr"):
        cells = [" ".join(td.text_content().split()) for td in row.findall("td")]
        if cells and cells[0] == username:
            return cells
    raise AssertionError(f"no row for {username}")


def test_a_provider_whose_reports_were_loaded_directly_shows_its_newest_report(site: Site) -> None:
    admin = site.signed_in("admin")
    before = _row_of(admin.get("/admin/api-accounts").text, "pixelgram")
    assert before[NEWEST] == "none yet"
    instance = site.instance
    with instance.db.transaction() as session:
        account = session.execute(select(ApiAccount).where(ApiAccount.username == "pixelgram")).scalar_one()
        submit_report(instance, session, ReportContent.model_validate(sample_content()), ReportSource.BULK,
                      api_principal(account))
    after = _row_of(admin.get("/admin/api-accounts").text, "pixelgram")
    assert after[LAST_USED] == "never" and after[NEWEST] not in ("none yet", "")
