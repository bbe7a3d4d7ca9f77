"""A real `tipline worker` (procrastinate backend) whose periodic sweep never runs, so that only
direct hand-offs (the start-up sweep and each finished stage queueing the next) can move jobs."""

from __future__ import annotations

import logging

from tipline.pipeline.engine import procrastinate_backend


def main() -> None:
    procrastinate_backend.SWEEP_CRON = "0 0 29 2 *"  # 29 February at midnight: out of reach of a test
    from tipline.instance import Instance
    from tipline.pipeline.engine.backend import connect_job_backend

    logging.basicConfig(level=logging.WARNING)
    instance = Instance()
    connect_job_backend(instance)
    procrastinate_backend.run_worker(instance, concurrency=2)


if __name__ == "__main__":
    main()
