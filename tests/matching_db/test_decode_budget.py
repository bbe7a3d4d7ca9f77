"""Pictures decoded on request in the web process (the HMA hashing APIs) stay within a budget: no
more than TIPLINE_DECODE_CONCURRENCY at once, none that needs more than TIPLINE_DECODE_MAX_PIXELS
pixels in memory (a PNG cannot be decoded at a reduced scale; a JPEG can, so a large JPEG is still
hashed), and too many waiting answer 503. benchmarks/decode_memory.py measures the memory."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support import build_instance
from websupport import build_site

from tipline.media import HashOptions, hash_file
from tipline.media.errors import ProblemCode
from tipline.web.decoding import DecodeBudget, DecodeBusy

SIDE = 6000  # 36 megapixels: under Pillow's own limit, over a 16-megapixel decode budget


def _picture(fmt: str) -> bytes:
    image = Image.new("L", (SIDE, SIDE), 200)
    image.paste(60, (SIDE // 4, SIDE // 4, SIDE // 2, SIDE // 2))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def test_a_png_needing_more_pixels_than_the_budget_is_refused_before_it_is_decoded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    png = _picture("PNG")
    from PIL import ImageFile

    def no_decoding(self: Any) -> None:
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    hashes = hash_file(png, name="flat.png", options=HashOptions(max_decoded_pixels=16_000_000))
    assert hashes.pdq is None
    assert [e.code for e in hashes.errors] == [ProblemCode.DECOMPRESSION_BOMB]
    assert "6,000 x 6,000" in hashes.errors[0].message and "16,000,000" in hashes.errors[0].message


def test_a_jpeg_of_the_same_size_is_decoded_at_a_reduced_scale_and_hashed() -> None:
    hashes = hash_file(_picture("JPEG"), name="flat.jpg", options=HashOptions(max_decoded_pixels=16_000_000))
    assert hashes.errors == ()
    assert hashes.pdq is not None and (hashes.width, hashes.height) == (SIDE, SIDE)


def test_the_hash_api_refuses_the_png_with_the_reason(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    instance = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_DECODE_MAX_PIXELS="16000000")
    try:
        answer = build_site(instance).esp().post("/h/hash", files={"photo": ("flat.png", _picture("PNG"), "image/png")})
        assert answer.status_code == 400
        assert "16,000,000" in answer.json()["message"]
    finally:
        instance.close()


def test_no_more_decodes_run_at_once_than_the_setting_allows(tmp_path: Path, request: pytest.FixtureRequest,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    instance = build_instance(tmp_path / "data", "sqlite", request, TIPLINE_DECODE_CONCURRENCY="1")
    try:
        site = build_site(instance)
        running = peak = 0
        lock = threading.Lock()
        from tipline.web.routes.hma import hashing as hma  # where uploads are hashed

        real = hma.hash_file

        def slow_hash(*args: Any, **kwargs: Any) -> Any:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.2)
            with lock:
                running -= 1
            return real(*args, **kwargs)

        monkeypatch.setattr(hma, "hash_file", slow_hash)
        photo = io.BytesIO()
        Image.new("RGB", (64, 64), (10, 120, 200)).save(photo, "PNG")
        statuses: list[int] = []

        def post() -> None:
            answer = site.esp().post("/h/hash", files={"photo": ("a.png", photo.getvalue(), "image/png")})
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=post) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * 4
        assert peak == 1
    finally:
        instance.close()


def test_too_many_waiting_decodes_are_refused_busy() -> None:
    budget = DecodeBudget(concurrency=1, max_pixels=16_000_000)
    release = threading.Event()

    async def scenario() -> list[Any]:
        waiting = [asyncio.ensure_future(budget.run(release.wait, 10)) for _ in range(9)]
        await asyncio.sleep(0.1)
        with pytest.raises(DecodeBusy):
            await budget.run(release.wait, 10)
        release.set()
        return await asyncio.gather(*waiting)

    try:
        assert asyncio.run(scenario()) == [True] * 9
    finally:
        budget.close()
