"""The queue_hosting_lookup stage: when TIPLINE_RESOLVE_HOSTS allows lookups without a person asking
(off by default), queue the lookup of where the report's web addresses are hosted. The lookup itself
is a job of its own (`takedown.locate`, tipline.takedown.service), so slow DNS never holds the pipeline."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tipline.pipeline.stages.base import PIPELINE_ACTOR, HasAudit, HasJobs, HasSettings, Stage
from tipline.takedown.hosting import resolve_hosts_automatically
from tipline.takedown.service import LOCATE_STAGE, urls_of


class QueueHostingLookupContext(HasSettings, HasJobs, HasAudit, Protocol):
    """Reads the setting and the report's URL identifiers; queues a job and audits that it did."""


def queue_hosting_lookup(context: QueueHostingLookupContext, session: Session, report_id: int) -> None:
    if not resolve_hosts_automatically(context.settings.extra):
        return
    urls = urls_of(session, report_id)
    if urls and context.jobs.enqueue(session, report_id, LOCATE_STAGE) is not None:
        context.audit.append(session, PIPELINE_ACTOR, "takedown.locate_requested", report_id=report_id,
                             details={"urls": len(urls), "automatic": True})


STAGE = Stage("queue_hosting_lookup", "queue the lookup of where the report's web addresses are hosted",
              queue_hosting_lookup)
