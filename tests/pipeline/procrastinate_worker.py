"""A real `tipline worker` (procrastinate backend) whose periodic sweep never runs, so that only
direct hand-offs (the start-up sweep and each finished stage queueing the next) can move jobs."""

from __future__ import annotations

import logging

from tipline.pipeline import procrastinate_backend


def main() -> None:
    procrastinate_backend.SWEEP_CRON = "0 0 29 2 *"  # 29 February at midnight: out of reach of a test
    from tipline.instance import Instance

    logging.basicConfig(level=logging.WARNING)
    procrastinate_backend.run_worker(Instance(), concurrency=2)


if __name__ == "__main__":
    main()
