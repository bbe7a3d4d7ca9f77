"""The `tipline hash` command: crypto and perceptual hashes of files, as text or one JSON object per line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from tqdm import tqdm

from tipline.media.errors import ProblemCode
from tipline.media.hashing import FileHashes, HashOptions, hash_file
from tipline.media.images import DEFAULT_MAX_IMAGE_PIXELS

PROGRESS_MIN_FILES = 10
"""A progress bar appears on stderr (when it is a terminal) from this many files on."""


def _text_block(path: str, result: FileHashes) -> str:
    lines = [path]

    def row(label: str, value: object) -> None:
        lines.append(f"  {label:<12} {value}")

    row("size", result.size)
    row("media_type", result.media_type)
    if result.declared_type and result.declared_type != result.media_type:
        row("declared", result.declared_type)
    row("md5", result.md5)
    row("sha1", result.sha1)
    row("sha256", result.sha256)
    if result.width is not None:
        row("dimensions", f"{result.width} x {result.height}")
    if result.pdq is not None:
        row("pdq", result.pdq)
        row("pdq_quality", result.pdq_quality)
    if result.dihedral is not None:
        for name, value in result.dihedral.as_dict().items():
            if name != "original":
                row(f"pdq_{name}", value)
    if result.video is not None:
        video = result.video
        rate = f"{video.frame_rate:.3f} fps" if video.frame_rate else "unknown rate"
        row("video", f"{video.codec} in {video.container}, {rate}, {video.frames_decoded} frames decoded")
        row("frames", f"{len(video.frames)} hashed (one per {video.seconds_per_hash:g} s; 0 = every frame)")
        for frame in video.frames:
            row(f"frame {frame.frame_number}", f"t={frame.timestamp:.3f} quality={frame.quality} pdq={frame.pdq}")
    if result.archive is not None:
        archive = result.archive
        row("archive", f"{archive.entries} entries, {archive.uncompressed_bytes:,} bytes uncompressed")
    for problem in result.warnings:
        row("warning", f"{problem.code.value}: {problem.message}")
    for problem in result.errors:
        row("error", f"{problem.code.value}: {problem.message}")
    return "\n".join(lines)


def _unreadable(path: str, exc: OSError) -> tuple[str, dict[str, object]]:
    reason = exc.strerror or str(exc)
    message = f"cannot read {path}: {reason}"
    record: dict[str, object] = {"path": path, "errors": [{"code": ProblemCode.READ_FAILED.value, "message": message}], "warnings": []}
    return f"{path}\n  error        {ProblemCode.READ_FAILED.value}: {message}", record


@click.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file, one per line.")
@click.option(
    "--seconds-per-hash",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Hash one video frame every this many seconds (0 hashes every frame).",
)
@click.option("--dihedral", is_flag=True, help="Also print the PDQ of the image's rotations and flips.")
@click.option(
    "--max-pixels",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_IMAGE_PIXELS,
    show_default=True,
    help="Refuse images and video frames larger than this (decompression bombs).",
)
def hash_command(
    files: tuple[Path, ...], as_json: bool, seconds_per_hash: float, dihedral: bool, max_pixels: int
) -> None:
    """Print the size, media type, MD5, SHA-1, SHA-256 and, for images and videos, PDQ hashes of FILES.

    Every file is hashed even when others fail; the exit status is 1 if any file had an error.
    """
    options = HashOptions(dihedral=dihedral, seconds_per_hash=seconds_per_hash, max_image_pixels=max_pixels)
    show_bar = len(files) >= PROGRESS_MIN_FILES and sys.stderr.isatty()
    failed = 0
    with tqdm(total=len(files), unit="file", file=sys.stderr, disable=not show_bar, dynamic_ncols=True) as bar:
        for path in files:
            shown = os.fspath(path)
            try:
                if path.is_dir():
                    raise IsADirectoryError(21, "is a directory", shown)
                result = hash_file(path, name=path.name, options=options)
                text = _text_block(shown, result)
                record = {"path": shown, **{k: v for k, v in result.to_dict().items() if k != "name"}}
                failed += 0 if result.ok else 1
            except OSError as exc:
                text, record = _unreadable(shown, exc)
                failed += 1
            line = json.dumps(record, ensure_ascii=False) if as_json else text
            if show_bar:
                bar.write(line, file=sys.stdout)
            else:
                click.echo(line)
            bar.update(1)
    if failed:
        click.echo(f"{failed} of {len(files)} files had errors", err=True)
        sys.exit(1)
