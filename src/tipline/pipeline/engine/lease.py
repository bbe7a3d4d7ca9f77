"""Holding a job's lease while its work is long (decoding a video, forwarding a report's files)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tipline.instance import Instance
    from tipline.pipeline.engine.jobs import ClaimedJob

log = logging.getLogger("tipline.pipeline")


class LeaseKeeper:
    """Renews a job's lease while its stage prepares (decoding a long video can outlast a lease)."""

    def __init__(self, instance: Instance, claimed: ClaimedJob) -> None:
        self.instance = instance
        self.claimed = claimed
        self.interval = max(0.5, instance.jobs.lease.total_seconds() / 3)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lease-{claimed.id}", daemon=True)

    def _renew(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.instance.db.transaction() as session:
                    if not self.instance.jobs.extend_lease(session, self.claimed):
                        return
            except Exception:  # noqa: BLE001 - a missed renewal only risks a second, idempotent run
                log.warning("could not renew the lease of job %s", self.claimed.id)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
