"""Video signatures: Meta's reference vPDQ output, sampling, each container, vPDQ matching, bad video input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tipline.media import (
    HashOptions,
    VideoFrameHash,
    VideoMatchPolicy,
    hash_file,
    hash_video,
    match_videos,
    pdq_distance,
)
from tipline.media.errors import MediaError

from .conftest import make_video

VIDEOS = [
    "chair-19-sd-bar",
    "chair-22-with-large-logo-bar",
    "doorknob-hd-no-bar",
    "pattern-sd-grey-bar",
    "pattern-sd-with-small-logo-bar",
    "test-padded-dimensions",
]


def _reference_frames(reference: Path, name: str) -> list[VideoFrameHash]:
    lines = (reference / "vpdq" / "hashes" / f"{name}.txt").read_text().splitlines()
    return [VideoFrameHash.from_vpdq_line(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def every_frame(reference: Path) -> dict[str, list[VideoFrameHash]]:
    """tipline's hash of every frame of the six reference videos (computed once for the module)."""
    return {
        name: list(hash_video((reference / "vpdq" / "videos" / f"{name}.mp4").read_bytes(), seconds_per_hash=0).frames)
        for name in VIDEOS
    }


@pytest.mark.parametrize("name", VIDEOS)
def test_frame_hashes_match_metas_vpdq_output(every_frame: dict, reference: Path, name: str) -> None:
    expected = _reference_frames(reference, name)
    ours = every_frame[name]
    assert len(ours) == len(expected), "every decoded frame is hashed, as the reference does with seconds_per_hash=0"
    assert [f.frame_number for f in ours] == [f.frame_number for f in expected]
    compared = [(o, e) for o, e in zip(ours, expected, strict=True) if e.quality >= 50]
    assert compared
    close = sum(1 for o, e in compared if pdq_distance(o.pdq, e.pdq) <= 31)
    assert close / len(compared) >= 0.95, f"{close} of {len(compared)} frames within distance 31"
    for o, e in zip(ours, expected, strict=True):
        assert o.timestamp == pytest.approx(e.timestamp, abs=0.001)


def test_reference_videos_match_their_own_reference_signature(every_frame: dict, reference: Path) -> None:
    for name in VIDEOS:
        result = match_videos(every_frame[name], _reference_frames(reference, name))
        assert result.is_match, name
        assert result.query_match_percent >= 95 and result.compared_match_percent >= 95, name


def test_vpdq_matching_on_the_reference_signatures(reference: Path) -> None:
    signatures = {name: _reference_frames(reference, name) for name in VIDEOS}
    # The two pattern videos are the same footage with different bars: a match both ways.
    same = match_videos(signatures["pattern-sd-grey-bar"], signatures["pattern-sd-with-small-logo-bar"])
    assert same.is_match
    assert same.query_match_percent >= 95 and same.compared_match_percent >= 95
    # Different footage does not match.
    for a, b in [("chair-19-sd-bar", "doorknob-hd-no-bar"), ("chair-19-sd-bar", "chair-22-with-large-logo-bar")]:
        other = match_videos(signatures[a], signatures[b])
        assert not other.is_match
        assert other.query_match_percent < 80 and other.compared_match_percent < 80


def test_match_percentages_follow_vpdq_counting() -> None:
    zero, ones = "0" * 64, "f" * 64
    near_zero = "0" * 62 + "ff"  # 8 bits from zero
    query = [VideoFrameHash(i, float(i), h, 100) for i, h in enumerate([zero, zero, ones, near_zero])]
    compared = [VideoFrameHash(0, 0.0, zero, 100), VideoFrameHash(1, 1.0, "0f" * 32, 100)]
    result = match_videos(query, compared)
    # Identical hashes count once (zero), so the query has 3 distinct frames: zero, near_zero match; ones does not.
    assert result.query_frames == 3 and result.compared_frames == 2
    assert result.query_match_percent == pytest.approx(200 / 3)
    assert result.compared_match_percent == pytest.approx(50.0)
    assert not result.is_match
    lenient = match_videos(query, compared, VideoMatchPolicy(query_match_percent=60.0))
    assert lenient.is_match
    strict_distance = match_videos(query, compared, VideoMatchPolicy(distance_threshold=7, query_match_percent=60.0))
    assert strict_distance.query_match_percent == pytest.approx(100 / 3) and not strict_distance.is_match
    both = match_videos(query, compared, VideoMatchPolicy(query_match_percent=60.0, require_both=True))
    assert not both.is_match  # the compared side only reaches 50%


def test_threatexchange_signal_format_round_trip(reference: Path) -> None:
    from tipline.media import from_threatexchange_vpdq, to_threatexchange_vpdq

    frames = _reference_frames(reference, "doorknob-hd-no-bar")[:40]
    signal = to_threatexchange_vpdq(frames)
    items = json.loads(signal)
    assert items[1] == f"{frames[1].pdq},{frames[1].quality},0.033"
    # python-threatexchange writes timestamps with "{:.3}": three significant digits.
    odd = [VideoFrameHash(0, 1 / 30, frames[0].pdq, 90), VideoFrameHash(1, 12.3456, frames[1].pdq, 80)]
    assert json.loads(to_threatexchange_vpdq(odd)) == [f"{frames[0].pdq},90,0.0333", f"{frames[1].pdq},80,12.3"]
    parsed = from_threatexchange_vpdq(signal)
    assert [f.pdq for f in parsed] == [f.pdq for f in frames]
    assert match_videos(parsed, frames).query_match_percent == 100.0
    with pytest.raises(ValueError, match="not 'pdq_hex,quality,timestamp'"):
        from_threatexchange_vpdq('["abc"]')


def test_low_quality_frames_are_never_matched() -> None:
    flat = [VideoFrameHash(0, 0.0, "0" * 64, 10)]
    result = match_videos(flat, flat)
    assert result.query_frames == 0 and not result.is_match


def test_default_sampling_hashes_one_frame_per_second(reference: Path) -> None:
    signature = hash_video((reference / "vpdq" / "videos" / "doorknob-hd-no-bar.mp4").read_bytes())
    assert signature.frame_rate == pytest.approx(30.0)
    assert signature.frames_decoded == 120
    assert [f.frame_number for f in signature.frames] == [0, 30, 60, 90]
    assert [f.timestamp for f in signature.frames] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert (signature.width, signature.height) == (1280, 720)


def test_sampling_is_configurable(reference: Path) -> None:
    data = (reference / "vpdq" / "videos" / "doorknob-hd-no-bar.mp4").read_bytes()
    assert [f.frame_number for f in hash_video(data, seconds_per_hash=2).frames] == [0, 60]
    with pytest.raises(ValueError, match="non-negative"):
        hash_video(data, seconds_per_hash=-1)


def test_odd_frame_dimensions_are_hashed(reference: Path) -> None:
    result = hash_file(reference / "vpdq" / "videos" / "test-padded-dimensions.mp4")
    assert result.ok and result.media_type == "video/mp4"
    assert result.video is not None and len(result.video.frames) == 5


@pytest.mark.parametrize(
    ("container", "codec", "media_type"),
    [
        ("mp4", "libx264", "video/mp4"),
        ("mov", "libx264", "video/quicktime"),
        ("webm", "libvpx-vp9", "video/webm"),
        ("avi", "mpeg4", "video/x-msvideo"),
        ("matroska", "libx264", "video/x-matroska"),
    ],
)
def test_each_container_format_is_decoded_from_memory(container: str, codec: str, media_type: str) -> None:
    data = make_video(container, codec, seconds=2.0, fps=10)
    result = hash_file(data)
    assert result.ok, result.errors
    assert result.media_type == media_type
    assert result.video is not None
    assert result.video.frames_decoded == 20
    assert [f.frame_number for f in result.video.frames] == [0, 10]
    assert all(len(f.pdq) == 64 and 0 <= f.quality <= 100 for f in result.video.frames)
    assert (result.width, result.height) == (128, 96)


def test_the_same_footage_in_two_containers_matches_and_other_footage_does_not() -> None:
    mp4 = hash_video(make_video("mp4", "libx264", seed=3), seconds_per_hash=0)
    webm = hash_video(make_video("webm", "libvpx-vp9", seed=3), seconds_per_hash=0)
    other = hash_video(make_video("mp4", "libx264", seed=11), seconds_per_hash=0)
    assert match_videos(mp4, webm).is_match
    assert not match_videos(mp4, other).is_match


def test_a_file_like_source_is_left_open_for_its_owner() -> None:
    stream = io.BytesIO(make_video())
    signature = hash_video(stream)
    assert not stream.closed
    assert len(signature.frames) == 2


def test_random_bytes_in_a_video_container_header_are_a_precise_error() -> None:
    data = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 40
    result = hash_file(data, name="clip.mp4")
    assert result.media_type == "video/mp4"
    assert [e.code.value for e in result.errors] == ["corrupt"]
    assert "video container could not be opened" in result.errors[0].message
    assert result.sha256 and result.size == len(data)
    with pytest.raises(MediaError, match="could not be opened"):
        hash_video(data)


def test_a_truncated_video_is_reported_with_the_frames_before_the_cut() -> None:
    data = make_video("matroska", "libx264", seconds=3.0, fps=10)
    cut = data[: len(data) * 2 // 3]
    result = hash_file(cut, name="clip.mkv")
    assert result.video is not None and 0 < result.video.frames_decoded < 30
    assert result.errors, "a truncated video is an error"
    assert result.errors[0].code.value in {"truncated", "corrupt"}
    assert "truncated" in result.errors[0].message or "decoding stopped" in result.errors[0].message


def test_a_container_without_video_is_a_precise_error() -> None:
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="matroska") as output:
        stream = output.add_stream("pcm_s16le", rate=8000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        frame.pts = 0
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    result = hash_file(buffer.getvalue(), name="sound.mkv")
    assert [e.code.value for e in result.errors] == ["no_video_stream"]
    assert result.errors[0].message == "the file holds no video stream"


def test_decoding_stops_at_its_time_budget_and_keeps_what_was_hashed(reference: Path) -> None:
    data = (reference / "vpdq" / "videos" / "doorknob-hd-no-bar.mp4").read_bytes()
    signature = hash_video(data, seconds_per_hash=0, max_seconds=0)  # the budget is spent by the first frame
    assert [f.frame_number for f in signature.frames] == [0]
    assert signature.frames_decoded == 1
    assert [p.code.value for p in signature.problems] == ["video_limit"]
    assert "0 s of decoding" in signature.problems[0].message
    result = hash_file(data, options=HashOptions(seconds_per_hash=0, video_max_seconds=0))
    assert len(result.video_frames) == 1 and [w.code.value for w in result.warnings] == ["video_limit"]
    assert len(hash_video(data, seconds_per_hash=0).frames) == 120  # the default budget lets it finish


def test_oversized_video_frames_are_refused_before_decoding() -> None:
    result = hash_file(make_video(size=(128, 96)), options=HashOptions(max_image_pixels=5000))
    assert [e.code.value for e in result.errors] == ["decompression_bomb"]
    assert "128 x 96" in result.errors[0].message
