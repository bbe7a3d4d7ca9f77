"""The demo's victim identification: two series with media in a bank (one identified by the demo
agency, one not) and a set of new pictures, placed in several demo reports, so that the pipeline shows
each thing: the agency notified when its series comes back, an unidentified series recurring in the
victim-identification queue, and a cluster of new material across reports. All pictures are abstract
shapes made up here (nothing to see but colours)."""

from __future__ import annotations

import dataclasses
import io
import random
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance

from tipline.demo.dataset import DemoReport
from tipline.domain.audit import Actor
from tipline.instance import Instance
from tipline.victims.media import entries_for, hash_media

IDENTIFIED_SERIES = "Harbour Lights"
UNIDENTIFIED_SERIES = "Paper Boats"
# (series, seed of its picture, how many demo reports carry a copy); None: new material (a cluster)
PLACEMENTS: list[tuple[str | None, int, int]] = [(IDENTIFIED_SERIES, 11, 1), (UNIDENTIFIED_SERIES, 12, 3),
                                                 (None, 13, 3)]


def shapes(seed: int, variant: int = 0) -> bytes:
    """An abstract picture; each `variant` is the same picture slightly brighter and re-encoded (another
    SHA-256, a PDQ a few bits away), as a picture passed around online becomes."""
    rng = random.Random(seed)
    width, height = 480, 360
    image = Image.new("RGB", (width, height), tuple(rng.randint(0, 255) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y, size = rng.randint(0, width - 60), rng.randint(0, height - 60), rng.randint(30, 150)
        draw.rectangle((x, y, x + size, y + size * 2 // 3), fill=tuple(rng.randint(0, 255) for _ in range(3)))
    if variant:
        image = ImageEnhance.Brightness(image).enhance(1 + 0.03 * variant)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90 - 4 * variant)
    return out.getvalue()


def seed_series(instance: Instance, agency_code: str, actor: Actor, workdir: Path) -> None:
    """Register the demo series with their pictures in the series bank; the first is identified by the
    demo agency."""
    for series_name, seed, _copies in PLACEMENTS:
        if series_name is None:
            continue
        path = workdir / f"demo-series-{seed}.jpg"
        path.write_bytes(shapes(seed))
        try:
            entries = entries_for(hash_media(path), source="tipline demo", source_id=f"{series_name} picture 1",
                                  added_by=actor.name)
        finally:
            path.unlink(missing_ok=True)
        with instance.db.transaction() as session:
            row = instance.series.create(session, series_name, actor, notes="Demo series: abstract pictures.")
            instance.series.add_media(session, row, entries, actor, instance.banks)
            instance.series.add_victim(session, row, actor, pseudonym=f"{series_name.split()[0]} child",
                                       sex="unknown", age_band="6-9")
            if series_name == IDENTIFIED_SERIES:
                instance.series.identify(session, row, agency_code, actor, case_reference="DEMO-2026-001")


def place_material(reports: Sequence[DemoReport]) -> list[DemoReport]:
    """The reports with copies of the series' and the new material's pictures added to provider reports
    that carry files (the oldest first, so the series come back in later ones)."""
    out = list(reports)
    carriers = [i for i, r in enumerate(out) if r.provider and r.files]
    position = 0
    for _series, seed, copies in PLACEMENTS:
        for copy in range(copies):
            if position >= len(carriers):
                return out
            index = carriers[-1 - position]  # the newest reports: seen after the series were registered
            report = out[index]
            out[index] = dataclasses.replace(report, files=report.files + ((f"image_{seed}_{copy}.jpg",
                                                                            shapes(seed, copy + 1)),))
            position += 1
    return out
