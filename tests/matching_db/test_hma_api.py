"""The HMA-compatible endpoints: HMA 2.0's paths and JSON shapes (as its docs/api.md and blueprints write
them), tipline's roles, precise refusals of bad input, uploads that never touch the disk, changes that
match at once in this process and within a second in another, and ignore banks that silence matches.
Expected distances are computed here from the hashes the test made; md5s with hashlib; PDQ with
pdqhash directly."""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import av
import numpy as np
import pdqhash
import pytest
from banks_db_support import csrf_headers, flip_bits, hamming, picture, png, rand_hex, within
from PIL import Image
from sqlalchemy import select
from support import build_instance
from websupport import PASSWORD, Site, build_site

from tipline.store.banks import MatcherSync
from tipline.store.tables import AuditEventRow, BankEntryRow

PDQ_THRESHOLD = 31  # HMA's and tipline's default PDQ match distance


def _supervisor(site: Site) -> Any:
    client = site.signed_in("supervisor")
    client.headers.update(csrf_headers(client))
    return client


def _create(client: Any, name: str, **extra: Any) -> Any:
    response = client.post("/c/banks", json={"name": name, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _video(seconds: float = 2.0, fps: int = 10, seed: int = 4) -> bytes:
    """A short generated video: a picture panning sideways, encoded in memory."""
    width, height = 96, 64
    wide = np.asarray(picture(seed, (width * 2, height)))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(int(seconds * fps)):
            shift = int(index * width / (seconds * fps))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(wide[:, shift:shift + width]), format="rgb24")
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def _reference_pdq(image: Image.Image) -> str:
    bits, _quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


# --- banks ---------------------------------------------------------------------------------------------------


def test_banks_are_created_listed_and_read_in_hma_shapes(site: Site) -> None:
    supervisor = _supervisor(site)
    assert _create(supervisor, "TEST_BANK") == {"name": "TEST_BANK", "matching_enabled_ratio": 1.0,
                                                "kind": "known_material", "pdq_threshold": 31, "description": ""}
    assert _create(supervisor, "FALSE_POSITIVES", kind="ignore", pdq_threshold=20, enabled=True,
                   description="benign look-alikes")["kind"] == "ignore"
    expected = [
        {"name": "FALSE_POSITIVES", "matching_enabled_ratio": 1.0, "kind": "ignore", "pdq_threshold": 20,
         "description": "benign look-alikes"},
        {"name": "TEST_BANK", "matching_enabled_ratio": 1.0, "kind": "known_material", "pdq_threshold": 31,
         "description": ""},
    ]
    analyst = site.signed_in("analyst")
    assert analyst.get("/c/banks").json() == expected
    assert analyst.get("/c/bank/TEST_BANK").json() == expected[1]

    def refused(response: Any, status: int, *fragments: str) -> None:
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"message", "error"}
        for fragment in fragments:
            assert fragment in body["message"], body

    refused(analyst.get("/c/bank/NOPE"), 404, "bank 'NOPE' not found")
    refused(supervisor.post("/c/banks", json={"name": "TEST_BANK"}), 403, "already exists")  # HMA answers 403
    refused(supervisor.post("/c/banks", json={"name": "has spaces"}), 400, "letters, digits")
    refused(supervisor.post("/c/banks", json={"name": "HALF", "enabled_ratio": 0.5}), 400, "enabled_ratio")
    refused(supervisor.post("/c/banks", json={"name": "OFF", "enabled": False}), 400, "enabled_ratio")
    refused(supervisor.post("/c/banks", json={"name": "K", "kind": "famous"}), 400, "kind must be one of")
    refused(supervisor.post("/c/banks", json={"name": "T", "pdq_threshold": 300}), 400, "0 to 256")
    refused(supervisor.post("/c/banks", json={}), 400, "name is required")
    refused(supervisor.post("/c/banks", json=["TEST"]), 400, "JSON object")
    refused(supervisor.post("/c/banks", content=b"{not json", headers={"content-type": "application/json"}),
            400, "not valid JSON")
    refused(supervisor.post("/c/banks", data={"name": "FORM"}), 415, "application/json")
    assert [b["name"] for b in analyst.get("/c/banks").json()] == ["FALSE_POSITIVES", "TEST_BANK"]
    with site.instance.db.transaction() as session:
        created = session.execute(select(AuditEventRow).where(AuditEventRow.action == "bank.created")).scalars().all()
        assert [(e.actor_name, e.details["bank"]) for e in created] == [
            ("supervisor", "TEST_BANK"), ("supervisor", "FALSE_POSITIVES")]


# --- signals: added, looked up, disabled, enabled ----------------------------------------------------------


def test_signals_are_added_and_looked_up_in_hma_shapes(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    supervisor = _supervisor(site)
    _create(supervisor, "TEST_BANK")
    _create(supervisor, "OTHER_BANK")
    pdq, md5 = rand_hex(64), rand_hex(32)
    added = supervisor.post("/c/bank/TEST_BANK/signal", json={"pdq": pdq.upper(), "md5": md5},
                            params={"classification": "A1", "series": "Lighthouse", "source": "NCMEC",
                                    "source_id": "case-9"})
    assert added.status_code == 200, added.text
    body = added.json()
    assert body == {"id": body["entry_ids"]["pdq"], "signals": {"pdq": pdq, "md5": md5},
                    "entry_ids": {"pdq": body["entry_ids"]["pdq"], "md5": body["entry_ids"]["md5"]},
                    "not_added": {}}
    other = supervisor.post("/c/bank/OTHER_BANK/signal", json={"pdq": flip_bits(pdq, 12, seed=5)}).json()

    esp = site.esp()  # a service provider looks up; the change is already matched in this process

    def lookup(signal_type: str, signal: str, **params: str) -> Any:
        response = esp.get("/m/lookup", params={"signal_type": signal_type, "signal": signal, **params})
        assert response.status_code == 200, response.text
        return response.json()

    query = flip_bits(pdq, 7, seed=9)
    assert lookup("pdq", query) == {
        "TEST_BANK": [{"bank_content_id": body["entry_ids"]["pdq"], "distance": "7"}],
        "OTHER_BANK": [{"bank_content_id": other["id"], "distance": str(hamming(query, other["signals"]["pdq"]))}],
    }
    assert lookup("pdq", query, banks="TEST_BANK") == {
        "TEST_BANK": [{"bank_content_id": body["entry_ids"]["pdq"], "distance": "7"}]}
    assert lookup("pdq", flip_bits(pdq, PDQ_THRESHOLD + 9, seed=2), banks="TEST_BANK") == {}
    assert lookup("md5", md5.upper()) == {"TEST_BANK": [{"bank_content_id": body["entry_ids"]["md5"],
                                                        "distance": "0"}]}
    assert lookup("md5", rand_hex(32)) == {}
    assert lookup("pdq", query, seed="7", bypass_coinflip="true")["TEST_BANK"][0]["distance"] == "7"

    analyst = site.signed_in("analyst")
    content = analyst.get(f"/c/bank/TEST_BANK/content/{body['entry_ids']['pdq']}",
                          params={"include_signals": "true"}).json()
    assert content == {"id": body["entry_ids"]["pdq"], "disable_until_ts": 1, "collab_metadata": {},
                       "original_media_uri": None, "bank": {"name": "TEST_BANK", "matching_enabled_ratio": 1.0},
                       "signals": {"pdq": pdq}, "signal_type": "pdq", "classification": "A1",
                       "series": "Lighthouse", "source": "NCMEC", "source_id": "case-9", "added_by": "supervisor",
                       "added_at": content["added_at"]}
    assert "signals" not in analyst.get(f"/c/bank/TEST_BANK/content/{body['entry_ids']['md5']}").json()
    assert analyst.get(f"/c/bank/OTHER_BANK/content/{body['entry_ids']['md5']}").status_code == 404
    with site.instance.db.transaction() as session:
        events = session.execute(select(AuditEventRow).where(AuditEventRow.action == "bank.entries_added")
                                 ).scalars().all()
        assert [(e.actor_name, e.details["bank"], e.details["count"], e.details["via"]) for e in events] == [
            ("supervisor", "TEST_BANK", 2, "HMA API signal"), ("supervisor", "OTHER_BANK", 1, "HMA API signal")]


def test_bad_lookups_and_signals_are_refused_with_the_reason(site: Site) -> None:
    supervisor = _supervisor(site)
    _create(supervisor, "TEST_BANK")
    esp = site.esp()
    cases = [
        (esp.get("/m/lookup", params={"signal_type": "pdq", "signal": "a" * 63}), 400, ["64 hex characters, got 63"]),
        (esp.get("/m/lookup", params={"signal_type": "md5", "signal": "x" * 32}), 400, ["hex", "'x'"]),
        (esp.get("/m/lookup", params={"signal_type": "photodna", "signal": "a" * 32}), 400, ["photodna"]),
        (esp.get("/m/lookup", params={"signal_type": "pdq"}), 400, ["signal"]),
        (esp.get("/m/lookup", params={"url": "https://example.org/a.jpg"}), 501, ["does not fetch URLs"]),
        (esp.get("/h/hash", params={"url": "https://example.org/a.jpg"}), 501, ["does not fetch URLs"]),
        (esp.get("/h/hash"), 400, ["url is required"]),
        (supervisor.post("/c/bank/NOPE/signal", json={"md5": rand_hex(32)}), 404, ["bank 'NOPE' not found"]),
        (supervisor.post("/c/bank/TEST_BANK/signal", json={"pdq": "b" * 65}), 400,
         ["Invalid pdq signal", "64 hex characters, got 65"]),
        (supervisor.post("/c/bank/TEST_BANK/signal", json={"tmk": rand_hex(32)}), 400, ["No such signal type 'tmk'"]),
        (supervisor.post("/c/bank/TEST_BANK/signal", json={}), 400, ["No signals given"]),
        (supervisor.post("/c/bank/TEST_BANK/signal", json={"md5": 5}), 400, ["signal type to signal value"]),
        (supervisor.post("/c/bank/TEST_BANK/signal", json={"md5": rand_hex(32)}, params={"classification": "Z"}),
         400, ["A1, A2, B1, B2"]),
        (supervisor.post("/c/bank/NOPE/content", files={"photo": ("a.png", png(picture(1)), "image/png")}), 404,
         ["bank 'NOPE' not found"]),
        (supervisor.post("/c/bank/TEST_BANK/content", params={"url": "https://example.org/a.jpg"}), 501,
         ["does not fetch URLs"]),
        (supervisor.put("/c/bank/TEST_BANK/content/999999", json={"disable_until_ts": 0}), 404,
         ["content '999999' not found"]),
    ]
    for response, status, fragments in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert set(response.json()) == {"message", "error"}
        for fragment in fragments:
            assert fragment in response.json()["message"], (response.request.url, response.json())
    with site.instance.db.transaction() as session:
        assert session.execute(select(BankEntryRow)).first() is None  # nothing half-added


def test_add_disable_enable_through_the_api_match_at_once_here_and_within_a_second_elsewhere(
    site_on_each_backend: Site,
) -> None:
    site = site_on_each_backend
    instance = site.instance
    supervisor = _supervisor(site)
    _create(supervisor, "TEST_BANK")
    elsewhere = MatcherSync()  # another process's matcher, on the same database
    pdq = rand_hex(64)
    query = flip_bits(pdq, 4, seed=3)

    def seen_elsewhere() -> bool:
        with instance.db.transaction() as session:
            matcher = elsewhere.matcher(session)
        return bool(matcher.lookup_signal("pdq", query).hits)

    def here() -> Any:
        return site.esp().get("/m/lookup", params={"signal_type": "pdq", "signal": query}).json()

    assert not seen_elsewhere() and here() == {}
    entry_id = supervisor.post("/c/bank/TEST_BANK/signal", json={"pdq": pdq}).json()["id"]
    assert here() == {"TEST_BANK": [{"bank_content_id": entry_id, "distance": "4"}]}
    within(1.0, seen_elsewhere)

    disabled = supervisor.put(f"/c/bank/TEST_BANK/content/{entry_id}", json={"disable_until_ts": 0})
    assert disabled.status_code == 200 and disabled.json()["disable_until_ts"] == 0
    assert "signals" not in disabled.json()
    assert here() == {}
    within(1.0, lambda: not seen_elsewhere())
    enabled = supervisor.put(f"/c/bank/TEST_BANK/content/{entry_id}", json={"disable_until_ts": "1"})
    assert enabled.json()["disable_until_ts"] == 1
    assert here() == {"TEST_BANK": [{"bank_content_id": entry_id, "distance": "4"}]}
    within(1.0, seen_elsewhere)

    timed = supervisor.put(f"/c/bank/TEST_BANK/content/{entry_id}", json={"disable_until_ts": 1900000000})
    assert timed.status_code == 400 and "timed" in timed.json()["message"]
    with instance.db.transaction() as session:
        actions = [e.action for e in session.execute(select(AuditEventRow).where(
            AuditEventRow.action.in_(["bank.entry_disabled", "bank.entry_enabled"])).order_by(AuditEventRow.seq))
            .scalars()]
        assert actions == ["bank.entry_disabled", "bank.entry_enabled"]


# --- ignore banks ------------------------------------------------------------------------------------------------


def test_a_known_false_positive_silences_the_match(site: Site) -> None:
    supervisor = _supervisor(site)
    _create(supervisor, "KNOWN")
    _create(supervisor, "BENIGN", kind="ignore")
    material = rand_hex(64)
    known_id = supervisor.post("/c/bank/KNOWN/signal", json={"pdq": material}).json()["id"]
    query = flip_bits(material, 10, seed=1)           # 10 bits from the bank entry
    look_alike = flip_bits(query, 2, seed=2)          # a benign picture 2 bits from the query
    assert hamming(query, look_alike) == 2 < hamming(query, material) == 10
    supervisor.post("/c/bank/BENIGN/signal", json={"pdq": look_alike})
    esp = site.esp()
    assert esp.get("/m/lookup", params={"signal_type": "pdq", "signal": query}).json() == {}
    # a near copy of the material that is farther from the look-alike still matches
    other = flip_bits(material, 3, seed=7)
    assert hamming(other, look_alike) > hamming(other, material)
    assert esp.get("/m/lookup", params={"signal_type": "pdq", "signal": other}).json() == {
        "KNOWN": [{"bank_content_id": known_id, "distance": "3"}]}

    # an uploaded photo whose exact md5 is a known benign file: its PDQ match is silenced too
    photo = png(picture(21))
    supervisor.post("/c/bank/KNOWN/signal", json={"pdq": _reference_pdq(picture(21))})
    supervisor.post("/c/bank/BENIGN/signal", json={"md5": hashlib.md5(photo).hexdigest()})
    answer = esp.post("/m/lookup", files={"photo": ("p.png", photo, "image/png")}).json()
    assert answer == {"pdq": {}, "md5": {}}


# --- hashing and content uploads ------------------------------------------------------------------------------------


def test_hash_answers_hma_signals_for_a_photo_and_a_video(site: Site) -> None:
    esp = site.esp()
    image = picture(5)
    photo = png(image)
    hashed = esp.post("/h/hash", files={"photo": ("holiday.png", photo, "image/png")})
    assert hashed.status_code == 200, hashed.text
    assert set(hashed.json()) == {"pdq", "md5"}
    assert hashed.json()["md5"] == hashlib.md5(photo).hexdigest()
    assert hamming(hashed.json()["pdq"], _reference_pdq(image)) <= 10
    only_pdq = esp.post("/h/hash", params={"types": "pdq"}, files={"photo": ("holiday.png", photo, "image/png")})
    assert only_pdq.json() == {"pdq": hashed.json()["pdq"]}

    video = _video()
    answer = esp.post("/h/hash", files={"video": ("clip.mp4", video, "video/mp4")}).json()
    assert set(answer) == {"video_md5", "vpdq"} and answer["video_md5"] == hashlib.md5(video).hexdigest()
    frames = json.loads(answer["vpdq"])
    assert len(frames) >= 2  # one frame a second of a two-second video
    for frame in frames:
        pdq, quality, seconds = frame.split(",")
        assert len(pdq) == 64 and int(pdq, 16) >= 0 and 0 <= int(quality) <= 100 and float(seconds) >= 0


def test_bad_uploads_are_refused_with_the_reason(site: Site) -> None:
    esp = site.esp()
    photo = png(picture(2))
    video = _video(seconds=1.0)
    cases = [
        ({"files": {"photo": ("clip.mp4", video, "video/mp4")}}, ["not an image", "video/mp4"]),
        ({"files": {"video": ("a.png", photo, "image/png")}}, ["not a video", "image/png"]),
        ({"files": {"photo": ("empty.png", b"", "image/png")}}, ["empty"]),
        ({"files": {"photo": ("cut.png", photo[: len(photo) // 2], "image/png")}}, ["could not hash the photo"]),
        ({"files": [("photo", ("a.png", photo, "image/png")), ("photo", ("b.png", photo, "image/png"))]},
         ["Only one file"]),
        ({"files": {"document": ("a.png", photo, "image/png")}}, ["no such content_type: 'document'"]),
        ({"data": {"photo": "not a file"}}, ["multipart/form-data"]),
        ({"content": b"--xyz\r\nContent-Disposition: form-data; name=\"photo\"\r\n\r\nabc",
          "headers": {"content-type": "multipart/form-data; boundary=xyz"}}, ["closing boundary"]),
    ]
    for request, fragments in cases:
        for path in ("/h/hash", "/m/lookup"):
            response = esp.post(path, **request)
            assert response.status_code == 400, (path, response.text)
            for fragment in fragments:
                assert fragment in response.json()["message"], (path, response.json())
    unknown_type = esp.post("/h/hash", params={"types": "vpdq"}, files={"photo": ("a.png", photo, "image/png")})
    assert unknown_type.status_code == 400 and "'vpdq'" in unknown_type.json()["message"]


def test_content_is_hashed_banked_and_matched_rotated(site: Site) -> None:
    supervisor = _supervisor(site)
    _create(supervisor, "TEST_BANK")
    image = picture(8)
    photo = png(image)
    added = supervisor.post("/c/bank/TEST_BANK/content", params={"source": "hotline case 12"},
                            files={"photo": ("case.png", photo, "image/png")})
    assert added.status_code == 200, added.text
    body = added.json()
    assert body["signals"]["md5"] == hashlib.md5(photo).hexdigest()
    assert hamming(body["signals"]["pdq"], _reference_pdq(image)) <= 10
    assert body["id"] == body["entry_ids"]["pdq"] and body["not_added"] == {}

    esp = site.esp()
    same = esp.post("/m/lookup", files={"photo": ("x.png", photo, "image/png")}).json()
    assert same == {"pdq": {"TEST_BANK": [{"bank_content_id": body["entry_ids"]["pdq"], "distance": "0"}]},
                    "md5": {"TEST_BANK": [{"bank_content_id": body["entry_ids"]["md5"], "distance": "0"}]}}
    rotated = png(image.transpose(Image.Transpose.ROTATE_90))
    turned = esp.post("/m/lookup", files={"photo": ("r.png", rotated, "image/png")}).json()
    assert turned["md5"] == {} and [m["bank_content_id"] for m in turned["pdq"]["TEST_BANK"]] == [body["id"]]
    assert int(turned["pdq"]["TEST_BANK"][0]["distance"]) <= PDQ_THRESHOLD
    unrelated = esp.post("/m/lookup", files={"photo": ("u.png", png(picture(99)), "image/png")}).json()
    assert unrelated == {"pdq": {}, "md5": {}}

    flat = png(Image.new("RGB", (200, 200), (120, 120, 120)))
    low = supervisor.post("/c/bank/TEST_BANK/content", files={"photo": ("grey.png", flat, "image/png")}).json()
    assert set(low["signals"]) == {"md5"} and "quality" in low["not_added"]["pdq"]

    video = _video()
    clip = supervisor.post("/c/bank/TEST_BANK/content", files={"video": ("clip.mp4", video, "video/mp4")}).json()
    assert set(clip["signals"]) == {"video_md5", "vpdq"}
    assert clip["signals"]["video_md5"] == hashlib.md5(video).hexdigest()
    found = esp.post("/m/lookup", files={"video": ("v.mp4", video, "video/mp4")}).json()
    assert found == {"video_md5": {"TEST_BANK": [{"bank_content_id": clip["entry_ids"]["video_md5"], "distance": "0"}]},
                     "vpdq": {"TEST_BANK": [{"bank_content_id": clip["entry_ids"]["vpdq"], "distance": "0"}]}}


def test_uploads_are_never_written_to_disk(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    supervisor = _supervisor(site)
    _create(supervisor, "TEST_BANK")

    def no_disk(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an upload was about to be written to a temporary file")

    import starlette.formparsers

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, no_disk)
    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", no_disk)
    noise = np.random.default_rng(1).integers(0, 256, (900, 900, 3), dtype=np.uint8)
    big = png(Image.fromarray(noise))
    assert len(big) > 2 * 1024 * 1024  # over Starlette's 1 MiB spooling threshold
    files = {"photo": ("noise.png", big, "image/png")}
    assert site.esp().post("/h/hash", files=files).status_code == 200
    assert site.esp().post("/m/lookup", files=files).status_code == 200
    assert supervisor.post("/c/bank/TEST_BANK/content", files=files).status_code == 200


def test_a_body_over_the_limit_is_refused(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    instance = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_MAX_BODY_BYTES="65536")
    try:
        site = build_site(instance)
        esp = site.esp()
        large = b"\x89PNG\r\n\x1a\n" + bytes(100_000)
        declared = esp.post("/h/hash", files={"photo": ("big.png", large, "image/png")})
        assert declared.status_code == 413 and "65536" in declared.json()["message"]

        def chunks() -> Any:  # no Content-Length: refused while the body streams in
            yield b"--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\n\r\n"
            for _ in range(20):
                yield bytes(8192)

        streamed = esp.post("/m/lookup", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
        assert streamed.status_code == 413 and "65536" in streamed.json()["message"]
    finally:
        instance.close()


# --- who may ---------------------------------------------------------------------------------------------------


def test_roles_and_credentials(site: Site) -> None:
    supervisor = _supervisor(site)
    _create(supervisor, "TEST_BANK")
    entry = supervisor.post("/c/bank/TEST_BANK/signal", json={"md5": rand_hex(32)}).json()["id"]
    lookup = {"signal_type": "md5", "signal": rand_hex(32)}

    public = site.client().get("/m/lookup", params=lookup)
    assert public.status_code == 401 and public.json()["message"] and "Basic" in public.headers["www-authenticate"]
    wrong = site.client()
    wrong.auth = ("analyst", "not the password")
    assert wrong.get("/c/banks").status_code == 401
    person = site.client()
    person.auth = ("victimid", PASSWORD)  # a person's own login by HTTP Basic, as on /api/
    assert person.get("/c/banks").status_code == 200
    assert person.get("/m/lookup", params=lookup).json() == {}
    assert person.post("/c/banks", json={"name": "NOT_MINE"}).status_code == 403

    esp = site.esp()
    assert esp.get("/m/lookup", params=lookup).status_code == 200
    for response in (esp.get("/c/banks"), esp.get("/c/bank/TEST_BANK"), esp.post("/c/banks", json={"name": "X"}),
                     esp.post("/c/bank/TEST_BANK/signal", json={"md5": rand_hex(32)}),
                     esp.put(f"/c/bank/TEST_BANK/content/{entry}", json={"disable_until_ts": 0})):
        assert response.status_code == 403 and response.json()["error"] == "forbidden"
    for role in ("agency", "admin"):
        client = site.signed_in(role)
        assert client.get("/m/lookup", params=lookup).status_code == 403
        assert client.get("/c/banks").status_code == 403
    analyst = site.signed_in("analyst")
    analyst.headers.update(csrf_headers(analyst))
    assert analyst.get(f"/c/bank/TEST_BANK/content/{entry}").status_code == 200
    assert analyst.put(f"/c/bank/TEST_BANK/content/{entry}", json={"disable_until_ts": 0}).status_code == 403
    assert site.client().put(f"/c/bank/TEST_BANK/content/{entry}", json={"disable_until_ts": 0}).status_code == 401
    assert analyst.post("/c/bank/TEST_BANK/signal", json={"md5": rand_hex(32)}).status_code == 403

    # a browser session's upload needs its CSRF token in the header (the form is never parsed to find it)
    plain = site.signed_in("supervisor")
    files = {"photo": ("a.png", png(picture(3)), "image/png")}
    refused = plain.post("/c/bank/TEST_BANK/content", files=files, data={"csrf_token": "x"})
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["message"]
    assert plain.post("/c/banks", json={"name": "NO_TOKEN"}).status_code == 403
    assert supervisor.post("/c/bank/TEST_BANK/content", files=files).status_code == 200


def test_openapi_describes_the_endpoints(site: Site) -> None:
    spec = site.client().get("/openapi.json").json()
    paths = spec["paths"]
    expected = {"/h/hash": {"get", "post"}, "/m/lookup": {"get", "post"}, "/c/banks": {"get", "post"},
                "/c/bank/{bank_name}": {"get"}, "/c/bank/{bank_name}/signal": {"post"},
                "/c/bank/{bank_name}/content": {"post"}, "/c/bank/{bank_name}/content/{content_id}": {"get", "put"}}
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    upload = paths["/h/hash"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert upload == {"photo": {"type": "string", "format": "binary"}, "video": {"type": "string", "format": "binary"}}
    parameters = {p["name"] for p in paths["/m/lookup"]["get"]["parameters"]}
    assert {"signal_type", "signal", "banks"} <= parameters
    create = paths["/c/banks"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create["required"] == ["name"] and "kind" in create["properties"]
    assert "200" in paths["/m/lookup"]["get"]["responses"] and "400" in paths["/m/lookup"]["get"]["responses"]
    assert {p["name"] for p in paths["/c/bank/{bank_name}/signal"]["post"]["parameters"]} >= {"classification",
                                                                                             "series"}
