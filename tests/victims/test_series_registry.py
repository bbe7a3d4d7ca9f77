"""The series registry through the real pipeline: an identified series that comes back notifies its
agency once per report; an unidentified one queues the report; rename, merge and split keep every
name resolving; bad requests change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from referralsupport import Portal, report_in_review
from sqlalchemy import func, select
from vidsupport import ACTOR, blocks

from tipline.store.series import SeriesError, SeriesNotFound
from tipline.store.tables import ReportRow, SeriesRow
from tipline.store.victim_tables import SeriesNotificationRow, VictimIdQueueRow
from tipline.victims.media import MediaHashError, hash_files
from tipline.victims.sightings import record_series_sightings, victim_id_queue


def series_with_media(portal: Portal, tmp_path: Path, name: str, seed: int) -> int:
    path = tmp_path / f"{name}.png"
    path.write_bytes(blocks(seed))
    instance = portal.instance
    with instance.db.transaction() as session:
        row = instance.series.create(session, name, ACTOR)
        assert instance.series.add_media(session, row, hash_files([path]), ACTOR, instance.banks) == 4
        return row.id


def test_an_identified_series_that_comes_back_notifies_its_agency_once(portal: Portal, tmp_path: Path) -> None:
    instance = portal.instance
    series_id = series_with_media(portal, tmp_path, "Blue Kite", seed=1)
    with instance.db.transaction() as session:
        instance.series.identify(session, instance.series.get(session, series_id), "us-il-tf", ACTOR,
                                 case_reference="IL-2026-0042")
    report_id = report_in_review(instance, "analyst", files=[("holiday.png", blocks(1, shift=3))])
    unrelated = report_in_review(instance, "analyst", files=[("other.png", blocks(9))])
    with instance.db.transaction() as session:
        record_series_sightings(instance, session, report_id)  # the stage running again adds nothing
        notes = list(session.execute(select(SeriesNotificationRow)).scalars())
        assert [(n.series_id, n.report_id) for n in notes] == [(series_id, report_id)]
        series = instance.series.get(session, series_id)
        described = instance.series.describe(session, series)
        reasons = session.get(ReportRow, report_id).priority_reasons
        assert session.execute(select(func.count()).select_from(VictimIdQueueRow)).scalar_one() == 0
    assert described["status"] == "identified" and described["identified_by"] == "us-il-tf"
    assert described["reports"] == [report_id] and unrelated not in described["reports"]
    assert described["notifications"][0]["agency"] == "us-il-tf"
    assert series.report_count == 1 and series.last_seen_at is not None
    reason = next(r for r in reasons["reasons"] if r["code"] == "identified_series_match")
    assert "agency that identified the child is notified" in reason["label"]


def test_an_unidentified_series_puts_each_new_report_in_the_victim_id_queue(portal: Portal, tmp_path: Path) -> None:
    instance = portal.instance
    series_id = series_with_media(portal, tmp_path, "Red Fox", seed=2)
    first = report_in_review(instance, "analyst", files=[("a.png", blocks(2))])
    second = report_in_review(instance, "analyst", files=[("b.png", blocks(2, shift=2))])
    with instance.db.transaction() as session:
        queued = [(q.series_id, r.id) for q, _s, r in victim_id_queue(session)]
        assert session.execute(select(func.count()).select_from(SeriesNotificationRow)).scalar_one() == 0
        assert instance.series.get(session, series_id).report_count == 2
    assert sorted(queued) == [(series_id, first), (series_id, second)]


def test_rename_merge_and_split_keep_every_name_resolving(portal: Portal, tmp_path: Path) -> None:
    instance = portal.instance
    kite = series_with_media(portal, tmp_path, "Blue Kite", seed=1)
    fox = series_with_media(portal, tmp_path, "Red Fox", seed=2)
    with instance.db.transaction() as session:
        instance.series.rename(session, instance.series.get(session, kite), "Kite", ACTOR)
        assert instance.series.find(session, "Blue Kite").id == kite
        with pytest.raises(SeriesError, match="into itself"):
            instance.series.merge(session, instance.series.get(session, kite), instance.series.find(session, "Kite"),
                                  ACTOR)
        merged = instance.series.merge(session, instance.series.get(session, fox), instance.series.get(session, kite),
                                       ACTOR)
        assert instance.series.describe(session, merged)["aliases"] == ["Blue Kite", "Red Fox"]
        assert instance.series.find(session, "Red Fox").id == kite
        assert session.get(SeriesRow, fox) is None
        media = instance.series.media(session, merged)
        assert len(media) == 8 and {row.series for row, _ in media} == {"Kite"}
        fox_entries = [row.id for row, _ in media if row.source_id == "Red Fox.png"]
        new = instance.series.split(session, merged, "Fox again", fox_entries, ACTOR, instance.banks)
        assert len([r for r, _ in instance.series.media(session, new) if r.enabled]) == 4
        assert len([r for r, _ in instance.series.media(session, merged) if r.enabled]) == 4
    # the split's entries match for the new series in a new report
    report_id = report_in_review(instance, "analyst", files=[("c.png", blocks(2))])
    with instance.db.transaction() as session:
        assert [r.id for r in [q[2] for q in victim_id_queue(session)]] == [report_id]
        assert victim_id_queue(session)[0][1].name == "Fox again"


def test_bad_requests_name_the_problem_and_change_nothing(portal: Portal, tmp_path: Path) -> None:
    instance = portal.instance
    series_id = series_with_media(portal, tmp_path, "Blue Kite", seed=1)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a picture")
    with pytest.raises(MediaHashError, match="not a picture or a video"):
        hash_files([tmp_path / "Blue Kite.png", text_file])
    with pytest.raises(MediaHashError, match="cannot read"):
        hash_files([tmp_path / "missing.png"])
    with instance.db.transaction() as session:
        series = instance.series.get(session, series_id)
        with pytest.raises(SeriesError, match="no agency with code 'xx-none'"):
            instance.series.identify(session, series, "xx-none", ACTOR)
        with pytest.raises(SeriesError, match="needs the agency"):
            instance.series.identify(session, series, "", ACTOR)
        with pytest.raises(SeriesError, match="already a series' name"):
            instance.series.create(session, "Blue Kite", ACTOR)
        with pytest.raises(SeriesNotFound):
            instance.series.find(session, "Nobody")
        from tipline.domain.victims import VictimRecordError

        with pytest.raises(VictimRecordError, match="no direct identifiers"):
            instance.series.add_victim(session, series, ACTOR, pseudonym="jane@example.com")
        with pytest.raises(VictimRecordError, match="no direct identifiers"):
            instance.series.add_victim(session, series, ACTOR, pseudonym="Kid 5550123")
    with instance.db.transaction() as session:
        series = instance.series.get(session, series_id)
        assert series.status == "unidentified" and series.identified_by_agency_id is None
        assert instance.series.victims(session, series) == []
