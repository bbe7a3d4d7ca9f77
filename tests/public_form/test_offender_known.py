"""Whether the child knows the other person offline: asked on the form, shown to analysts in words, counted
for trends, and published as the share of offenders unknown offline (NCMEC's 98 % figure), with small counts
suppressed."""

from __future__ import annotations

from datetime import timedelta

from public_form.formsupport import MINIMAL, FormClient
from websupport import Site, username_of

from tipline.domain.base import utc_now
from tipline.domain.roles import Role
from tipline.trends.published import report


def _send(site: Site, n: int, answer: str | None) -> int:
    visitor = FormClient(site, address=f"198.51.100.{n + 1}")
    answers = dict(MINIMAL) if answer is None else {**MINIMAL, "offender_known": answer}
    number, _ = visitor.receipt(visitor.send(answers))
    return number


def test_the_answer_is_kept_and_shown_to_analysts_in_words(site: Site) -> None:
    number = _send(site, 0, "known_offline")
    site.drain()
    page = site.signed_in(username_of(Role.ANALYST)).get(f"/reports/{number}")
    assert page.status_code == 200
    assert "Child knows them in person" in page.text and "Yes, in person" in page.text
    assert "known_offline" not in page.text
    assert "not_said" not in page.text  # the reporter's relationship, not given, reads "Not said"


def test_an_answer_not_offered_is_refused_at_its_question(site: Site, visitor: FormClient) -> None:
    response = visitor.send({**MINIMAL, "offender_known": "sometimes"})
    assert response.status_code == 422
    assert 'id="offender_known-error"' in response.text


def test_the_share_of_offenders_unknown_offline_is_published_where_counts_allow(site: Site) -> None:
    answers = ["online_only"] * 3 + ["known_offline"] * 2 + ["unknown", None]
    for n, answer in enumerate(answers):
        _send(site, n, answer)
    site.drain()
    today = utc_now().date()
    with site.instance.db.transaction() as session:
        shown = report(session, today - timedelta(days=1), today, ["offender_relationship"], threshold=2)
        hidden = report(session, today - timedelta(days=1), today, ["offender_relationship"], threshold=3)
    year = str(today.year)
    rows = {row["value"]: row["total"] for row in shown["tables"][0]["rows"]}
    assert rows == {"online_only": 3, "known_offline": 2, "unknown": 2}  # "I do not know" and no answer
    summary = next(s for s in shown["yearly_summary"] if s["year"] == year)
    assert summary["offenders_unknown_offline_percent"] == 60.0  # 3 of the 5 who knew
    # with a threshold of 3 the two "known offline" reports are a small count: no share that reveals it
    summary = next(s for s in hidden["yearly_summary"] if s["year"] == year)
    assert summary["offenders_unknown_offline_percent"] is None
