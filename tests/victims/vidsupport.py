"""Helpers for the victim-identification tests: benign generated pictures and reports carrying them."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import select

from tipline.domain.audit import Actor
from tipline.instance import Instance
from tipline.store.tables import AuditEventRow

ACTOR = Actor.system("test")


def blocks(seed: int, *, shift: int = 0, size: tuple[int, int] = (240, 320)) -> bytes:
    """A generated picture: coloured blocks over a gradient, placed by `seed`. `shift` moves one block a
    few pixels: a near-identical picture (another PDQ within a small distance, another SHA-256)."""
    rng = np.random.default_rng(seed)
    height, width = size
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], axis=-1).astype("uint8")
    for index in range(12):
        top, left = int(rng.integers(0, height - 40)), int(rng.integers(0, width - 40))
        if index == 0:
            top = min(height - 40, top + shift)
        pixels[top:top + 40, left:left + 40] = rng.integers(0, 255, 3)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def actions(instance: Instance, **where: Any) -> list[str]:
    with instance.db.transaction() as session:
        statement = select(AuditEventRow.action).order_by(AuditEventRow.seq)
        if "report_id" in where:
            statement = statement.where(AuditEventRow.report_id == where["report_id"])
        return list(session.execute(statement).scalars())
