"""Choosing the job backend: done by each entry point (the command line, the web application, a test's
instance), never by `Instance`, which only holds the dispatcher once it is connected."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tipline.instance import Instance
    from tipline.pipeline.engine.procrastinate_backend import ProcrastinateDispatcher


def connect_job_backend(instance: Instance) -> ProcrastinateDispatcher | None:
    """With TIPLINE_JOB_BACKEND=procrastinate, the dispatcher that hands each committed job to
    procrastinate's workers (made once per instance; later calls return it). None for the in-process
    backend, whose worker threads wake on the commit themselves."""
    if instance.settings.job_backend != "procrastinate":
        return None
    from tipline.pipeline.engine.procrastinate_backend import ProcrastinateDispatcher

    if not isinstance(instance.dispatcher, ProcrastinateDispatcher):
        instance.dispatcher = ProcrastinateDispatcher(instance)
    return instance.dispatcher
