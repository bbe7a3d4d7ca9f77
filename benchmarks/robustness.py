"""Benchmark: how well tipline's PDQ finds transformed copies (recall at distance 31) and how rarely it confuses images.

A few hundred benign images (generated scenes, plus the everyday photos in tests/data/threatexchange)
go through each transformation: JPEG at quality 30 to 95, resizing, gamma, noise, overlaid text, and
flips and 90-degree rotations (matched through the original's eight dihedral hashes, as a hotline
matches rotated copies). For each transformation the table gives the recall at the threshold, the
distance to the original, and the false-match rate against every other original. The false-match
rate between different originals is printed too. Hashes below quality 50 are never matched, as in
production, and are left out (the count is printed).

    .venv/bin/python benchmarks/robustness.py [--images 200] [--size 640x480] [--threshold 31]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tipline.media import PDQ_MATCH_THRESHOLD, PDQ_MIN_MATCH_QUALITY  # noqa: E402
from tipline.media.images import decode_for_hashing  # noqa: E402
from tipline.media.pdq import dihedral_from_pixels, pdq_from_image  # noqa: E402


def generated_image(seed: int, width: int, height: int) -> Image.Image:
    """A benign synthetic picture; the seed picks the layout, palette, texture and shapes."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * x / width + np.sin(angle) * y / height) * 0.5 + 0.5
    palette = rng.uniform(30, 230, (2, 3))
    base = ramp[..., None] * palette[0] + (1 - ramp[..., None]) * palette[1]
    if rng.random() < 0.5:  # a soft wave texture on some of them
        freq = rng.uniform(2, 12)
        base += 25 * np.sin(2 * np.pi * freq * (x / width + rng.uniform() * y / height))[..., None]
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(8, 40))):
        x0, y0 = rng.uniform(-0.1, 1.0) * width, rng.uniform(-0.1, 1.0) * height
        w, h = rng.uniform(0.03, 0.4) * width, rng.uniform(0.03, 0.4) * height
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = rng.integers(0, 3)
        if shape == 0:
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
        elif shape == 1:
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
        else:
            draw.line((x0, y0, x0 + w, y0 + h), fill=colour, width=int(rng.integers(2, 12)))
    return image


def everyday_photos() -> list[Image.Image]:
    folder = ROOT / "tests" / "data" / "threatexchange" / "pdq"
    paths = [folder / "dih" / "bridge-1-original.jpg", *sorted((folder / "labelme-subset").glob("*.jpg"))]
    photos = []
    for path in paths:
        with Image.open(path) as photo:
            photos.append(photo.convert("RGB"))
    return photos


def _jpeg(quality: int) -> Callable[[Image.Image], bytes]:
    def transform(image: Image.Image) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        return buffer.getvalue()

    return transform


def _resize(scale: float) -> Callable[[Image.Image], Image.Image]:
    def transform(image: Image.Image) -> Image.Image:
        size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
        return image.resize(size, Image.Resampling.LANCZOS)

    return transform


def _gamma(gamma: float) -> Callable[[Image.Image], Image.Image]:
    table = [round(255 * (i / 255) ** gamma) for i in range(256)] * 3

    def transform(image: Image.Image) -> Image.Image:
        return image.point(table)

    return transform


def _noise(sigma: float) -> Callable[[Image.Image], Image.Image]:
    def transform(image: Image.Image) -> Image.Image:
        rng = np.random.default_rng(image.width * 31 + image.height)
        noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, sigma, (image.height, image.width, 3))
        return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")

    return transform


def _text(lines: tuple[str, ...], height_fraction: float) -> Callable[[Image.Image], Image.Image]:
    def transform(image: Image.Image) -> Image.Image:
        out = image.copy()
        draw = ImageDraw.Draw(out)
        size = max(10, round(image.height * height_fraction))
        try:
            font = ImageFont.load_default(size=size)
        except TypeError:  # Pillow without FreeType sizes
            font = ImageFont.load_default()
        for row, words in enumerate(lines):
            position = (image.width // 20, image.height // 20 + round(row * size * 1.3))
            draw.text(position, words, fill=(255, 255, 255), font=font, stroke_width=2, stroke_fill=(0, 0, 0))
        return out

    return transform


def _transpose(method: Image.Transpose) -> Callable[[Image.Image], Image.Image]:
    def transform(image: Image.Image) -> Image.Image:
        return image.transpose(method)

    return transform


# name -> (transformation, matched through the dihedral hashes)
TRANSFORMS: dict[str, tuple[Callable[[Image.Image], Image.Image | bytes], bool]] = {
    "jpeg q95": (_jpeg(95), False),
    "jpeg q70": (_jpeg(70), False),
    "jpeg q50": (_jpeg(50), False),
    "jpeg q30": (_jpeg(30), False),
    "resize 50%": (_resize(0.5), False),
    "resize 25%": (_resize(0.25), False),
    "resize 150%": (_resize(1.5), False),
    "gamma 0.6": (_gamma(0.6), False),
    "gamma 1.6": (_gamma(1.6), False),
    "noise sigma 8": (_noise(8), False),
    "noise sigma 20": (_noise(20), False),
    "caption (1/16 height)": (_text(("shared 2 days ago",), 1 / 16), False),
    "text (2 lines, 1/10)": (_text(("SAMPLE CAPTION", "shared 2 days ago"), 1 / 10), False),
    "flip left-right": (_transpose(Image.Transpose.FLIP_LEFT_RIGHT), True),
    "flip top-bottom": (_transpose(Image.Transpose.FLIP_TOP_BOTTOM), True),
    "rotate 90": (_transpose(Image.Transpose.ROTATE_90), True),
    "rotate 180": (_transpose(Image.Transpose.ROTATE_180), True),
    "rotate 270": (_transpose(Image.Transpose.ROTATE_270), True),
    "transpose": (_transpose(Image.Transpose.TRANSPOSE), True),
}


def as_matrix(hex_hashes: list[str]) -> np.ndarray:
    raw = b"".join(bytes.fromhex(h) for h in hex_hashes)
    return np.frombuffer(raw, dtype=">u8").reshape(len(hex_hashes), 4).astype(np.uint64)


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All pairwise Hamming distances between the rows of a (n x 4 uint64) and b (m x 4)."""
    return np.bitwise_count(a[:, None, :] ^ b[None, :, :]).sum(axis=2, dtype=np.int32)


def report(label: str, matrix: np.ndarray, usable: np.ndarray, n: int, threshold: int) -> None:
    """One table row: recall of each copy against its own original, false matches against the others."""
    own = np.diag(matrix).copy()
    np.fill_diagonal(matrix, 10_000)
    recall = float(np.mean((own <= threshold) & usable))
    false = int(np.sum((matrix <= threshold) & usable[:, None]))
    print(
        f"{label:<28} {recall:>7.1%} {own.mean():>7.1f} {np.percentile(own, 95):>6.0f} {own.max():>6} "
        f"{false / (n * (n - 1)):>13.4%} {int((~usable).sum()):>5}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200, help="generated images (default 200)")
    parser.add_argument("--size", default="640x480", help="generated image size (default 640x480)")
    parser.add_argument("--threshold", type=int, default=PDQ_MATCH_THRESHOLD, help="match distance (default 31)")
    parser.add_argument("--no-photos", action="store_true", help="leave out the everyday reference photos")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    started = time.perf_counter()

    originals = [generated_image(seed, width, height) for seed in range(args.images)]
    if not args.no_photos:
        originals += everyday_photos()
    decoded = [decode_for_hashing(image) for image in originals]
    dihedral = [dihedral_from_pixels(d.pixels) for d in decoded]
    keep = [i for i, d in enumerate(dihedral) if d.quality >= PDQ_MIN_MATCH_QUALITY]
    dropped = len(originals) - len(keep)
    originals = [originals[i] for i in keep]
    dihedral = [dihedral[i] for i in keep]
    exact = [dihedral_from_pixels(decoded[i].pixels, exact=True) for i in keep]
    n = len(originals)
    plain = as_matrix([d.hashes[0] for d in dihedral])
    variants = [as_matrix([d.hashes[v] for d in dihedral]) for v in range(8)]
    exact_variants = [as_matrix([d.hashes[v] for d in exact]) for v in range(8)]

    # Different originals against each other.
    between = distances(plain, plain)
    upper = between[np.triu_indices(n, k=1)]
    between_dih = np.min([distances(plain, variants[v]) for v in range(8)], axis=0)
    np.fill_diagonal(between_dih, 10_000)
    pairs = n * (n - 1) // 2

    source = f"{args.images} generated at {width}x{height}" + ("" if args.no_photos else " + everyday photos")
    print(f"{n} originals ({source}); {dropped} left out for quality < {PDQ_MIN_MATCH_QUALITY}; ", end="")
    print(f"threshold {args.threshold}")
    print()
    header = f"{'transformation':<28} {'recall':>8} {'mean d':>7} {'p95 d':>6} {'max d':>6} {'false matches':>14}"
    header += f" {'lowq':>5}"
    print(header)
    print("-" * len(header))
    for name, (transform, use_dihedral) in TRANSFORMS.items():
        hashes, qualities = [], []
        for image in originals:
            copy = transform(image)
            pdq = pdq_from_image(copy)
            hashes.append(pdq.hex)
            qualities.append(pdq.quality)
        copies = as_matrix(hashes)
        usable = np.array(qualities) >= PDQ_MIN_MATCH_QUALITY
        if not use_dihedral:
            report(name, distances(copies, plain), usable, n, args.threshold)
            continue
        for label, table in (("dih", variants), ("dih exact", exact_variants)):
            matrix = np.min([distances(copies, table[v]) for v in range(8)], axis=0)
            report(f"{name} ({label})", matrix, usable, n, args.threshold)
    print()
    close = int(np.sum(upper <= args.threshold))
    print(f"false-match rate between different originals: {close / pairs:.4%} ({close} of {pairs:,} pairs; ", end="")
    print(f"closest pair at distance {upper.min()})")
    dih_pairs = int(np.sum(between_dih <= args.threshold))
    print(f"  with dihedral matching (any of the 8 variants): {dih_pairs / (n * (n - 1)):.4%} of ordered pairs")
    print("recall: copies within the threshold of their own original (copies below quality 50 count as misses);")
    print("false matches: copies within the threshold of another original, over all copy/other-original pairs;")
    print("lowq: copies whose quality fell below 50 (never matched in production)")
    print("(dih): the original's 8 dihedral hashes from the DCT, as Meta's reference and hash_file compute them;")
    print("(dih exact): the 8 hashes of the really rotated and flipped pixels (HashOptions(dihedral_exact=True))")
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
