"""Shared fixtures for the media tests: Meta's reference data (repo copy), generated benign images and videos."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "threatexchange"


@pytest.fixture(scope="session")
def reference() -> Path:
    assert (REFERENCE / "LICENSE").is_file(), "tests/data/threatexchange is missing (copy of Meta's reference data)"
    return REFERENCE


def scene(width: int = 320, height: int = 240, seed: int = 1) -> Image.Image:
    """A benign synthetic picture: a colour gradient with a few shapes, different for each seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    angle = rng.uniform(0, np.pi)
    ramp = (np.cos(angle) * x / width + np.sin(angle) * y / height) * 0.5 + 0.5
    base = np.stack([ramp * 255, (1 - ramp) * 200 + 30, np.full_like(ramp, rng.uniform(40, 200))], axis=2)
    image = Image.fromarray(base.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x0, y0 = int(rng.uniform(0, width * 0.9)), int(rng.uniform(0, height * 0.9))
        x1, y1 = x0 + int(rng.uniform(width * 0.05, width * 0.3)), y0 + int(rng.uniform(height * 0.05, height * 0.3))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    return image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def make_video(
    container: str = "mp4",
    codec: str = "libx264",
    *,
    seconds: float = 2.0,
    fps: int = 10,
    size: tuple[int, int] = (128, 96),
    seed: int = 3,
    pix_fmt: str = "yuv420p",
) -> bytes:
    """A short benign video: a synthetic scene slowly panning, encoded in memory."""
    width, height = size
    big = np.asarray(scene(width * 2, height, seed=seed))
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        stream = output.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        for index in range(int(seconds * fps)):
            shift = int(index * width / (seconds * fps))
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(big[:, shift : shift + width]), format="rgb24")
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()
