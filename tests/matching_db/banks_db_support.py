"""Helpers for the bank tests: the `tipline banks` command run in-process on an instance, random hashes,
generated pictures, and reading a bank's rows back straight from the database (not through BankStore)."""

from __future__ import annotations

import io
import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from click.testing import CliRunner, Result
from PIL import Image
from sqlalchemy import select
from support import instance_env

from tipline.cli import main
from tipline.instance import Instance
from tipline.store.tables import BankEntryRow, BankRow


def tipline(instance: Instance, *args: str, ok: bool = True) -> Result:
    """`tipline ARGS...` against the instance, as a separate command would run it (its own Instance)."""
    result = CliRunner().invoke(main, list(args), env=instance_env(instance), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, (result.output, result.stderr)
    return result


def tipline_json(instance: Instance, *args: str) -> Any:
    return json.loads(tipline(instance, *args, "--json").stdout)


def rand_hex(chars: int) -> str:
    return secrets.token_hex(chars // 2)


def flip_bits(hex_hash: str, count: int, seed: int = 0) -> str:
    """The hash with `count` distinct bits flipped (so its Hamming distance to the original is `count`)."""
    bits = int(hex_hash, 16)
    for position in np.random.default_rng(seed).choice(len(hex_hash) * 4, size=count, replace=False):
        bits ^= 1 << int(position)
    return f"{bits:0{len(hex_hash)}x}"


def hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def rows_of(instance: Instance, bank: str) -> list[BankEntryRow]:
    """The bank's entry rows, read with plain SQL (independently of BankStore.entries)."""
    with instance.db.transaction() as session:
        bank_id = session.execute(select(BankRow.id).where(BankRow.name == bank)).scalar_one()
        rows = list(session.execute(
            select(BankEntryRow).where(BankEntryRow.bank_id == bank_id).order_by(BankEntryRow.id)).scalars())
        session.expunge_all()
    return rows


def provenance(rows: list[BankEntryRow]) -> list[tuple[Any, ...]]:
    """What an entry is, as a sortable tuple: signal type, value and provenance."""
    return sorted((r.signal_type, r.value, r.source, r.source_id, r.classification, r.series) for r in rows)


def picture(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A generated, benign picture: coloured blocks on a gradient, different for each seed."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 90)], axis=2).astype("uint8")
    for _ in range(18):
        top, left = rng.integers(0, height - 40), rng.integers(0, width - 40)
        pixels[top:top + 40, left:left + 40] = rng.integers(0, 255, 3)
    return Image.fromarray(pixels)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def within(seconds: float, check: Callable[[], bool], *, step: float = 0.02) -> float:
    """Poll `check` until it holds; returns how long that took, or fails after `seconds`."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not true within {seconds} s")
        time.sleep(step)


def csrf_headers(client: Any) -> dict[str, str]:
    page = client.get("/welcome").text
    return {"X-CSRF-Token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)}  # type: ignore[union-attr]
