"""The find_series stage: a report's matches to a victim-identification series tell the identifying
agency (identified series) or queue the report for victim identification (the others); then the
report's unmatched pictures and videos join the clusters of near-identical files in other reports."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tipline.pipeline.stages.base import Stage
from tipline.victims.clusters import ClusteringContext, cluster_report_files
from tipline.victims.sightings import SightingsContext, record_series_sightings


class FindSeriesContext(SightingsContext, ClusteringContext, Protocol):
    """Reads the report's matches and files; writes sightings, notifications, queue entries and clusters."""


def find_series_and_clusters(context: FindSeriesContext, session: Session, report_id: int) -> None:
    record_series_sightings(context, session, report_id)
    cluster_report_files(context, session, report_id)


STAGE = Stage("find_series", "tell identifying agencies their series came back; queue unidentified series; "
              "cluster new material seen in other reports", find_series_and_clusters)
