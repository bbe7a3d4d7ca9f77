"""The pipeline's find_series stage: series sightings (notifications, the victim-identification
queue), then the report's unmatched files placed in clusters of material seen in other reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tipline.victims.clusters import cluster_report_files
from tipline.victims.sightings import record_series_sightings

if TYPE_CHECKING:
    from tipline.instance import Instance


def find_series_and_clusters(instance: Instance, session: Session, report_id: int) -> None:
    record_series_sightings(instance, session, report_id)
    cluster_report_files(instance, session, report_id)
