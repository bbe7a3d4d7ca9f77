"""The viewer's large picture is blurred as much, relative to its size, as the thumbnail: a strong blur of a
1200 px picture must not read sharper than the same picture's strong-blurred thumbnail."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tipline.media.previews import LARGE_SIZE, VIEWER_DEFAULT, PreviewStyle, render_preview


def _blocks(width: int, height: int) -> bytes:
    rng = np.random.default_rng(7)
    pixels = np.zeros((height, width, 3), dtype="uint8")
    for _ in range(30):
        top, left = rng.integers(0, height - 150), rng.integers(0, width - 150)
        pixels[top:top + 150, left:left + 150] = rng.integers(0, 255, 3)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _steepest_edge(jpeg: bytes) -> float:
    """The steepest step between neighbouring pixels once the picture is seen at a thumbnail's width."""
    image = Image.open(io.BytesIO(jpeg)).convert("L")
    pixels = np.asarray(image.resize((240, round(240 * image.height / image.width)), Image.Resampling.BOX)).astype(int)
    return float(np.abs(np.diff(pixels, axis=1)).max())


def test_a_large_picture_is_blurred_as_much_for_its_size_as_its_thumbnail() -> None:
    picture = _blocks(1200, 900)
    thumbnail = render_preview(io.BytesIO(picture), "image", VIEWER_DEFAULT)
    large = render_preview(io.BytesIO(picture), "image", VIEWER_DEFAULT, size=LARGE_SIZE)
    assert Image.open(io.BytesIO(large)).size == (1200, 900)
    assert _steepest_edge(large) <= _steepest_edge(thumbnail) * 1.5
    light = render_preview(io.BytesIO(picture), "image", PreviewStyle(strength="light"), size=LARGE_SIZE)
    assert _steepest_edge(large) < _steepest_edge(light)  # the steps are graduated
