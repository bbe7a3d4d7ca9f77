"""Conformance of tipline's PDQ with Meta's reference data (tests/data/threatexchange, from ThreatExchange)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tipline.media import (
    DIHEDRAL_NAMES,
    PDQ_MATCH_THRESHOLD,
    dihedral_from_image,
    hash_file,
    pdq_distance,
    pdq_from_image,
)
from tipline.media.pdq import PDQ_MIN_MATCH_QUALITY


def _expected(reference: Path) -> list[tuple[str, str]]:
    with open(reference / "pdq" / "dih-expected-cpp.csv", newline="") as handle:
        return [(row[1], row[0]) for row in csv.reader(handle) if row]


def test_reference_csv_is_complete(reference: Path) -> None:
    rows = _expected(reference)
    assert len(rows) == 8
    for name, expected in rows:
        assert (reference / "pdq" / name).is_file()
        assert len(expected) == 64


def test_hashes_agree_with_the_reference_cpp_within_10_bits(reference: Path) -> None:
    for name, expected in _expected(reference):
        pdq = pdq_from_image((reference / "pdq" / name).read_bytes())
        assert pdq.quality >= 80, name
        assert len(pdq.hex) == 64 and pdq.hex == pdq.hex.lower()
        assert pdq.distance(expected) <= 10, f"{name}: {pdq.distance(expected)} bits from the reference"


def test_full_resolution_option_also_agrees_with_the_reference(reference: Path) -> None:
    for name, expected in _expected(reference):
        pdq = pdq_from_image((reference / "pdq" / name).read_bytes(), max_dimension=0)
        assert pdq.distance(expected) <= 10, name


def test_hash_file_reports_the_same_pdq_as_the_reference(reference: Path) -> None:
    name, expected = _expected(reference)[0]
    result = hash_file(reference / "pdq" / name)
    assert result.ok
    assert result.pdq is not None and pdq_distance(result.pdq, expected) <= 10
    assert result.pdq_quality is not None and result.pdq_quality >= 80
    assert result.pdq_matchable


def test_dihedral_variants_of_the_original_match_each_rotated_and_flipped_photo(reference: Path) -> None:
    rows = _expected(reference)
    original = dihedral_from_image((reference / "pdq" / rows[0][0]).read_bytes())
    assert len(original.hashes) == 8
    for index, (name, expected) in enumerate(rows):
        transformed = pdq_from_image((reference / "pdq" / name).read_bytes())
        # The variant named for that transformation is the one that matches, and closely.
        distance, variant = original.min_distance(transformed.hex)
        assert variant == DIHEDRAL_NAMES[index], name
        assert distance <= 20, name
        # And it matches Meta's own hash of the transformed file.
        assert pdq_distance(original.hashes[index], expected) <= 20, name
        if index:
            # Without the dihedral variants, a rotated or flipped copy does not match at all.
            assert original.original.distance(transformed) > PDQ_MATCH_THRESHOLD, name


def test_bridge_edits_are_found_at_distance_31(reference: Path) -> None:
    folder = reference / "pdq" / "bridge-mods"
    original = pdq_from_image((folder / "aaa-orig.jpg").read_bytes())
    edits = sorted(p for p in folder.glob("*.jpg") if p.name != "aaa-orig.jpg")
    assert len(edits) == 11
    found = {p.name: original.distance(pdq_from_image(p.read_bytes())) for p in edits}
    assert all(distance <= PDQ_MATCH_THRESHOLD for distance in found.values()), found


def test_different_everyday_photos_do_not_match(reference: Path) -> None:
    photos = sorted((reference / "pdq" / "labelme-subset").glob("*.jpg"))
    assert len(photos) == 7
    hashes = [pdq_from_image(p.read_bytes()) for p in photos]
    matchable = [h for h in hashes if h.matchable]
    assert len(matchable) >= 5
    for i, a in enumerate(matchable):
        for b in matchable[i + 1 :]:
            assert a.distance(b) > PDQ_MATCH_THRESHOLD


def test_flat_everyday_photos_are_kept_but_flagged_never_to_match(reference: Path) -> None:
    results = [hash_file(p) for p in sorted((reference / "pdq" / "labelme-subset").glob("*.jpg"))]
    flat = [r for r in results if r.pdq_quality is not None and r.pdq_quality < PDQ_MIN_MATCH_QUALITY]
    assert flat, "the subset holds low-quality photos (q0003, q0004)"
    for result in flat:
        assert result.pdq is not None and len(result.pdq) == 64  # kept
        assert not result.pdq_matchable
        assert [w.code.value for w in result.warnings] == ["low_quality"]
        assert "never matched" in result.warnings[0].message
        assert result.ok  # a flat image is not an error


@pytest.mark.parametrize("filename", ["L.png", "LA.png", "P.png", "CMYK.jpg", "YCbCr.jpg", "I.webp", "F.webp"])
def test_every_reference_colour_mode_is_accepted_and_matches_the_original(reference: Path, filename: str) -> None:
    original = pdq_from_image((reference / "pdq" / "dih" / "bridge-1-original.jpg").read_bytes())
    result = hash_file(reference / "pdq" / "modes" / filename)
    assert result.ok, result.errors
    assert result.pdq is not None
    assert pdq_distance(result.pdq, original.hex) <= PDQ_MATCH_THRESHOLD


def test_reference_index_hash_lists_are_valid_pdq(reference: Path) -> None:
    haystack = (reference / "pdq" / "haystack.txt").read_text().split()
    needles = (reference / "pdq" / "needles.txt").read_text().split()
    assert len(haystack) >= 1000 and len(needles) >= 100
    for value in haystack[:50] + needles[:50]:
        assert pdq_distance(value, value) == 0


def test_exact_dihedral_variants_are_the_hashes_of_the_really_transformed_pixels(reference: Path) -> None:
    import numpy as np

    from tipline.media.images import decode_for_hashing
    from tipline.media.pdq import dihedral_from_pixels, pdq_from_pixels

    pixels = decode_for_hashing((reference / "pdq" / "dih" / "bridge-1-original.jpg").read_bytes()).pixels
    exact = dihedral_from_pixels(pixels, exact=True)
    shortcut = dihedral_from_pixels(pixels)
    assert exact.hashes[0] == shortcut.hashes[0]
    rotated = np.ascontiguousarray(np.rot90(pixels, 1))  # 90 degrees counter-clockwise
    assert exact.as_dict()["rotate_90"] == pdq_from_pixels(rotated).hex
    mirrored = np.ascontiguousarray(pixels[:, ::-1])
    assert exact.as_dict()["flip_y"] == pdq_from_pixels(mirrored).hex
    for a, b in zip(exact.hashes, shortcut.hashes, strict=True):
        assert pdq_distance(a, b) <= PDQ_MATCH_THRESHOLD  # the shortcut is close, not always exact
    rows = _expected(reference)
    for index, (name, _expected_hash) in enumerate(rows):
        transformed = pdq_from_image((reference / "pdq" / name).read_bytes())
        distance, variant = exact.min_distance(transformed.hex)
        assert variant == DIHEDRAL_NAMES[index], name
        assert distance <= 10, name  # closer than the DCT shortcut's up-to-20 bits
