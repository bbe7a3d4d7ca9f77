"""The Reporting API from a client's side, over real HTTP against uvicorn on localhost: every
endpoint, the documented response codes, the lifecycle, and bad input that must store nothing."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import pytest
import requests
from intake_client import XML, Esp, answer, benign_bytes
from intake_documents import DOC_EXAMPLE, FILE_DETAILS_EXAMPLE, file_details
from intake_xsdwalk import XSD
from sqlalchemy import func, select

from tipline.intake.cybertipline import service
from tipline.store.tables import AuditEventRow, BlobRow, ReportFileRow, ReportRow

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def esp(api, name: str = "chirp") -> Esp:  # type: ignore[no-untyped-def]
    return Esp(api.base, api.session(name))


def opened(client: Esp) -> int:
    result = client.submit(DOC_EXAMPLE)
    assert (result.status, result.code) == (200, 0), result.description
    return result.report_id  # type: ignore[return-value]


def counts(api) -> dict[str, int]:  # type: ignore[no-untyped-def]
    instance = api.instance
    with instance.db.transaction() as session:
        result = {
            "reports": session.execute(select(func.count()).select_from(ReportRow)).scalar_one(),
            "files": session.execute(select(func.count()).select_from(ReportFileRow)).scalar_one(),
            "blobs": session.execute(select(func.count()).select_from(BlobRow)).scalar_one(),
        }
    store = Path(instance.settings.file_store_dir)
    result["blob_files"] = sum(1 for p in store.rglob("*") if p.is_file()) if store.exists() else 0
    return result


# --- the transaction of the documentation ----------------------------------------------------------


def test_a_complete_report_transaction(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api)
    status = answer(client.http.get(f"{api.base}/status"))
    assert (status.status, status.code) == (200, 0)
    assert status.description == "Remote User : chirp, Remote Ip : 127.0.0.1"

    submitted = client.submit(DOC_EXAMPLE)
    assert (submitted.status, submitted.root, submitted.code, submitted.description) == (
        200, "reportResponse", 0, "Success")
    report_id = submitted.report_id
    assert report_id is not None
    assert submitted.headers.get("request-id")

    first, second = benign_bytes(5000, seed=1), benign_bytes(7000, seed=2)
    up1 = client.upload(report_id, first, "file.jpg")
    assert (up1.status, up1.code, up1.report_id) == (200, 0, report_id)
    assert up1.hash == hashlib.md5(first).hexdigest()
    up2 = client.upload(report_id, second, "other.png")
    assert up2.hash == hashlib.md5(second).hexdigest()
    assert up1.file_id != up2.file_id

    details = client.fileinfo(FILE_DETAILS_EXAMPLE.format(report_id=report_id, file_id=up1.file_id).encode())
    assert (details.status, details.code, details.report_id) == (200, 0, report_id)

    done = answer(client.http.post(f"{api.base}/finish", files={"id": (None, str(report_id))}))
    assert (done.status, done.root, done.code, done.report_id) == (200, "reportDoneResponse", 0, report_id)
    assert done.files == [up1.file_id, up2.file_id]

    instance = api.instance
    with instance.db.transaction() as session:
        row = session.get(ReportRow, report_id)
        assert (row.state, row.source) == ("received", "esp_xml")
        files = {f.id: f for f in session.execute(select(ReportFileRow).where(ReportFileRow.report_id == report_id))
                 .scalars()}
        assert files[up1.file_id].file_name == "file.jpg"
        assert files[up1.file_id].size == 5000
        assert files[up1.file_id].details["originalFileName"] == "mypic.jpg"
        assert files[up1.file_id].details["ipCaptureEvent"]["ipAddress"] == "63.116.246.17"
        assert files[up2.file_id].details is None
        with instance.files.open_for_system(session, up2.file_id, instance.audit and _actor(), "test") as reader:
            assert reader.read() == second
    api.site.drain()
    with instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).state == "awaiting_review"


def _actor():  # type: ignore[no-untyped-def]
    from tipline.domain.audit import Actor

    return Actor.system("test")


def test_the_xsd_endpoint_serves_the_shipped_schema(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    response = esp(sqlite_api).http.get(f"{sqlite_api.base}/xsd")
    assert response.status_code == 200
    assert response.content == XSD.read_bytes()


def test_finish_and_retract_accept_urlencoded_forms_too(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = esp(sqlite_api)
    report_id = opened(client)
    done = answer(client.http.post(f"{sqlite_api.base}/finish", data={"id": str(report_id)}))
    assert (done.status, done.code, done.files) == (200, 0, [])
    other = opened(client)
    cancelled = answer(client.http.post(f"{sqlite_api.base}/retract", data={"id": str(other)}))
    assert (cancelled.status, cancelled.code, cancelled.report_id) == (200, 0, other)


# --- authentication and ownership ------------------------------------------------------------------


def test_authentication_is_required(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    for method, path in [("GET", "status"), ("GET", "xsd"), ("POST", "submit"), ("POST", "upload"),
                         ("POST", "fileinfo"), ("POST", "finish"), ("POST", "retract")]:
        for auth in (None, ("chirp", "wrong secret"), ("nobody", "x")):
            response = requests.request(method, f"{sqlite_api.base}/{path}", auth=auth, data=b"<report/>",
                                        headers=XML)
            result = answer(response)
            assert (result.status, result.code) == (401, 2000), (path, auth)
            assert response.headers["www-authenticate"].startswith("Basic ")


def test_staff_logins_may_not_submit(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    from websupport import PASSWORD

    browser = requests.Session()
    page = browser.get(f"{sqlite_api.server.url}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    login = browser.post(f"{sqlite_api.server.url}/login", allow_redirects=False,
                         data={"username": "analyst", "password": PASSWORD, "csrf_token": token})
    assert login.status_code == 303
    result = answer(browser.get(f"{sqlite_api.base}/status"))
    assert (result.status, result.code) == (403, 3100)
    # a person's password over HTTP Basic is not an API credential here
    result = answer(requests.get(f"{sqlite_api.base}/status", auth=("analyst", PASSWORD)))
    assert (result.status, result.code) == (401, 2000)


def test_another_providers_report_answers_exactly_like_a_missing_one(api) -> None:  # type: ignore[no-untyped-def]
    chirp, pixelgram = esp(api, "chirp"), esp(api, "pixelgram")
    report_id = opened(chirp)
    upload = chirp.upload(report_id, benign_bytes(100))
    missing_id = report_id + 1000

    def normalised(result) -> tuple:  # type: ignore[no-untyped-def]
        return result.status, result.code, (result.description or "").replace(str(missing_id), "N").replace(
            str(report_id), "N")

    pairs = [
        (pixelgram.upload(report_id, b"x"), pixelgram.upload(missing_id, b"x")),
        (pixelgram.fileinfo(file_details(report_id, upload.file_id, "")),
         pixelgram.fileinfo(file_details(missing_id, upload.file_id, ""))),
        (pixelgram.finish(report_id), pixelgram.finish(missing_id)),
        (pixelgram.retract(report_id), pixelgram.retract(missing_id)),
    ]
    for theirs, missing in pairs:
        assert (theirs.status, theirs.code) == (404, 5001)
        assert normalised(theirs) == normalised(missing)
    # chirp's report is untouched
    assert chirp.finish(report_id).files == [upload.file_id]


# --- the lifecycle -------------------------------------------------------------------------------


def test_finished_reports_cannot_change(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api)
    report_id = opened(client)
    upload = client.upload(report_id, benign_bytes(300))
    assert client.finish(report_id).code == 0
    for result in (client.finish(report_id), client.upload(report_id, benign_bytes(10)),
                   client.fileinfo(file_details(report_id, upload.file_id, "<fileName>a.jpg</fileName>")),
                   client.retract(report_id)):
        assert (result.status, result.code) == (409, 5102), result.description
    with api.instance.db.transaction() as session:
        assert session.execute(select(func.count()).select_from(ReportFileRow)).scalar_one() == 1


def test_retracted_reports_cannot_change(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api)
    report_id = opened(client)
    upload = client.upload(report_id, benign_bytes(300))
    cancelled = client.retract(report_id)
    assert (cancelled.status, cancelled.code, cancelled.report_id) == (200, 0, report_id)
    for result in (client.retract(report_id), client.finish(report_id), client.upload(report_id, benign_bytes(10)),
                   client.fileinfo(file_details(report_id, upload.file_id, ""))):
        assert (result.status, result.code) == (409, 5101), result.description
    with api.instance.db.transaction() as session:
        assert session.get(ReportRow, report_id).state == "retracted"


def test_file_details_are_taken_once_per_file_of_the_same_report(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api)
    report_id, other_id = opened(client), opened(client)
    upload = client.upload(report_id, benign_bytes(300))
    other_upload = client.upload(other_id, benign_bytes(301))
    assert client.fileinfo(file_details(report_id, upload.file_id, "<fileName>a.jpg</fileName>")).code == 0
    again = client.fileinfo(file_details(report_id, upload.file_id, "<fileName>b.jpg</fileName>"))
    assert (again.status, again.code) == (400, 4000)
    assert "once per file" in (again.description or "")
    unknown = client.fileinfo(file_details(report_id, "0" * 32, ""))
    assert (unknown.status, unknown.code) == (404, 5002)
    elsewhere = client.fileinfo(file_details(report_id, other_upload.file_id, ""))
    assert (elsewhere.status, elsewhere.code) == (404, 5002)
    with api.instance.db.transaction() as session:
        assert session.get(ReportFileRow, upload.file_id).details == {"fileName": "a.jpg"}
        assert session.get(ReportFileRow, other_upload.file_id).details is None


def test_every_change_of_an_open_report_updates_its_last_change_time(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api)
    report_id = opened(client)

    def updated_at():  # type: ignore[no-untyped-def]
        with api.instance.db.transaction() as session:
            return session.get(ReportRow, report_id).updated_at

    at_open = updated_at()
    time.sleep(0.01)
    upload = client.upload(report_id, benign_bytes(64))
    after_upload = updated_at()
    assert after_upload > at_open
    time.sleep(0.01)
    assert client.fileinfo(file_details(report_id, upload.file_id, "")).code == 0
    assert updated_at() > after_upload


# --- bad input -----------------------------------------------------------------------------------


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                  b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><report>&c;</report>')


def test_bad_submissions_answer_precisely_and_store_nothing(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api)
    before = counts(api)
    cases = [
        (DOC_EXAMPLE.replace(b"</report>", b""), XML, 400, 4110, "line"),
        (b"", XML, 400, 4110, "empty"),
        (DOC_EXAMPLE.replace(b"<lastName>", b"<surname>").replace(b"</lastName>", b"</surname>"), XML, 400, 4100,
         "surname"),
        (DOC_EXAMPLE.replace(b"T08:00:00-07:00", b"T08:00:00"), XML, 400, 4100, "incidentDateTime"),
        (BILLION_LAUGHS, XML, 400, 4110, "DOCTYPE"),
        (b'<?xml version="1.0"?><!DOCTYPE report [<!ENTITY x SYSTEM "file:///etc/passwd">]><report>&x;</report>',
         XML, 400, 4110, "DOCTYPE"),
        (DOC_EXAMPLE.replace(b"John", "Jörg".encode("latin-1")), XML, 400, 4110, "UTF-8"),
        (DOC_EXAMPLE, {"Content-Type": "text/xml; charset=iso-8859-1"}, 415, 4110, "charset"),
        (b'{"reporter": {}}', {"Content-Type": "application/json"}, 415, 4000, "Content-Type"),
        (FILE_DETAILS_EXAMPLE.format(report_id=1, file_id="f").encode(), XML, 400, 4100, "<report>"),
    ]
    for body, headers, status, code, hint in cases:
        result = client.submit(body, headers=headers)
        assert (result.status, result.code) == (status, code), (hint, result.description)
        assert hint in (result.description or ""), result.description
        assert "Traceback" not in (result.description or "")
    assert counts(api) == before


def test_bad_uploads_answer_precisely_and_store_nothing(api) -> None:  # type: ignore[no-untyped-def]
    client = esp(api)
    report_id = opened(client)
    finished_id = opened(client)
    client.finish(finished_id)
    before = counts(api)
    url = f"{api.base}/upload"
    cases = [
        (dict(files={"id": (None, str(report_id))}), 400, 4200, "'file'"),
        (dict(files={"file": ("a.jpg", b"abc")}), 400, 4000, "'id'"),
        (dict(data={"id": "12; drop"}, files={"file": ("a.jpg", b"abc")}), 400, 4000, "'id'"),
        (dict(data={"id": str(report_id)}, files={"file": ("a.jpg", b"")}), 400, 4200, "empty"),
        (dict(data={"id": str(report_id + 999)}, files={"file": ("a.jpg", b"abc")}), 404, 5001, "no report"),
        (dict(data={"id": str(finished_id)}, files={"file": ("a.jpg", b"abc")}), 409, 5102, "finished"),
        (dict(data=b"id=1", headers={"Content-Type": "application/x-www-form-urlencoded"}), 415, 4000,
         "multipart"),
        (dict(data=b"--xyz\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n1\r\n--xyz\r\nContent-Disp",
              headers={"Content-Type": "multipart/form-data; boundary=xyz"}), 400, 4200, "closing boundary"),
    ]
    for kwargs, status, code, hint in cases:
        result = answer(client.http.post(url, **kwargs))
        assert (result.status, result.code) == (status, code), (hint, result.description)
        assert hint in (result.description or ""), result.description
    assert counts(api) == before


def test_an_upload_whose_stored_twin_was_collected_meanwhile_is_refused_as_upload_failed(
        api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The writer found identical content already stored and kept no copy, and the collector removed
    it before registration: the ESP hears the documented 'Upload failed' and may send it again."""
    client = esp(api)
    report_id = opened(client)
    data = benign_bytes(3000, seed=77)
    before = counts(api)
    monkeypatch.setattr(api.instance.files.blobs, "exists", lambda address: False)
    result = client.upload(report_id, data, "clip.bin")
    assert (result.status, result.code) == (500, 1110)
    assert "send the file again" in (result.description or "")
    monkeypatch.undo()
    with api.instance.db.transaction() as session:
        assert session.execute(select(ReportFileRow).where(ReportFileRow.report_id == report_id)).first() is None
    assert client.upload(report_id, data, "clip.bin").code == 0  # sent again: stored
    assert counts(api) != before


def test_file_names_with_path_components_are_cleaned(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = esp(sqlite_api)
    report_id = opened(client)
    names = {}
    for raw in ("../../etc/evidence.jpg", "/home/trust/uploads/clip.mp4", "C:\\Users\\mod\\shot.png"):
        result = client.upload(report_id, benign_bytes(50, seed=len(raw)), raw)
        assert result.code == 0
        names[result.file_id] = raw
    with sqlite_api.instance.db.transaction() as session:
        stored = {f: session.get(ReportFileRow, f).file_name for f in names}
    assert sorted(stored.values()) == ["clip.mp4", "evidence.jpg", "shot.png"]


def test_oversized_uploads_are_refused_and_leave_nothing(small_upload_api) -> None:  # type: ignore[no-untyped-def]
    api = small_upload_api
    client = esp(api)
    report_id = opened(client)
    before = counts(api)
    boundary = "bnd123"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\n{report_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n').encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks():  # type: ignore[no-untyped-def]
        yield body
        for _ in range(10):
            yield benign_bytes(1000)
        yield tail

    # streamed without a Content-Length: refused while it arrives, as XML
    response = client.http.post(f"{api.base}/upload", data=chunks(),
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    result = answer(response)
    assert (result.status, result.code) == (413, 1111)
    assert "4096" in (result.description or "").replace(",", "")
    # with a Content-Length over the limit: refused by the shared body limit before anything is read
    declared = client.http.post(f"{api.base}/upload", data={"id": str(report_id)},
                                files={"file": ("big.bin", benign_bytes(10_000))})
    assert declared.status_code == 413
    assert counts(api) == before
    assert client.upload(report_id, benign_bytes(2000)).code == 0  # under the limit: fine


def test_an_upload_never_puts_plaintext_on_disk(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    client = esp(sqlite_api)
    report_id = opened(client)
    marker = b"PLAINTEXT-MARKER-" + os.urandom(8).hex().encode()
    payload = (marker + benign_bytes(4000)) * 40  # 160 KB, the marker in every 4 KB
    started = time.time()
    roots = [Path(sqlite_api.instance.settings.data_dir), Path(tempfile.gettempdir())]
    seen_mid_upload: list[bool] = []

    def on_disk() -> bool:
        # other programs create and delete files in the temporary directory meanwhile: skip what vanishes
        for root in roots:
            for folder, _dirs, names in os.walk(root, onerror=lambda _error: None):
                for name in names:
                    path = Path(folder) / name
                    try:
                        info = path.stat()
                        if info.st_mtime >= started - 1 and info.st_size < 50_000_000 and marker in path.read_bytes():
                            return True
                    except OSError:
                        continue
        return False

    boundary = "plainbnd"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\n{report_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n\r\n').encode()

    def chunks():  # type: ignore[no-untyped-def]
        yield head
        yield payload[: len(payload) // 2]
        time.sleep(0.3)  # the server holds half the file now
        seen_mid_upload.append(on_disk())
        yield payload[len(payload) // 2:]
        yield f"\r\n--{boundary}--\r\n".encode()

    result = answer(client.http.post(f"{sqlite_api.base}/upload", data=chunks(),
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}))
    assert result.code == 0
    assert result.hash == hashlib.md5(payload).hexdigest()
    assert seen_mid_upload == [False]
    assert not on_disk()


def test_a_server_fault_is_the_documented_server_error_without_a_trace(sqlite_api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client = esp(sqlite_api)
    report_id = opened(client)

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "finish", broken)
    response = client.http.post(f"{sqlite_api.base}/finish", files={"id": (None, str(report_id))})
    result = answer(response)
    assert (result.status, result.code) == (500, 1000)
    assert "disk on fire" not in response.text and "Traceback" not in response.text
    assert response.headers["request-id"] in (result.description or "")


def test_finish_and_retract_need_the_id_field(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = esp(sqlite_api)
    for path in ("finish", "retract"):
        for kwargs, status, code in [
            (dict(files={"other": (None, "1")}), 400, 4000),
            (dict(data={"id": "abc"}), 400, 4000),
            (dict(data=b"<x/>", headers=XML), 415, 4000),
            (dict(data={"id": "987654"}), 404, 5001),
        ]:
            result = answer(client.http.post(f"{sqlite_api.base}/{path}", **kwargs))
            assert (result.status, result.code) == (status, code), (path, kwargs, result.description)


def test_audit_records_every_change(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = esp(sqlite_api)
    report_id = opened(client)
    upload = client.upload(report_id, benign_bytes(64))
    client.fileinfo(file_details(report_id, upload.file_id, ""))
    client.finish(report_id)
    with sqlite_api.instance.db.transaction() as session:
        actions = list(session.execute(select(AuditEventRow.action, AuditEventRow.actor_name)
                                       .where(AuditEventRow.report_id == report_id).order_by(AuditEventRow.seq)))
    assert [a for a, _ in actions] == ["report.submitted", "file.added", "file.details_set", "report.state_changed"]
    assert {name for _, name in actions} == {"chirp"}


def test_a_disabled_account_stops_working_within_the_credential_ttl(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    from tipline.store.tables import ApiAccount
    from tipline.web.routes.ispws import VerifiedCredentials

    sqlite_api.site.app.state.ispws_credentials = VerifiedCredentials(ttl=0.5)
    client = esp(sqlite_api)
    assert answer(client.http.get(f"{sqlite_api.base}/status")).code == 0
    with sqlite_api.instance.db.transaction() as session:
        account = session.execute(select(ApiAccount).where(ApiAccount.username == "chirp")).scalar_one()
        account.active = False
    time.sleep(0.6)
    result = answer(client.http.get(f"{sqlite_api.base}/status"))
    assert (result.status, result.code) == (401, 2000)
    # a wrong secret is never answered from memory
    wrong = answer(requests.get(f"{sqlite_api.base}/status", auth=("pixelgram", "not-the-secret")))
    assert wrong.code == 2000


def test_a_large_upload_to_an_unknown_report_is_answered_not_cut_off(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    client = esp(sqlite_api)
    before = counts(sqlite_api)
    result = client.upload(987654, benign_bytes(3_000_000))  # id first, as the documentation sends it
    assert (result.status, result.code) == (404, 5001)
    assert counts(sqlite_api) == before
    assert client.upload(opened(client), benign_bytes(10)).code == 0  # the connection is still usable
