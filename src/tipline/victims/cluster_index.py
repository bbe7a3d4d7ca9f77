"""The index of reported media: every report file's PDQ and each video's frame hashes, in the matching
package's exact PDQ range index, one label per file. Built from the database on first use, then kept
current: the cluster stage adds what it hashes, and files other processes added are read in from the
database before each use (by the time they were hashed, with a window for late commits).
Exact hashes (MD5, SHA-256) are looked up in the database's own indexes, not held here."""

from __future__ import annotations

import re
import threading
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tipline.domain.base import utc_now
from tipline.matching import PDQ_DEFAULT_THRESHOLD, PDQ_MIN_QUALITY, PDQIndex
from tipline.store.tables import FileSignalRow, ReportFileRow

CATCH_UP_OVERLAP = timedelta(seconds=5)
"""Each use reads in the files hashed since the last look, less this (a hashing stage commits at once)."""
CATCH_UP_WINDOW = timedelta(seconds=120)
"""At most every FULL_CATCH_UP_EVERY, the last two minutes are read again, for commits that came late."""
FULL_CATCH_UP_EVERY = timedelta(seconds=30)
LOAD_BATCH = 20_000
_HEX = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class IndexedFile:
    """A file of the index near a query, and the nearest distance of any of its hashes."""

    file_id: str
    report_id: int
    distance: int


@dataclass(frozen=True)
class FileHashes:
    """A file's perceptual hashes of usable quality: its PDQ, or its video frames' PDQs."""

    file_id: str
    report_id: int
    hashes: tuple[str, ...]
    hashed_at: datetime | None = None


def usable_hashes(session: Session, files: Sequence[ReportFileRow]) -> list[FileHashes]:
    """Each file's hashes worth comparing: a PDQ (or frame) below quality 50 says little (flat pictures
    all look alike) and is left out, as the matcher does."""
    frames: dict[str, list[str]] = {}
    ids = [f.id for f in files]
    for start in range(0, len(ids), 500):
        for file_id, value, quality in session.execute(
            select(FileSignalRow.file_id, FileSignalRow.value, FileSignalRow.quality)
            .where(FileSignalRow.file_id.in_(ids[start:start + 500]), FileSignalRow.signal_type == "vpdq_frame")
        ).all():
            if (quality or 0) >= PDQ_MIN_QUALITY:
                frames.setdefault(file_id, []).append(value)
    out = []
    for file in files:
        hashes = list(frames.get(file.id, []))
        if file.pdq and (file.pdq_quality is None or file.pdq_quality >= PDQ_MIN_QUALITY):
            hashes.insert(0, file.pdq)
        if hashes:
            out.append(FileHashes(file.id, file.report_id, tuple(dict.fromkeys(hashes)), file.hashed_at))
    return out


class ClusterIndex:
    """One process's index of reported media (thread-safe: one writer at a time, readers never wait).

    Per file it holds the PDQ index's share, the file's id in 16 bytes (ids are UUIDs in hex; any
    other id is kept aside as text) and its report's number. Which files it already holds is known
    only for those hashed within the catch-up window: older ones are never read in again."""

    def __init__(self) -> None:
        self._index: PDQIndex | None = None
        self._ids = bytearray()
        self._odd_ids: dict[int, str] = {}
        self._report_ids = array("q")
        self._recent: dict[str, datetime] = {}
        self._watermark: datetime | None = None
        self._full_catch_up: datetime | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._report_ids)

    def file_id(self, label: int) -> str:
        return self._odd_ids.get(label) or self._ids[16 * label:16 * label + 16].hex()

    def ready(self, session: Session) -> ClusterIndex:
        """Load on first use, else read in files other processes hashed since the last look."""
        with self._lock:
            if self._index is None:
                self._load(session)
            else:
                self._catch_up(session)
        return self

    def add(self, files: Iterable[FileHashes]) -> None:
        """Index these files (ones already indexed are skipped)."""
        with self._lock:
            self._add_locked(files)

    def _label(self, file: FileHashes) -> int:
        label = len(self._report_ids)
        self._report_ids.append(file.report_id)
        if len(file.file_id) == 32 and _HEX.fullmatch(file.file_id):
            self._ids += bytes.fromhex(file.file_id)
        else:
            self._ids += bytes(16)
            self._odd_ids[label] = file.file_id
        return label

    def _add_locked(self, files: Iterable[FileHashes]) -> None:
        labels: list[int] = []
        hashes: list[str] = []
        now = utc_now()
        for file in files:
            if file.file_id in self._recent:
                continue
            self._recent[file.file_id] = file.hashed_at or now
            label = self._label(file)
            labels += [label] * len(file.hashes)
            hashes += file.hashes
        if hashes:
            if self._index is None:
                self._index = PDQIndex()
            self._index.add(labels, hashes)

    def build(self, files: Iterable[FileHashes], *, recent_since: datetime | None = None) -> None:
        """Replace the index with these files, built in one pass (the fast path for a large start);
        those hashed at or after `recent_since` are remembered as held (for the catch-up)."""
        labels: list[int] = []
        hashes: list[str] = []
        self._ids, self._odd_ids, self._report_ids, self._recent = bytearray(), {}, array("q"), {}
        for file in files:
            label = self._label(file)
            if recent_since is not None and file.hashed_at is not None and file.hashed_at >= recent_since:
                self._recent[file.file_id] = file.hashed_at
            labels += [label] * len(file.hashes)
            hashes += file.hashes
        self._index = PDQIndex.build(labels, hashes) if hashes else PDQIndex()

    def near(self, hashes: Sequence[str], *, exclude_report: int | None = None,
             radius: int = PDQ_DEFAULT_THRESHOLD) -> list[IndexedFile]:
        """Indexed files within `radius` of any of `hashes` (not of report `exclude_report`), nearest first."""
        index = self._index
        if index is None or not hashes:
            return []
        result = index.search(list(hashes), radius)
        best: dict[int, int] = {}
        for query in range(len(hashes)):
            for label, distance in result.for_query(query):
                if label not in best or distance < best[label]:
                    best[label] = int(distance)
        out = [IndexedFile(self.file_id(label), self._report_ids[label], distance)
               for label, distance in best.items() if self._report_ids[label] != exclude_report]
        return sorted(out, key=lambda f: (f.distance, f.report_id, f.file_id))

    def _load(self, session: Session) -> None:
        started = utc_now()
        files: list[FileHashes] = []
        last = ""
        while True:
            batch = list(session.execute(
                select(ReportFileRow).where(ReportFileRow.id > last, ReportFileRow.hashed_at.is_not(None))
                .order_by(ReportFileRow.id).limit(LOAD_BATCH)).scalars())
            if not batch:
                break
            files += usable_hashes(session, batch)
            last = batch[-1].id
            session.expunge_all()
        self.build(files, recent_since=started - CATCH_UP_WINDOW)
        self._watermark = self._full_catch_up = started

    def _catch_up(self, session: Session) -> None:
        assert self._watermark is not None
        now = utc_now()
        if self._full_catch_up is None or now - self._full_catch_up >= FULL_CATCH_UP_EVERY:
            since, self._full_catch_up = self._watermark - CATCH_UP_WINDOW, now
        else:
            since = self._watermark - CATCH_UP_OVERLAP
        ids = [i for i in session.execute(select(ReportFileRow.id).where(ReportFileRow.hashed_at >= since)).scalars()
               if i not in self._recent]
        for start in range(0, len(ids), 500):
            rows = list(session.execute(select(ReportFileRow).where(ReportFileRow.id.in_(ids[start:start + 500])))
                        .scalars())
            self._add_locked(usable_hashes(session, rows))
        self._watermark = now
        oldest = now - CATCH_UP_WINDOW  # no later catch-up reads a file hashed before this again
        self._recent = {file_id: at for file_id, at in self._recent.items() if at >= oldest}
