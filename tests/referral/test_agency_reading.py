"""An agency reads a referral in the browser with its own key, given for the session: the package is
checked against the hotline's signature first, only that agency's referral opens, files are blurred
and greyscale until a deliberate reveal, and every step is audited."""

from __future__ import annotations

import io

from PIL import Image
from referralsupport import CHAT_LOG, Portal, csrf_of, png_bytes
from sqlalchemy import select

from tipline.referral.reading import KEY_COOKIE
from tipline.referral.service import package_path
from tipline.store.referrals import ReferralRow
from tipline.store.tables import AuditEventRow, ReportFileRow


def events(portal: Portal, report_id: int) -> list[tuple[str, dict]]:
    with portal.instance.db.transaction() as session:
        return [(row.action, row.details) for row in session.execute(
            select(AuditEventRow).where(AuditEventRow.report_id == report_id).order_by(AuditEventRow.seq)).scalars()]


def photo_of(portal: Portal, report_id: int) -> str:
    with portal.instance.db.transaction() as session:
        return session.execute(select(ReportFileRow.id).where(
            ReportFileRow.report_id == report_id, ReportFileRow.file_name == "photo.png")).scalar_one()


def give_key(portal: Portal, client, referral_id: int, agency: str = "us-il-tf"):  # type: ignore[no-untyped-def]
    token = csrf_of(client, f"/agency/referrals/{referral_id}/read")
    key = portal.directory.key_files[agency].read_bytes()
    return client.post(f"/agency/referrals/{referral_id}/key", data={"csrf_token": token},
                       files={"key_file": ("agency.key", key, "application/octet-stream")})


def test_the_agency_reads_the_verified_report_with_its_key_and_every_step_is_audited(sqlite_portal: Portal) -> None:
    portal = sqlite_portal
    colour = (200, 40, 40)
    report_id, referral_id = portal.referred("us-il-tf", files=[("chat-log.txt", CHAT_LOG),
                                                                ("photo.png", png_bytes(colour))])
    photo = photo_of(portal, report_id)
    client = portal.site.signed_in("agency")

    asking = client.get(f"/agency/referrals/{referral_id}/read")
    assert asking.status_code == 200 and "Open it with your agency's key" in asking.text
    assert "NightOwl77" not in asking.text  # nothing of the report before the key
    assert client.get(f"/agency/referrals/{referral_id}/files/{photo}/preview").status_code == 403

    wrong = give_key(portal, client, referral_id, agency="gb-ncsu")
    assert wrong.status_code == 400 and "is not the one this referral was encrypted to" in wrong.text
    assert KEY_COOKIE not in client.cookies

    given = give_key(portal, client, referral_id)
    assert given.status_code == 303 and given.headers["location"] == f"/agency/referrals/{referral_id}/read"
    page = client.get(f"/agency/referrals/{referral_id}/read")
    assert page.status_code == 200
    assert "Checked: signed by the hotline" in page.text
    for fact in ("NightOwl77", "Springfield", "night.owl@example.com", "photo.png", "Identifiers"):
        assert fact in page.text, fact
    assert f"/agency/referrals/{referral_id}/files/{photo}/preview" in page.text

    blurred = client.get(f"/agency/referrals/{referral_id}/files/{photo}/preview")
    assert blurred.status_code == 200 and blurred.headers["content-type"] == "image/jpeg"
    red, green, blue = Image.open(io.BytesIO(blurred.content)).convert("RGB").getpixel((2, 2))
    assert abs(red - green) <= 3 and abs(green - blue) <= 3  # greyscale, not the red of the picture

    token = csrf_of(client, f"/agency/referrals/{referral_id}/read")
    revealed = client.post(f"/agency/referrals/{referral_id}/files/{photo}/reveal", data={"csrf_token": token})
    assert revealed.status_code == 303
    clear_page = client.get(revealed.headers["location"])
    clear_url = f"/agency/referrals/{referral_id}/files/{photo}/preview?clear="
    assert clear_url in clear_page.text
    clear_token = revealed.headers["location"].split("token=")[1].split("#")[0]
    clear = client.get(clear_url + clear_token)
    red, green, blue = Image.open(io.BytesIO(clear.content)).convert("RGB").getpixel((2, 2))
    assert red > green + 100  # the picture's own colour
    forged = client.get(clear_url + "9999999999.00")
    assert forged.status_code == 403

    audited = events(portal, report_id)
    actions = [action for action, _ in audited]
    for action in ("referral.key_refused", "referral.key_supplied", "referral.read", "referral.file_revealed"):
        assert action in actions, action
    purposes = [d["purpose"] for a, d in audited if a == "referral.file_read"]
    assert purposes == ["blurred preview", "revealed preview"]  # the one blurred fetch, then the reveal
    supplied = next(d for a, d in audited if a == "referral.key_supplied")
    assert supplied["key_id"] and "key" not in {k for k in supplied if k != "key_id" and k != "referral_id"}
    with portal.instance.db.transaction() as session:
        assert session.get(ReferralRow, referral_id).opened_by == "agency"
    assert client.get(f"/agency/referrals/{referral_id}/package").status_code == 200  # the package stays


def test_the_key_works_only_in_the_sign_in_it_was_given_in(sqlite_portal: Portal) -> None:
    portal = sqlite_portal
    _report_id, referral_id = portal.referred("us-il-tf")
    first = portal.site.signed_in("agency")
    assert give_key(portal, first, referral_id).status_code == 303
    sealed = first.cookies[KEY_COOKIE]
    assert portal.directory.key_files["us-il-tf"].read_bytes().hex() not in sealed

    second = portal.site.signed_in("agency")  # the same person, another sign-in, with the cookie copied
    second.cookies.set(KEY_COOKIE, sealed, path="/agency")
    assert "Open it with your agency's key" in second.get(f"/agency/referrals/{referral_id}/read").text

    token = csrf_of(first, f"/agency/referrals/{referral_id}/read")
    first.post("/agency/key/forget", data={"csrf_token": token})
    assert "Open it with your agency's key" in first.get(f"/agency/referrals/{referral_id}/read").text

    other = portal.site.signed_in("agency2")  # another agency, even with a cookie, sees no such referral
    other.cookies.set(KEY_COOKIE, sealed, path="/agency")
    assert other.get(f"/agency/referrals/{referral_id}/read").status_code == 404


def test_an_altered_package_shows_nothing_of_its_content(sqlite_portal: Portal) -> None:
    portal = sqlite_portal
    _report_id, referral_id = portal.referred("us-il-tf")
    client = portal.site.signed_in("agency")
    give_key(portal, client, referral_id)
    with portal.instance.db.transaction() as session:
        path = package_path(portal.instance.settings, session.get(ReferralRow, referral_id))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    page = client.get(f"/agency/referrals/{referral_id}/read")
    assert page.status_code == 422 and "cannot be opened" in page.text
    assert "NightOwl77" not in page.text
