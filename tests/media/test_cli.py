"""The `hash` command: text and JSON output per file, errors reported without stopping the batch, exit status."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tipline.cli.media import hash_command

from .conftest import encode, make_video, scene


def _files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "photo": tmp_path / "photo.jpg",
        "clip": tmp_path / "clip.mp4",
        "notes": tmp_path / "notes.txt",
    }
    files["photo"].write_bytes(encode(scene(300, 200, seed=7), "JPEG"))
    files["clip"].write_bytes(make_video())
    files["notes"].write_text("nothing to see\n")
    return files


def test_json_lines_for_each_file(tmp_path: Path) -> None:
    files = _files(tmp_path)
    result = CliRunner().invoke(hash_command, ["--json", *map(str, files.values())])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["path"] for r in records] == [str(p) for p in files.values()]
    photo, clip, notes = records
    for record in records:
        assert {"size", "media_type", "md5", "sha1", "sha256"} <= record.keys()
    assert photo["media_type"] == "image/jpeg" and len(photo["pdq"]) == 64 and 0 <= photo["pdq_quality"] <= 100
    assert clip["media_type"] == "video/mp4" and len(clip["video"]["frames"]) == 2
    assert notes["media_type"] == "text/plain" and "pdq" not in notes


def test_text_output(tmp_path: Path) -> None:
    files = _files(tmp_path)
    result = CliRunner().invoke(hash_command, [str(files["photo"]), str(files["clip"])])
    assert result.exit_code == 0
    out = result.stdout
    assert str(files["photo"]) in out and "media_type   image/jpeg" in out and "pdq_quality" in out
    assert "frame 0" in out and "frame 10" in out and "quality=" in out


def test_errors_are_reported_and_the_batch_goes_on(tmp_path: Path) -> None:
    files = _files(tmp_path)
    truncated = tmp_path / "broken.jpg"
    truncated.write_bytes(files["photo"].read_bytes()[:800])
    missing = tmp_path / "missing.png"
    args = ["--json", str(truncated), str(missing), str(tmp_path), str(files["photo"])]
    result = CliRunner().invoke(hash_command, args)
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 4
    assert records[0]["errors"][0]["code"] == "truncated" and len(records[0]["sha256"]) == 64
    assert records[1]["errors"][0]["code"] == "read_failed" and "No such file" in records[1]["errors"][0]["message"]
    assert records[2]["errors"][0]["code"] == "read_failed" and "directory" in records[2]["errors"][0]["message"]
    assert records[3]["errors"] == [] and len(records[3]["pdq"]) == 64
    assert "3 of 4 files had errors" in result.stderr


def test_every_frame_option(tmp_path: Path) -> None:
    clip = tmp_path / "clip.webm"
    clip.write_bytes(make_video("webm", "libvpx-vp9", seconds=1.0, fps=10))
    result = CliRunner().invoke(hash_command, ["--json", "--seconds-per-hash", "0", str(clip)])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["video"]["frames"]) == 10


def test_dihedral_option(tmp_path: Path) -> None:
    photo = _files(tmp_path)["photo"]
    record = json.loads(CliRunner().invoke(hash_command, ["--json", "--dihedral", str(photo)]).stdout)
    assert len(record["dihedral"]) == 8 and record["dihedral"]["original"] == record["pdq"]


def test_no_files_is_a_usage_error() -> None:
    result = CliRunner().invoke(hash_command, [])
    assert result.exit_code == 2
