"""The scale-out pipeline backend: procrastinate workers on PostgreSQL run the durable job rows.

tipline's `pipeline_jobs` rows stay the source of truth (written in the same transaction as the
report or stage that queues them). After that transaction commits, each job is handed to
procrastinate, whose workers on any number of machines claim and run it with the same lease rules
as the embedded worker. If the hand-over is lost (a crash between commit and defer), the periodic
sweep hands over every job that is due and not yet running.

Inside `tipline worker`, hand-overs (the startup sweep, a finished stage queueing the next, the
periodic sweep) are deferred with procrastinate's async API on the worker's own event loop, whose
app is open: the worker opens its app first, then sweeps, then runs. (A synchronous `defer` before
the worker opened its app went through an unopened SyncPsycopgConnector and failed with AppNotOpen,
leaving every job due at start-up to the once-a-minute sweep. Those due jobs include later stages
that another running worker had just handed over, which is why the errors looked like failed
hand-offs between stages.)
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from tipline.pipeline.engine.jobs import new_worker_id
from tipline.pipeline.engine.maintenance import OUTBOUND_TASKS, Periodic
from tipline.pipeline.engine.runner import run_job
from tipline.store.tables import PipelineJob

if TYPE_CHECKING:
    from tipline.instance import Instance
    from tipline.store.db import Database

log = logging.getLogger("tipline.pipeline")
QUEUE = "tipline-pipeline"
TASK_NAME = "tipline.run_pipeline_job"
SWEEP_TASK_NAME = "tipline.sweep_pipeline_jobs"
EXPIRE_TASK_NAME = "tipline.expire_open_reports"
MAINTENANCE_TASK_NAME = "tipline.maintenance"
OUTBOUND_TASK_NAME = "tipline.outbound"  # exchanges fetched on their intervals (workers only)
SWEEP_CRON = "* * * * *"  # when the periodic sweep runs (tests move it out of reach)
DEFER_TIMEOUT_SECONDS = 30


def conninfo(database_url: str) -> str:
    """The libpq connection string for a SQLAlchemy PostgreSQL URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_schema(db: Database) -> bool:
    """Create procrastinate's tables if this PostgreSQL database lacks them; True if it created them."""
    if db.dialect != "postgresql":
        return False
    if inspect(db.engine).has_table("procrastinate_jobs"):
        return False
    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo(db.settings.database_url)))
    with app.open():
        app.schema_manager.apply_schema()
    return True


class ProcrastinateDispatcher:
    """Hands committed job rows to procrastinate. Built once per process that queues pipeline work."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self._loop: asyncio.AbstractEventLoop | None = None  # the worker's loop, while its app is open
        self._open_lock = threading.Lock()
        self.owner = new_worker_id()
        connector = procrastinate.PsycopgConnector(conninfo=conninfo(instance.settings.database_url))
        self.app = procrastinate.App(connector=connector)
        self.run_task = self.app.task(name=TASK_NAME, queue=QUEUE, pass_context=False)(self._run)
        self.sweep_task = self.app.periodic(cron=SWEEP_CRON, periodic_id="sweep")(
            self.app.task(name=SWEEP_TASK_NAME, queue=QUEUE, pass_context=False)(self._sweep)
        )
        # Periodic maintenance: unfinished CyberTipline API reports expire (intake/cybertipline/expiry.py).
        self.expire_task = self.app.periodic(cron="* * * * *", periodic_id="expire-open")(
            self.app.task(name=EXPIRE_TASK_NAME, queue=QUEUE, pass_context=False)(self._expire_open)
        )
        # Periodic upkeep (tipline/pipeline/engine/maintenance.py): each task keeps its own interval.
        self.maintenance = Periodic(instance)
        self.maintain_task = self.app.periodic(cron="* * * * *", periodic_id="maintenance")(
            self.app.task(name=MAINTENANCE_TASK_NAME, queue=QUEUE, pass_context=False)(self._maintain)
        )
        # Outbound work (exchanges fetched on their intervals): only workers run periodic tasks, never the
        # web processes that build this dispatcher to hand jobs over; a Periodic of its own, so a long fetch
        # holds up neither the upkeep above nor another worker's look (fetch_exchange refuses a second fetch).
        self.outbound = Periodic(instance, OUTBOUND_TASKS)
        self.outbound_task = self.app.periodic(cron="* * * * *", periodic_id="outbound")(
            self.app.task(name=OUTBOUND_TASK_NAME, queue=QUEUE, pass_context=False)(self._outbound)
        )
        self._opened = False
        instance.on_jobs_committed(self.dispatch)

    def _ensure_open(self) -> None:
        with self._open_lock:
            if not self._opened:
                self.app.open()
                self._opened = True

    def dispatch(self, job_ids: list[int], run_after: datetime | None = None) -> None:
        """Defer one procrastinate job per tipline job (a queueing lock keeps one waiting copy)."""
        loop = self._loop
        if loop is None:
            self._ensure_open()
        for job_id in job_ids:
            options: dict[str, Any] = {"queueing_lock": f"tipline-job-{job_id}"}
            if run_after is not None:
                options["schedule_at"] = run_after
            deferrer = self.run_task.configure(**options)
            try:
                if loop is None:
                    deferrer.defer(job_id=job_id)
                else:
                    _defer_on_loop(loop, deferrer, job_id)
            except procrastinate_errors.AlreadyEnqueued:
                pass
            except Exception:  # noqa: BLE001 - the sweep hands the job over later; nothing is lost
                log.exception("could not hand job %s to procrastinate; the sweep will retry", job_id)

    def _run(self, job_id: int) -> str:
        outcome = run_job(self.instance, job_id, self.owner)
        if outcome == "queued":  # failed, to be retried after its back-off
            with self.instance.db.transaction() as session:
                job = session.get(PipelineJob, job_id)
                run_after = job.run_after if job is not None else None
            self.dispatch([job_id], run_after)
        return outcome

    def _maintain(self, timestamp: int) -> int:
        return sum(self.maintenance.maybe_run(time.monotonic()).values())

    def _outbound(self, timestamp: int) -> int:
        return sum(self.outbound.maybe_run(time.monotonic()).values())

    def _sweep(self, timestamp: int) -> int:
        return self.sweep()

    def _expire_open(self, timestamp: int) -> int:
        from tipline.intake.cybertipline.expiry import expire_open_reports

        return len(expire_open_reports(self.instance).expired)

    def sweep(self) -> int:
        """Hand over every job that is due (or whose worker died) and free dead workers' leases."""
        with self.instance.db.transaction() as session:
            self.instance.jobs.release_dead_leases(session)
            due = self.instance.jobs.due_job_ids(session)
        self.dispatch(due)
        return len(due)


    async def work(self, concurrency: int) -> None:
        """Open the app on this loop, hand over the jobs already due, then run the worker."""
        async with self.app.open_async():
            self._loop = asyncio.get_running_loop()
            try:
                swept = await asyncio.to_thread(self.sweep)  # a thread: dispatch waits on this loop
                if swept:
                    log.info("handed %d waiting pipeline jobs to procrastinate", swept)
                await self.app.run_worker_async(queues=[QUEUE], concurrency=concurrency,
                                                install_signal_handlers=True)
            finally:
                self._loop = None


def _defer_on_loop(loop: asyncio.AbstractEventLoop, deferrer: Any, job_id: int) -> None:
    """Defer through the worker's open async pool, from one of the threads its sync tasks run in
    (procrastinate runs sync tasks in threads; the pool belongs to the worker's loop)."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:  # never block the loop on itself (no async task of ours does this today)
        raise RuntimeError("dispatch called on the worker's event loop thread")
    asyncio.run_coroutine_threadsafe(deferrer.defer_async(job_id=job_id), loop).result(DEFER_TIMEOUT_SECONDS)


def run_worker(instance: Instance, concurrency: int = 2) -> None:
    """Run a procrastinate worker for the pipeline queue until interrupted."""
    ensure_schema(instance.db)
    dispatcher = instance.dispatcher  # connected by the entry point (tipline.pipeline.engine.backend)
    if not isinstance(dispatcher, ProcrastinateDispatcher):
        raise RuntimeError("TIPLINE_JOB_BACKEND=procrastinate is needed to run procrastinate workers")
    asyncio.run(dispatcher.work(concurrency))
