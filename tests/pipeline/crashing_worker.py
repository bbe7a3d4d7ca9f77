"""A real embedded worker process whose `link_reports` stage stalls on its Nth run, after announcing it
in a marker file, so that a test can kill the process while a stage is half done."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from tipline.instance import Instance
from tipline.pipeline import stages
from tipline.pipeline.engine.inprocess import InProcessWorker


def main() -> None:
    marker, stall_on = Path(sys.argv[1]), int(sys.argv[2])
    original = stages.STAGES["link_reports"]
    calls = {"n": 0}

    def stalling(instance: Instance, session: object, report_id: int) -> None:
        original.run(instance, session, report_id)  # type: ignore[arg-type]
        calls["n"] += 1
        if calls["n"] == stall_on:
            session.flush()  # type: ignore[attr-defined]
            # written whole, then renamed: the test must never see the file before its number is in it
            partial = marker.with_name(marker.name + ".partial")
            partial.write_text(str(report_id))
            os.replace(partial, marker)
            time.sleep(600)  # killed here, with the stage's writes made but not committed

    stages.STAGES["link_reports"] = stages.Stage("link_reports", original.description, stalling)
    InProcessWorker(Instance(), threads=1).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
