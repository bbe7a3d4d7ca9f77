"""The demo shows victim identification: its agency is notified when its series comes back, the
unidentified series recurs in the victim-identification queue, and new material forms a cluster."""

from __future__ import annotations

from sqlalchemy import select

from tipline.demo.setup import prepare_demo
from tipline.demo.victims import IDENTIFIED_SERIES, UNIDENTIFIED_SERIES
from tipline.instance import Instance
from tipline.referral.directory import DEMO_AGENCY_USER_CODE
from tipline.store.referrals import AgencyRow
from tipline.victims.clusters import clusters_page
from tipline.victims.sightings import notifications_for_agency, victim_id_queue


def test_the_demo_shows_series_notifications_the_queue_and_a_cluster(sqlite_instance: Instance) -> None:
    prepare_demo(sqlite_instance, 60, progress=False)
    with sqlite_instance.db.transaction() as session:
        agency = session.execute(select(AgencyRow).where(AgencyRow.code == DEMO_AGENCY_USER_CODE)).scalar_one()
        notified = notifications_for_agency(session, agency)
        queued = {r.id for _q, s, r in victim_id_queue(session) if s.name == UNIDENTIFIED_SERIES}
        clusters, _ = clusters_page(session)
    assert [n.series for n in notified] == [IDENTIFIED_SERIES]
    assert len(queued) == 3
    assert [c.reports for c in clusters] == [3]
