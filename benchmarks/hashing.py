"""Benchmark: 1-megapixel JPEGs through MD5, SHA-1, SHA-256 and PDQ, tipline against Thorn's perception + hashlib.

Both sides read the same JPEG files from disk, one image at a time on one core, in the same run:

- tipline:   tipline.media.hash_file(path) (crypto hashes while reading, PDQ after Meta's 512 downscale)
- baseline:  hashlib MD5, SHA-1 and SHA-256 of the file, plus perception.hashers.PDQHash().compute_with_quality(path)

Rounds alternate between the two sides so that a noisy shared machine hurts both alike; the median
round is reported. Images are generated (gradients, shapes, noise) or, with --photos, made from the
everyday photos in tests/data/threatexchange. Needs the `perception` package (the `bench` extra).

    .venv/bin/python benchmarks/hashing.py [--images 60] [--rounds 5] [--photos]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tipline.media import HashOptions, hash_file, pdq_distance  # noqa: E402

TARGET_RATIO = 1.5
WIDTH, HEIGHT = 1155, 866  # 1.0 megapixel, 4:3


def generated_image(seed: int) -> Image.Image:
    """A benign 1-megapixel picture: gradient, shapes, and sensor-like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    ramp = (np.cos(angle) * x / WIDTH + np.sin(angle) * y / HEIGHT) * 0.5 + 0.5
    base = np.stack([ramp * 220, (1 - ramp) * 180 + 40, np.full_like(ramp, rng.uniform(40, 200))], axis=2)
    image = Image.fromarray(base.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x0, y0 = int(rng.uniform(0, WIDTH)), int(rng.uniform(0, HEIGHT))
        x1, y1 = x0 + int(rng.uniform(30, 400)), y0 + int(rng.uniform(30, 300))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    noisy = np.asarray(image, dtype=np.int16) + rng.normal(0, 6, (HEIGHT, WIDTH, 3)).astype(np.int16)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def photo_images(count: int) -> list[Image.Image]:
    folder = ROOT / "tests" / "data" / "threatexchange" / "pdq"
    sources = sorted(folder.glob("dih/*.jpg")) + sorted(folder.glob("bridge-mods/*.jpg"))
    sources += sorted(folder.glob("labelme-subset/*.jpg"))
    images = []
    for index in range(count):
        with Image.open(sources[index % len(sources)]) as photo:
            fitted = photo.convert("RGB").resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
            # Each copy differs slightly so no decoder cache can help.
            images.append(fitted.rotate(0.5 * (index // len(sources)), resample=Image.Resampling.BILINEAR))
    return images


def write_jpegs(folder: Path, images: list[Image.Image]) -> list[Path]:
    paths = []
    for index, image in enumerate(images):
        path = folder / f"image-{index:04d}.jpg"
        image.save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def run_tipline(paths: list[Path], options: HashOptions) -> tuple[float, list[str]]:
    start = time.perf_counter()
    hashes = []
    for path in paths:
        result = hash_file(path, options=options)
        if result.errors or result.pdq is None:
            raise SystemExit(f"tipline failed on {path}: {result.errors}")
        hashes.append(result.pdq)
    return time.perf_counter() - start, hashes


def run_baseline(paths: list[Path], hasher: object) -> tuple[float, list[str]]:
    start = time.perf_counter()
    hashes = []
    for path in paths:
        md5, sha1, sha256 = hashlib.md5(), hashlib.sha1(), hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                md5.update(chunk)
                sha1.update(chunk)
                sha256.update(chunk)
        md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest()
        pdq, _quality = hasher.compute_with_quality(str(path), hash_format="hex")  # type: ignore[attr-defined]
        hashes.append(pdq)
    return time.perf_counter() - start, hashes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=60, help="how many 1-megapixel JPEGs (default 60)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed rounds per side (default 5)")
    parser.add_argument("--photos", action="store_true", help="use the everyday reference photos, resized")
    parser.add_argument("--dihedral", action="store_true", help="tipline also computes the 8 dihedral hashes")
    args = parser.parse_args()

    try:
        import cv2
        from perception.hashers import PDQHash
    except ImportError:
        raise SystemExit("this benchmark needs Thorn's perception: .venv/bin/pip install perception") from None
    cv2.setNumThreads(1)  # one core each: OpenCV would otherwise use every core for colour conversion

    images = photo_images(args.images) if args.photos else [generated_image(i) for i in range(args.images)]
    options = HashOptions(dihedral=args.dihedral)
    baseline = PDQHash()
    with tempfile.TemporaryDirectory(prefix="tipline-bench-") as folder:
        paths = write_jpegs(Path(folder), images)
        size = sum(p.stat().st_size for p in paths)
        run_tipline(paths[:3], options)  # warm up imports and caches
        run_baseline(paths[:3], baseline)
        ours, theirs = [], []
        for _ in range(args.rounds):
            elapsed, our_hashes = run_tipline(paths, options)
            ours.append(elapsed)
            elapsed, their_hashes = run_baseline(paths, baseline)
            theirs.append(elapsed)

    count = len(paths)
    our_rate = count / statistics.median(ours)
    their_rate = count / statistics.median(theirs)
    distances = [pdq_distance(a, b) for a, b in zip(our_hashes, their_hashes, strict=True)]
    source = "everyday photos (resized)" if args.photos else "generated images"
    print(f"{count} JPEGs of {WIDTH}x{HEIGHT} ({WIDTH * HEIGHT / 1e6:.2f} MP), {size / count / 1024:.0f} KiB each,")
    print(f"from {source}; {args.rounds} alternating rounds, median shown; one core (pid {os.getpid()})")
    print()
    print(f"{'hasher':<56} {'images/s/core':>14} {'ms/image':>9}")
    label = "tipline hash_file (md5, sha1, sha256, pdq" + (" + 8 dihedral)" if args.dihedral else ")")
    print(f"{label:<56} {our_rate:>14.1f} {1000 / our_rate:>9.2f}")
    print(f"{'hashlib md5/sha1/sha256 + perception PDQHash':<56} {their_rate:>14.1f} {1000 / their_rate:>9.2f}")
    print()
    ratio = our_rate / their_rate
    print(f"ratio: {ratio:.2f}x (target >= {TARGET_RATIO}x) -> {'met' if ratio >= TARGET_RATIO else 'NOT met'}")
    print(
        f"PDQ agreement with perception (full-resolution pdqhash): mean {statistics.mean(distances):.1f} bits, "
        f"max {max(distances)} bits"
    )


if __name__ == "__main__":
    main()
