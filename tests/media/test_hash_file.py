"""hash_file(): one call per file, every source type, never raising for bad content, and a JSON-ready result."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tipline.media import FileHashes, HashOptions, hash_bytes, hash_file
from tipline.media.errors import ProblemCode

from .conftest import encode, make_video, scene


class _Pipe(io.RawIOBase):
    """A non-seekable stream, like an HTTP upload body."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        chunk = self._data.read(min(len(buffer), 1000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_every_source_type_gives_the_same_result(tmp_path: Path) -> None:
    data = encode(scene(300, 200, seed=6), "JPEG")
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    results = [
        hash_file(data, name="photo.jpg"),
        hash_file(path),
        hash_file(str(path)),
        hash_file(io.BytesIO(data), name="photo.jpg"),
        hash_file(io.BufferedReader(_Pipe(data)), name="photo.jpg"),
    ]
    crypto = hash_bytes(data)
    for result in results:
        assert result.ok and result.name == "photo.jpg"
        assert (result.size, result.md5, result.sha1, result.sha256) == (
            crypto.size,
            crypto.md5,
            crypto.sha1,
            crypto.sha256,
        )
        assert result.pdq == results[0].pdq and result.media_type == "image/jpeg"


def test_an_open_file_is_read_from_its_start_and_left_open(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(encode(scene(100, 100), "PNG"))
    with open(path, "rb") as handle:
        handle.read(10)
        result = hash_file(handle)
        assert not handle.closed
    assert result.ok and result.size == path.stat().st_size


def test_a_non_seekable_stream_over_the_memory_limit_is_an_error_not_a_spill_to_disk() -> None:
    data = encode(scene(300, 200), "PNG")
    result = hash_file(io.BufferedReader(_Pipe(data)), options=HashOptions(max_in_memory=len(data) - 1))
    assert [e.code for e in result.errors] == [ProblemCode.TOO_LARGE]
    assert "not seekable" in result.errors[0].message and "nothing is ever written to disk" in result.errors[0].message
    assert result.sha256 == hash_bytes(data).sha256 and result.size == len(data)  # still hashed to the end
    assert result.media_type == "image/png" and result.pdq is None


def test_a_missing_path_raises_oserror() -> None:
    with pytest.raises(FileNotFoundError):
        hash_file("/nonexistent/photo.jpg")


def test_options_switch_hashes_off() -> None:
    image = encode(scene(200, 200), "PNG")
    assert hash_file(image, options=HashOptions(pdq=False)).pdq is None
    only_pdq = hash_file(image, options=HashOptions(dihedral=False))
    assert only_pdq.pdq is not None and only_pdq.dihedral is None
    with_dihedral = hash_file(image)
    assert with_dihedral.dihedral is not None and with_dihedral.dihedral.hashes[0] == with_dihedral.pdq
    assert hash_file(make_video(), options=HashOptions(video=False)).video is None


def test_a_decoder_failure_never_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    import tipline.media.hashing as hashing

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("decoder crashed")

    monkeypatch.setattr(hashing, "decode_for_hashing", broken)
    result = hash_file(encode(scene(100, 100), "PNG"))
    assert [e.code for e in result.errors] == [ProblemCode.INTERNAL]
    assert "RuntimeError" in result.errors[0].message and "decoder crashed" in result.errors[0].message
    assert len(result.sha256) == 64


def test_to_dict_is_json_ready() -> None:
    result = hash_file(make_video(), name="clip.mp4")
    record = json.loads(json.dumps(result.to_dict()))
    assert record["media_type"] == "video/mp4" and record["kind"] == "video"
    assert [f["frame_number"] for f in record["video"]["frames"]] == [0, 10]
    assert record["errors"] == [] and record["warnings"] == []
    assert isinstance(result, FileHashes)
