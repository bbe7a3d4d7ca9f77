"""Signal values are normalised to lower-case hex of exact lengths, and bad ones are refused with a precise reason."""

from __future__ import annotations

import json

import pytest

from tipline.matching import (
    SignalError,
    SignalType,
    VpdqFrame,
    format_vpdq,
    infer_signal_type,
    normalize_signal,
    parse_signal_type,
    parse_vpdq,
    pdq_distance,
)
from tipline.matching.banks import parse_classification


@pytest.mark.parametrize(
    ("signal_type", "length"),
    [("md5", 32), ("sha1", 40), ("sha256", 64), ("pdq", 64), ("video_md5", 32)],
)
def test_hex_signals_are_lower_cased_and_length_checked(signal_type: str, length: int) -> None:
    value = ("AbC123" * 20)[:length]
    assert normalize_signal(signal_type, f"  {value}\n") == value.lower()
    label = f"{signal_type} hash"
    with pytest.raises(SignalError, match=f"^{label} must be {length} hex characters, got {length - 1}$"):
        normalize_signal(signal_type, value[:-1])
    with pytest.raises(SignalError, match=f"^{label} must be {length} hex characters, got {length + 1}$"):
        normalize_signal(signal_type, value + "a")
    bad = value[:4] + "g" + value[5:]
    with pytest.raises(SignalError, match=f"^{label} must be hex; character 5 is 'g'$"):
        normalize_signal(signal_type, bad)


def test_signal_type_names() -> None:
    assert parse_signal_type("PDQ") is SignalType.PDQ
    assert parse_signal_type("HASH_MD5") is SignalType.MD5  # ThreatExchange indicator type
    assert parse_signal_type(" sha-256 ") is SignalType.SHA256
    assert parse_signal_type("video_md5") is SignalType.VIDEO_MD5
    with pytest.raises(SignalError, match=r"^unknown signal type 'url' \(known: pdq, md5, sha1, sha256, video_md5, vpdq\)$"):
        parse_signal_type("url")
    assert SignalType.SHA1.is_exact and SignalType.VIDEO_MD5.is_exact
    assert not SignalType.PDQ.is_exact and not SignalType.VPDQ.is_exact


def test_signal_type_inferred_by_length_only_when_unambiguous() -> None:
    assert infer_signal_type("a" * 32) is SignalType.MD5
    assert infer_signal_type("A" * 40) is SignalType.SHA1
    with pytest.raises(SignalError, match="could be pdq or sha256; give the signal type"):
        infer_signal_type("a" * 64)
    with pytest.raises(SignalError, match=r"cannot tell the signal type of a 33-character value"):
        infer_signal_type("a" * 33)
    with pytest.raises(SignalError, match="md5 hash must be hex; character 1 is 'z'"):
        infer_signal_type("z" * 32)


def test_classifications() -> None:
    assert parse_classification(" a1 ").value == "A1"
    assert parse_classification("B2").value == "B2"
    assert parse_classification("") is None and parse_classification("None") is None
    with pytest.raises(SignalError, match="^classification must be A1, A2, B1, B2 or none, got 'A3'$"):
        parse_classification("A3")


def test_pdq_distance_counts_differing_bits() -> None:
    a = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
    b = "b0a10efd71cc3f429413d48d0ffffe12e34e0e17ada952a9d29684210aa9e5af"
    expected = sum(bin(int(x, 16) ^ int(y, 16)).count("1") for x, y in zip(a, b))
    assert pdq_distance(a, b) == expected
    assert pdq_distance(a, a.upper()) == 0


def test_vpdq_signatures_round_trip_and_normalise() -> None:
    frames = [VpdqFrame("AB" * 32, 100, 0.0), VpdqFrame("cd" * 32, 49, 1.0333333)]
    text = format_vpdq(frames)
    assert json.loads(text) == ["ab" * 32 + ",100,0.000", "cd" * 32 + ",49,1.033"]
    assert parse_vpdq(text) == [VpdqFrame("ab" * 32, 100, 0.0), VpdqFrame("cd" * 32, 49, 1.033)]
    # python-threatexchange writes timestamps with three significant digits, e.g. 1.23e+03
    assert parse_vpdq(json.dumps(["ef" * 32 + ",80,1.23e+03"]))[0].timestamp == 1230.0
    assert normalize_signal("vpdq", json.dumps(["AB" * 32 + ",100,0"])) == json.dumps(["ab" * 32 + ",100,0.000"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "vpdq signature is not JSON: Expecting value at character 1"),
        ('{"a": 1}', 'vpdq signature must be a JSON list of "pdq,quality,seconds" strings'),
        ("[]", "vpdq signature has no frames"),
        ('["' + "a" * 64 + ',100"]', "vpdq frame 1 must have 3 comma-separated fields, got 2"),
        ('["' + "a" * 64 + ',100,0", "abc,100,1"]', "vpdq frame 2: pdq hash must be 64 hex characters, got 3"),
        ('["' + "a" * 64 + ',high,0"]', "vpdq frame 1: quality 'high' is not an integer"),
        ('["' + "a" * 64 + ',101,0"]', "vpdq frame 1: quality must be 0 to 100, got 101"),
        ('["' + "a" * 64 + ',100,-1"]', "vpdq frame 1: timestamp must be a non-negative number"),
        ("[5]", 'vpdq frame 1 must be a "pdq,quality,seconds" string'),
    ],
)
def test_bad_vpdq_signatures(text: str, message: str) -> None:
    with pytest.raises(SignalError) as caught:
        parse_vpdq(text)
    assert str(caught.value) == message
