"""The embedded pipeline backend: worker threads in the web process, fed by durable job rows."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tipline.pipeline.engine.jobs import new_worker_id
from tipline.pipeline.engine.maintenance import OUTBOUND_TASKS, Periodic
from tipline.pipeline.engine.runner import run_next

if TYPE_CHECKING:
    from tipline.instance import Instance

log = logging.getLogger("tipline.pipeline")
OUTBOUND_LOOK_SECONDS = 15.0  # how often the outbound thread asks whether its tasks are due


class InProcessWorker:
    """Runs due jobs on background threads; wakes as soon as a commit queues new work."""

    def __init__(self, instance: Instance, threads: int = 1, idle_wait: float = 1.0, *, outbound: bool = False) -> None:
        """`outbound`: also run the work that makes outside requests (OUTBOUND_TASKS: exchanges fetched on
        their intervals) on a thread of its own; for `tipline worker`, never for the web process's worker."""
        self.instance = instance
        self.threads = threads
        self.idle_wait = idle_wait
        self.owner = new_worker_id()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        instance.on_jobs_committed(lambda _ids: self._wake.set())
        # Periodic maintenance: unfinished CyberTipline API reports expire (intake/cybertipline/expiry.py).
        from tipline.intake.cybertipline.expiry import PeriodicExpiry

        self._expiry = PeriodicExpiry(instance)
        self._maintenance = Periodic(instance)
        self._outbound = Periodic(instance, OUTBOUND_TASKS) if outbound else None

    def recover(self) -> int:
        """Free the leases of workers that died on this host, so their jobs resume now."""
        with self.instance.db.transaction() as session:
            released = self.instance.jobs.release_dead_leases(session)
        if released:
            log.info("resuming %d pipeline jobs left running by a stopped process", released)
        return released

    def start(self) -> None:
        self.recover()
        for number in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"tipline-pipeline-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if self._outbound is not None:
            thread = threading.Thread(target=self._outbound_loop, name="tipline-outbound", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._expiry.maybe_run(time.monotonic())
            self._maintenance.maybe_run(time.monotonic())
            try:
                worked = run_next(self.instance, self.owner)
            except Exception:  # noqa: BLE001 - the database may be briefly unavailable; keep going
                log.exception("pipeline worker could not claim a job")
                worked = False
            if not worked:
                self._wake.wait(self.idle_wait)
                self._wake.clear()

    def _outbound_loop(self) -> None:
        assert self._outbound is not None
        while not self._stop.is_set():
            self._outbound.maybe_run(time.monotonic())
            self._stop.wait(OUTBOUND_LOOK_SECONDS)

    def drain(self, timeout: float = 600.0, on_job: Callable[[], None] | None = None) -> bool:
        """Run jobs on the calling thread until none are queued or running (demo loading, tests)."""
        self.recover()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if run_next(self.instance, self.owner):
                if on_job is not None:
                    on_job()
                continue
            with self.instance.db.transaction() as session:
                counts = self.instance.jobs.counts(session)
            if not counts.get("queued") and not counts.get("running"):
                return True
            time.sleep(0.05)
        return False
