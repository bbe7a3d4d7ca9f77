"""Lookups answer every matching entry with bank, distance and provenance; ignore banks suppress; changes show at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import numpy as np
import pytest
from pdq_synthetic import DATA, flip_bits, random_hashes, to_hex

from tipline.matching import (
    Bank,
    BankEntry,
    BankKind,
    Classification,
    FileSignals,
    Matcher,
    PdqQuery,
    SignalError,
    SignalType,
    VpdqFrame,
)

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def distance(a: str, b: str) -> int:
    """Reference Hamming distance, computed with Python integers."""
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def flip(hex_hash: str, bits: list[int]) -> str:
    """hex_hash with the given bit positions (0 = least significant) inverted."""
    value = int(hex_hash, 16)
    for b in bits:
        value ^= 1 << b
    return f"{value:064x}"


BASE = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"


@pytest.fixture
def matcher() -> Matcher:
    m = Matcher()
    m.add_bank(Bank("ncmec", BankKind.KNOWN_MATERIAL))
    m.add_bank(Bank("series", BankKind.IDENTIFIED_SERIES, pdq_threshold=20))
    m.add_bank(Bank("false-positives", BankKind.IGNORE))
    return m


# --- exact hashes -------------------------------------------------------------------------------


def test_exact_hashes_match_only_when_equal(matcher: Matcher) -> None:
    md5 = "0123456789abcdef0123456789abcdef"
    sha1 = "0123456789abcdef0123456789abcdef01234567"
    sha256 = "ab" * 32
    e1 = matcher.add(BankEntry("ncmec", "md5", md5.upper(), source="NCMEC", source_id="n-1", classification="A1"))
    e2 = matcher.add(BankEntry("series", "sha1", sha1, series="Blue Room", added_by="ana", added_at=WHEN))
    e3 = matcher.add(BankEntry("ncmec", "sha256", sha256))
    result = matcher.lookup(FileSignals(md5=md5, sha1=sha1.upper(), sha256=sha256))
    assert {(m.entry.entry_id, m.distance, m.bank.name) for m in result.matches} == {
        (e1.entry_id, 0, "ncmec"),
        (e2.entry_id, 0, "series"),
        (e3.entry_id, 0, "ncmec"),
    }
    by_id = {m.entry.entry_id: m for m in result.matches}
    assert by_id[e1.entry_id].entry.classification is Classification.A1
    assert by_id[e1.entry_id].entry.source == "NCMEC" and by_id[e1.entry_id].entry.source_id == "n-1"
    assert by_id[e2.entry_id].entry.series == "Blue Room" and by_id[e2.entry_id].bank.kind is BankKind.IDENTIFIED_SERIES
    assert by_id[e2.entry_id].entry.added_by == "ana" and by_id[e2.entry_id].entry.added_at == WHEN
    assert all(m.is_exact and not m.suppressed for m in result.matches)
    assert matcher.lookup(FileSignals(md5="1" * 32, sha1="2" * 40)).matches == ()


def test_video_md5_entries_match_a_files_md5(matcher: Matcher) -> None:
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    video = matcher.add(BankEntry("ncmec", "video_md5", md5))
    plain = matcher.add(BankEntry("series", "md5", md5))
    found = matcher.lookup_signal("md5", md5).matches
    assert {(m.entry.entry_id, m.signal_type) for m in found} == {
        (video.entry_id, SignalType.VIDEO_MD5),
        (plain.entry_id, SignalType.MD5),
    }
    assert len(matcher.lookup_signal("video_md5", md5).matches) == 2


# --- PDQ ----------------------------------------------------------------------------------------


def test_each_bank_applies_its_own_threshold() -> None:
    m = Matcher()
    for name, threshold in (("tight", 10), ("default", 31), ("loose", 40)):
        m.add_bank(Bank(name, pdq_threshold=threshold))
        m.add(BankEntry(name, "pdq", BASE))
    for bits in (0, 5, 10, 11, 25, 31, 32, 40, 41):
        query = flip(BASE, list(range(0, 2 * bits, 2)))
        d = distance(query, BASE)
        assert d == bits
        expected = {name for name, threshold in (("tight", 10), ("default", 31), ("loose", 40)) if d <= threshold}
        found = m.lookup(FileSignals(pdq=[PdqQuery(query, 90)])).matches
        assert {x.bank.name for x in found} == expected, bits
        assert all(x.distance == d for x in found)


def test_threshold_changes_take_effect_on_the_next_lookup(matcher: Matcher) -> None:
    matcher.add(BankEntry("ncmec", "pdq", BASE))
    query = flip(BASE, list(range(35)))
    assert matcher.lookup_signal("pdq", query).matches == ()
    matcher.update_bank(Bank("ncmec", BankKind.KNOWN_MATERIAL, pdq_threshold=40))
    assert [x.distance for x in matcher.lookup_signal("pdq", query).matches] == [35]


def test_every_matching_entry_is_reported_against_brute_force() -> None:
    rng = np.random.default_rng(21)
    base = random_hashes(rng, 40)
    near = flip_bits(rng, np.repeat(base, 25, axis=0), 0, 45)
    hashes = to_hex(np.concatenate([near, random_hashes(rng, 3000)]))
    m = Matcher()
    m.add_bank(Bank("a", pdq_threshold=31))
    m.add_bank(Bank("b", pdq_threshold=24))
    entries = m.load(BankEntry("a" if i % 2 else "b", "pdq", h) for i, h in enumerate(hashes))
    for query in to_hex(base[:15]):
        expected = {
            e.entry_id
            for e in entries
            if distance(query, e.value) <= (31 if e.bank == "a" else 24)
        }
        found = m.lookup(FileSignals(pdq=[PdqQuery(query, 100)])).matches
        assert {x.entry.entry_id for x in found} == expected
        assert all(x.distance == distance(query, x.entry.value) for x in found)
        assert len(expected) > 0


def test_low_quality_query_hashes_are_never_matched(matcher: Matcher) -> None:
    matcher.add(BankEntry("ncmec", "pdq", BASE))
    low = matcher.lookup(FileSignals(pdq=[PdqQuery(BASE, 49)]))
    assert low.matches == ()
    assert low.not_matched == ("pdq hash 0 has quality 49, below 50: not matched",)
    assert len(matcher.lookup(FileSignals(pdq=[PdqQuery(BASE, 50)])).matches) == 1
    assert len(matcher.lookup(FileSignals(pdq=[PdqQuery(BASE, None)])).matches) == 1  # unknown quality


def test_dihedral_variants_find_a_rotated_copy() -> None:
    rows = [line.split(",") for line in (DATA / "dih-expected-cpp.csv").read_text().splitlines()]
    variants = {name.split("/")[1]: h for h, name in rows}
    original = variants["bridge-1-original.jpg"]
    rotated = variants["bridge-2-rotate-90.jpg"]
    assert distance(original, rotated) > 31  # a rotated copy is far from the original as it is
    m = Matcher()
    m.add_bank(Bank("known"))
    entry = m.add(BankEntry("known", "pdq", rotated, source_id="rotated copy"))
    assert m.lookup(FileSignals(pdq=[PdqQuery(original, 100)])).matches == ()
    # the eight hashes of the photo's rotations and flips, as tipline.media computes for an upload
    eight = [PdqQuery(h, 100) for h, _ in rows]
    found = m.lookup(FileSignals(pdq=eight)).matches
    assert [(x.entry.entry_id, x.distance, x.variant, x.query) for x in found] == [
        (entry.entry_id, 0, 1, rotated)
    ]


def test_an_entry_matched_by_several_variants_is_reported_once_at_its_nearest() -> None:
    m = Matcher()
    m.add_bank(Bank("known"))
    entry = m.add(BankEntry("known", "pdq", BASE))
    far, near = flip(BASE, list(range(20))), flip(BASE, list(range(3)))
    found = m.lookup(FileSignals(pdq=[PdqQuery(far, 90), PdqQuery(near, 90)])).matches
    assert [(x.entry.entry_id, x.distance, x.variant) for x in found] == [(entry.entry_id, 3, 1)]
    with pytest.raises(ValueError, match="at most 8 pdq hashes"):
        m.lookup(FileSignals(pdq=[PdqQuery(BASE)] * 9))


# --- ignore banks -------------------------------------------------------------------------------


def test_an_ignore_entry_at_least_as_close_suppresses_a_pdq_match(matcher: Matcher) -> None:
    known = matcher.add(BankEntry("ncmec", "pdq", BASE))
    benign = flip(BASE, list(range(40, 50)))  # a known false positive 10 bits from the known entry
    ignore = matcher.add(BankEntry("false-positives", "pdq", benign, source="analyst review"))
    query = flip(benign, [100, 101])  # 2 bits from the benign image, 12 from the known one
    assert (distance(query, benign), distance(query, BASE)) == (2, 12)
    result = matcher.lookup(FileSignals(pdq=[PdqQuery(query, 90)]))
    by_id = {x.entry.entry_id: x for x in result.matches}
    assert by_id[known.entry_id].suppressed and by_id[known.entry_id].suppressed_by == ignore
    assert by_id[ignore.entry_id].bank.kind is BankKind.IGNORE and not by_id[ignore.entry_id].suppressed
    assert result.hits == ()
    assert result.suppressed == (by_id[known.entry_id],)


def test_an_ignore_entry_further_away_does_not_suppress(matcher: Matcher) -> None:
    known = matcher.add(BankEntry("ncmec", "pdq", BASE))
    matcher.add(BankEntry("false-positives", "pdq", flip(BASE, list(range(40, 60)))))
    query = flip(BASE, [1, 2, 3])  # 3 bits from the known entry, 23 from the ignored one
    result = matcher.lookup(FileSignals(pdq=[PdqQuery(query, 90)]))
    assert [(x.entry.entry_id, x.suppressed) for x in result.hits] == [(known.entry_id, False)]
    assert len(result.matches) == 2


def test_an_exact_ignore_match_suppresses_perceptual_matches_but_never_exact_ones(matcher: Matcher) -> None:
    md5 = "aa" * 16
    pdq_known = matcher.add(BankEntry("ncmec", "pdq", BASE))
    md5_known = matcher.add(BankEntry("ncmec", "md5", md5))
    benign_file = matcher.add(BankEntry("false-positives", "md5", md5))
    result = matcher.lookup(FileSignals(md5=md5, pdq=[PdqQuery(flip(BASE, [7]), 90)]))
    by_id = {x.entry.entry_id: x for x in result.matches}
    assert by_id[pdq_known.entry_id].suppressed and by_id[pdq_known.entry_id].suppressed_by == benign_file
    assert not by_id[md5_known.entry_id].suppressed
    assert [x.entry.entry_id for x in result.hits] == [md5_known.entry_id]


# --- changes ------------------------------------------------------------------------------------


def test_add_disable_enable_remove_show_on_the_next_lookup(matcher: Matcher) -> None:
    md5 = "bb" * 16
    pdq_entry = matcher.add(BankEntry("ncmec", "pdq", BASE))
    md5_entry = matcher.add(BankEntry("ncmec", "md5", md5))
    signals = FileSignals(md5=md5, pdq=[PdqQuery(BASE, 100)])
    assert len(matcher.lookup(signals).matches) == 2
    assert not matcher.disable(pdq_entry.entry_id).enabled
    assert not matcher.disable(md5_entry.entry_id).enabled
    assert matcher.lookup(signals).matches == ()
    assert matcher.entry(pdq_entry.entry_id).enabled is False  # kept, disabled
    matcher.enable(pdq_entry.entry_id)
    assert [x.entry.entry_id for x in matcher.lookup(signals).matches] == [pdq_entry.entry_id]
    matcher.remove(pdq_entry.entry_id)
    assert matcher.lookup(signals).matches == ()
    assert matcher.entry(pdq_entry.entry_id) is None
    matcher.enable(md5_entry.entry_id)
    assert [x.entry.entry_id for x in matcher.lookup(signals).matches] == [md5_entry.entry_id]


def test_changes_take_effect_within_a_second_with_a_large_bank() -> None:
    rng = np.random.default_rng(22)
    m = Matcher()
    m.add_bank(Bank("big"))
    m.load(BankEntry("big", "pdq", h, entry_id=i + 1) for i, h in enumerate(to_hex(random_hashes(rng, 100_000))))
    new_hash = to_hex(random_hashes(rng, 1))[0]
    started = time.perf_counter()
    entry = m.add(BankEntry("big", "pdq", new_hash, entry_id=500_000))
    seen = m.lookup_signal("pdq", new_hash).matches
    m.disable(500_000)
    gone = m.lookup_signal("pdq", new_hash).matches
    elapsed = time.perf_counter() - started
    assert [x.entry.entry_id for x in seen] == [entry.entry_id] and gone == ()
    assert elapsed < 1.0


def test_loading_and_adding_one_by_one_give_the_same_answers() -> None:
    rng = np.random.default_rng(23)
    base = random_hashes(rng, 30)
    hashes = to_hex(np.concatenate([flip_bits(rng, np.repeat(base, 10, axis=0), 0, 35), random_hashes(rng, 500)]))
    bulk, single = Matcher(), Matcher()
    for m in (bulk, single):
        m.add_bank(Bank("k"))
    entries = [BankEntry("k", "pdq", h, entry_id=i + 10, enabled=i % 7 != 0) for i, h in enumerate(hashes)]
    bulk.load(entries)
    for e in entries:
        single.add(e)
    queries = [FileSignals(pdq=[PdqQuery(h, 90)]) for h in to_hex(base)]
    answers = [[(x.entry.entry_id, x.distance) for x in r.matches] for r in bulk.lookup_many(queries)]
    assert answers == [[(x.entry.entry_id, x.distance) for x in single.lookup(q).matches] for q in queries]
    assert all(i % 7 != 3 for a in answers for i, _ in a)  # disabled entries (id 10 + 7k) never match
    assert sum(map(len, answers)) > 30


def test_removing_a_bank_removes_its_entries(matcher: Matcher) -> None:
    matcher.add(BankEntry("series", "pdq", BASE))
    matcher.add(BankEntry("ncmec", "pdq", BASE))
    assert matcher.remove_bank("series") == 1
    assert [x.bank.name for x in matcher.lookup_signal("pdq", BASE).matches] == ["ncmec"]
    assert [b.name for b in matcher.banks()] == ["false-positives", "ncmec"]
    assert [e.bank for e in matcher.entries()] == ["ncmec"]


def test_lookups_stay_consistent_while_a_writer_works(matcher: Matcher) -> None:
    rng = np.random.default_rng(24)
    stable = matcher.add(BankEntry("ncmec", "pdq", BASE))
    hashes = to_hex(random_hashes(rng, 600))
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                found = matcher.lookup_signal("pdq", BASE).matches
                assert [x.entry.entry_id for x in found] == [stable.entry_id]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    added = [matcher.add(BankEntry("ncmec", "pdq", h)) for h in hashes]
    for e in added[::2]:
        matcher.disable(e.entry_id)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert [x.entry.entry_id for x in matcher.lookup_signal("pdq", hashes[1]).matches] == [added[1].entry_id]
    assert matcher.lookup_signal("pdq", hashes[0]).matches == ()


# --- vPDQ ---------------------------------------------------------------------------------------


def _frames(hashes: list[str], quality: int = 90) -> list[VpdqFrame]:
    return [VpdqFrame(h, quality, i * 1.0, i) for i, h in enumerate(hashes)]


def test_a_video_matches_when_enough_frames_of_one_side_match() -> None:
    rng = np.random.default_rng(25)
    video = to_hex(random_hashes(rng, 20))
    m = Matcher()
    m.add_bank(Bank("videos"))
    entry = m.add(BankEntry("videos", "vpdq", _vpdq(_frames(video))))
    codes = np.frombuffer(bytes.fromhex("".join(video)), dtype=np.uint8).reshape(-1, 32)
    near = to_hex(flip_bits(rng, codes, 1, 12))
    assert all(distance(a, b) <= 12 for a, b in zip(video, near))
    same = m.lookup(FileSignals(vpdq=_frames(near))).matches
    assert [(x.entry.entry_id, x.query_match_percent, x.compared_match_percent) for x in same] == [
        (entry.entry_id, 100.0, 100.0)
    ]
    # a clip: 10 of the 20 frames -> all of the query's frames match, half of the entry's
    clip = m.lookup(FileSignals(vpdq=_frames(near[:10]))).matches
    assert [(x.query_match_percent, x.compared_match_percent) for x in clip] == [(100.0, 50.0)]
    # half the frames replaced by unrelated ones: 50% on both sides, under the 80% bar
    mixed = near[:10] + to_hex(random_hashes(rng, 10))
    assert m.lookup(FileSignals(vpdq=_frames(mixed))).matches == ()


def test_low_quality_frames_are_left_out_on_both_sides() -> None:
    rng = np.random.default_rng(26)
    video = to_hex(random_hashes(rng, 10))
    frames = _frames(video[:5], 90) + _frames(video[5:], 20)  # half of the entry's frames are poor
    m = Matcher()
    m.add_bank(Bank("videos"))
    m.add(BankEntry("videos", "vpdq", _vpdq(frames)))
    found = m.lookup(FileSignals(vpdq=_frames(video[:5]))).matches
    assert [(x.query_match_percent, x.compared_match_percent) for x in found] == [(100.0, 100.0)]
    poor = m.lookup(FileSignals(vpdq=_frames(video[:5], 10)))
    assert poor.matches == () and poor.not_matched == ("no vpdq frame has quality 50 or more: not matched",)


def _vpdq(frames: list[VpdqFrame]) -> str:
    import json

    return json.dumps([f"{f.pdq},{f.quality},{f.timestamp:.3f}" for f in frames])


# --- validation ---------------------------------------------------------------------------------


def test_bad_entries_and_banks_are_refused(matcher: Matcher) -> None:
    with pytest.raises(KeyError, match="no bank 'nope'"):
        matcher.add(BankEntry("nope", "md5", "a" * 32))
    with pytest.raises(SignalError, match="md5 hash must be 32 hex characters, got 31"):
        BankEntry("ncmec", "md5", "a" * 31)
    with pytest.raises(SignalError, match="classification must be A1, A2, B1, B2 or none, got 'C3'"):
        BankEntry("ncmec", "md5", "a" * 32, classification="C3")
    with pytest.raises(ValueError, match="timezone-aware"):
        BankEntry("ncmec", "md5", "a" * 32, added_at=datetime(2026, 1, 1))
    first = matcher.add(BankEntry("ncmec", "md5", "a" * 32, entry_id=7))
    with pytest.raises(ValueError, match="bank entry 7 already exists"):
        matcher.add(BankEntry("ncmec", "md5", "b" * 32, entry_id=7))
    assert matcher.add(BankEntry("ncmec", "md5", "b" * 32)).entry_id == first.entry_id + 1
    with pytest.raises(ValueError, match="already exists"):
        matcher.add_bank(Bank("ncmec"))
    with pytest.raises(ValueError, match="pdq threshold must be an integer from 0 to 256"):
        Bank("x", pdq_threshold=300)
    with pytest.raises(ValueError, match="bank name"):
        Bank("no spaces please")
    with pytest.raises(KeyError, match="no bank entry 99"):
        matcher.disable(99)


def test_hash_objects_from_the_media_library_are_accepted() -> None:
    """tipline.media hands over PdqHash (hex, quality), DihedralPdq (hashes, quality), VideoFrameHash."""
    from dataclasses import dataclass

    @dataclass
    class PdqHash:
        hex: str
        quality: int

    @dataclass
    class DihedralPdq:
        hashes: tuple[str, ...]
        quality: int

    @dataclass
    class VideoFrameHash:
        frame_number: int
        timestamp: float
        pdq: str
        quality: int

    m = Matcher()
    m.add_bank(Bank("known"))
    image = m.add(BankEntry("known", "pdq", BASE))
    other = flip(BASE, list(range(100, 160)))
    video = m.add(BankEntry("known", "vpdq", _vpdq(_frames([BASE, other]))))
    assert [x.entry.entry_id for x in m.lookup(FileSignals(pdq=[PdqHash(BASE, 90)])).matches] == [image.entry_id]
    assert m.lookup(FileSignals(pdq=[PdqHash(BASE, 10)])).matches == ()
    found = m.lookup(FileSignals(pdq=DihedralPdq((other, other, BASE), 90))).matches
    assert [(x.entry.entry_id, x.variant) for x in found] == [(image.entry_id, 2)]
    frames = [VideoFrameHash(0, 0.0, BASE, 90), VideoFrameHash(1, 1.0, other, 90)]
    assert [x.entry.entry_id for x in m.lookup(FileSignals(vpdq=frames)).matches] == [video.entry_id]
