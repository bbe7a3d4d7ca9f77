"""The evidence viewer: every file opens large but blurred and grey; each step towards clear is an audited
reveal of that look (and a step back needs none); a video shows its first frame and plays only after an
audited Play; the sign-in's exposure counter and break reminder; one classification form per report with
bulk apply, an archive standing for the files inside it."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import av
import numpy as np
from PIL import Image
from sqlalchemy import select
from support import build_instance
from websupport import Site, build_site, file_report, picture, token_of

from tipline.store.tables import AuditEventRow, ReportFileRow, ReportRow
from tipline.triage.exposure import ExposureTargets, session_exposure


def _files(site: Site, report_id: int) -> dict[str, ReportFileRow]:
    with site.instance.db.transaction() as session:
        return {r.file_name or "": r for r in session.execute(
            select(ReportFileRow).where(ReportFileRow.report_id == report_id)).scalars()}


def _events(site: Site, action: str) -> list[AuditEventRow]:
    with site.instance.db.transaction() as session:
        return list(session.execute(select(AuditEventRow).where(AuditEventRow.action == action)
                                    .order_by(AuditEventRow.seq)).scalars())


def _pixels(content: bytes) -> Any:
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGB")).astype(int)


def _is_grey(pixels: Any) -> bool:
    return bool(np.abs(pixels[..., 0] - pixels[..., 1]).max() <= 3)


def _sharpness(pixels: Any) -> int:
    return int(np.abs(np.diff(pixels[..., 0], axis=1)).max())


def _video(frames: int = 12) -> bytes:
    """A short benign video: coloured blocks that move, encoded in memory."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        for index in range(frames):
            pixels = np.zeros((96, 128, 3), dtype="uint8")
            pixels[20:60, 10 + index * 4:50 + index * 4] = (200, 40, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def test_the_viewer_opens_every_file_blurred_and_grey_and_each_step_towards_clear_is_an_audited_reveal(
        site: Site) -> None:
    report_id = file_report(site, files={"one.png": picture(1), "two.png": picture(2)})
    one, two = _files(site, report_id)["one.png"], _files(site, report_id)["two.png"]
    analyst = site.signed_in("analyst")
    page = analyst.get(f"/reports/{report_id}/files/{one.id}/view").text
    assert f'src="/files/{one.id}/preview?size=large"' in page and "Strong blur, greyscale" in page
    assert f'href="/reports/{report_id}/files/{two.id}/view#viewer"' in page  # the next file, at the default look
    large = _pixels(analyst.get(f"/files/{one.id}/preview?size=large").content)
    assert _is_grey(large) and _sharpness(large) < 40
    assert analyst.get(f"/files/{one.id}/preview?size=large&look=light-grey").status_code == 403  # not revealed
    assert _events(site, "file.revealed") == []

    token = token_of(page)
    step = analyst.post(f"/files/{one.id}/reveal", data={"csrf_token": token, "look": "light-grey", "to": "viewer"})
    assert step.status_code == 303
    viewer = analyst.get(step.headers["location"]).text
    assert "Light blur, greyscale" in viewer and "Less blur: no blur" in viewer
    grant = re.search(r"token=([^&\"#]+)", step.headers["location"]).group(1)  # type: ignore[union-attr]
    light = _pixels(analyst.get(f"/files/{one.id}/preview?size=large&look=light-grey&clear={grant}").content)
    assert _is_grey(light) and _sharpness(light) > _sharpness(large)
    # back to more blur needs no reveal; clearer than the step revealed is refused
    assert analyst.get(f"/files/{one.id}/preview?size=large&look=strong-grey&clear={grant}").status_code == 200
    assert analyst.get(f"/files/{one.id}/preview?size=large&look=none-grey&clear={grant}").status_code == 403
    assert analyst.get(f"/files/{one.id}/preview?size=large&look=light-colour&clear={grant}").status_code == 403
    assert analyst.get(f"/files/{two.id}/preview?size=large&look=light-grey&clear={grant}").status_code == 403

    analyst.post(f"/files/{one.id}/reveal", data={"csrf_token": token, "look": "none-colour", "to": "viewer"})
    assert [(e.actor_name, e.details) for e in _events(site, "file.revealed")] == [
        ("analyst", {"file_id": one.id, "look": "light-grey"}), ("analyst", {"file_id": one.id, "look": "none-colour"})]
    bad = analyst.post(f"/files/{one.id}/reveal", data={"csrf_token": token, "look": "sharp", "to": "viewer"})
    assert bad.status_code == 400 and len(_events(site, "file.revealed")) == 2

    report = analyst.get(f"/reports/{report_id}").text  # the steps are reads: not in the history of changes
    assert "Light blur, greyscale" not in report.split('id="h-history"')[1]
    assert "Light blur, greyscale" in analyst.get(f"/reports/{report_id}?history=all").text.split('id="h-history"')[1]


def test_a_video_shows_its_first_frame_blurred_and_plays_only_after_an_audited_play(site: Site) -> None:
    report_id = file_report(site, files={"clip.mp4": _video()})
    clip = _files(site, report_id)["clip.mp4"]
    assert clip.media_kind == "video"
    analyst = site.signed_in("analyst")
    page = analyst.get(f"/reports/{report_id}/files/{clip.id}/view").text
    assert "<video" not in page and "autoplay" not in page and "Play the video" in page
    poster = _pixels(analyst.get(f"/files/{clip.id}/preview?size=large").content)
    assert _is_grey(poster)
    assert analyst.get(f"/files/{clip.id}/media").status_code == 403

    played = analyst.post(f"/files/{clip.id}/reveal", data={"csrf_token": token_of(page), "look": "strong-grey",
                                                            "play": "1", "to": "viewer"})
    assert played.status_code == 303
    viewer = analyst.get(played.headers["location"]).text
    media_url = re.search(r'<video[^>]* src="([^"]+)"', viewer).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    assert "autoplay" not in viewer and 'class="viewer-media zoom-100 look-strong-grey"' in viewer
    assert analyst.get(media_url).content == _video()
    assert site.signed_in("supervisor").get(media_url).status_code == 403  # only in the session that pressed Play
    assert [e.details for e in _events(site, "file.revealed")] == [
        {"file_id": clip.id, "look": "strong-grey", "play": True}]
    picture_id = _files(site, file_report(site, files={"a.png": picture()}))["a.png"].id
    refused = analyst.post(f"/files/{picture_id}/reveal", data={"csrf_token": token_of(page), "play": "1"})
    assert refused.status_code == 400 and len(_events(site, "file.revealed")) == 1


def test_the_exposure_counter_rises_with_each_file_revealed_and_reminds_at_the_configured_level(
        tmp_path: Any, request: Any, backend: str) -> None:
    instance = build_instance(tmp_path / "data", backend, request, TIPLINE_EXPOSURE_SESSION_FILES="2")
    try:
        site = build_site(instance)
        report_id = file_report(site, files={"one.png": picture(1), "two.png": picture(2)})
        files = _files(site, report_id)
        analyst = site.signed_in("analyst")
        page = analyst.get(f"/reports/{report_id}").text
        assert re.search(r"<strong data-exposure-files>0</strong> files revealed", page)
        assert 'id="break-reminder" role="alert" hidden' in page
        token = token_of(page)
        for look in ("light-grey", "none-grey"):  # two steps on one file: one file
            analyst.post(f"/files/{files['one.png'].id}/reveal", data={"csrf_token": token, "look": look})
        page = analyst.get(f"/reports/{report_id}/files/{files['one.png'].id}/view").text
        assert re.search(r"<strong data-exposure-files>1</strong> file revealed", page)
        assert 'id="break-reminder" role="alert" hidden' in page
        answer = analyst.post(f"/files/{files['two.png'].id}/reveal", data={"csrf_token": token},
                              headers={"Accept": "application/json"}).json()
        assert answer["exposure"]["files"] == 2 and answer["exposure"]["break_due"] is True
        page = analyst.get(f"/reports/{report_id}").text
        assert re.search(r"<strong data-exposure-files>2</strong> files revealed", page)
        assert 'id="break-reminder" role="alert">' in page
        other = site.signed_in("analyst").get(f"/reports/{report_id}").text  # a new sign-in starts again
        assert re.search(r"<strong data-exposure-files>0</strong> files revealed", other)
    finally:
        instance.close()


def test_time_revealed_counts_each_reveal_for_its_token_life_and_overlaps_once() -> None:
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    lasts = timedelta(minutes=5)
    reveals = [(start, "a"), (start + timedelta(minutes=2), "a"), (start + timedelta(minutes=20), "b")]
    figures = session_exposure(reveals, start + timedelta(minutes=22), ExposureTargets(session_minutes=10), lasts)
    assert (figures.files, figures.reveals, figures.revealed_for) == (2, 3, timedelta(minutes=9))  # 0-7 and 20-22
    assert not figures.break_due
    assert session_exposure(reveals, start + timedelta(hours=1), ExposureTargets(session_minutes=12), lasts).break_due
    assert session_exposure(reveals, start + timedelta(hours=1), ExposureTargets(session_files=2), lasts).break_due
    assert session_exposure([], start, ExposureTargets(), lasts).revealed_for == timedelta()


def test_one_form_classifies_the_chosen_files_and_an_archive_by_the_files_inside_it(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("trip/in1.png", picture(4))
        zipped.writestr("trip/in2.png", picture(5))
    report_id = file_report(site, files={"a.png": picture(1), "b.png": picture(2), "trip.zip": archive.getvalue()})
    files = _files(site, report_id)
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get(f"/reports/{report_id}").text)

    def version() -> int:
        with site.instance.db.transaction() as session:
            return session.get(ReportRow, report_id).version

    assert analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token, "version": version()}).status_code == 303
    page = analyst.get(f"/reports/{report_id}").text
    assert page.count('action="/reports/%d/classification"' % report_id) == 1  # one form, not one per file
    assert "/classification\" class=\"decision\"" not in page.replace(f"/reports/{report_id}/classification", "")
    assert "A prepubescent child (A), with a sex act (1)." in page  # the inline help
    assert "The file involves an animal." in page
    assert "an archive: classifies the 2 files inside" in page

    before = version()
    answer = analyst.post(f"/reports/{report_id}/classification", data={
        "csrf_token": token, "version": before, "classification": "B2", "annotation": ["viral"],
        "file": [files["a.png"].id, files["trip.zip"].id]})
    assert answer.status_code == 303
    now = _files(site, report_id)
    assert {name: row.reviewed_classification for name, row in now.items()} == {
        "a.png": "B2", "b.png": None, "trip.zip": None, "in1.png": "B2", "in2.png": "B2"}
    assert now["in1.png"].reviewed_annotations == {"annotations": ["viral"]}
    assert sorted(e.details["file_id"] for e in _events(site, "review.file_classified")) == sorted(
        [files["a.png"].id, files["in1.png"].id, files["in2.png"].id])  # one event per file, attributable
    assert version() == before + 1
    assert "Classified by the files inside: 2 B2" in analyst.get(f"/reports/{report_id}").text

    for refused, reason in (({"file": []}, "choose at least one file to classify"),
                            ({"file": [files["b.png"].id], "classification": ""}, "choose a classification"),
                            ({"file": [files["b.png"].id], "annotation": ["glitter"]}, "unknown file annotations")):
        data = {"csrf_token": token, "version": version(), "classification": "A1", **refused}
        answer = analyst.post(f"/reports/{report_id}/classification", data=data)
        assert answer.status_code == 400 and reason in answer.text and "Sign out" in answer.text  # the page again
    assert _files(site, report_id)["b.png"].reviewed_classification is None  # nothing half-written
