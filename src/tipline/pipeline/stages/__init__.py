"""The pipeline's stages, in order. Each reads what earlier stages wrote, adds its own facts, and can
run again without harm (a crash anywhere is repaired by running the stage again).

Each stage is a module of this package named as in the list below; it exports `STAGE`, whose functions
take the narrow context the module declares (what the stage reads and writes), not the whole instance.
"""

from __future__ import annotations

from typing import Any, Protocol

from tipline.pipeline.stages import (
    analyze_conversations,
    begin_processing,
    count_trends,
    extract_identifiers,
    find_series,
    finish_processing,
    hash_files,
    link_reports,
    match_files,
    queue_hosting_lookup,
    read_free_text,
    resolve_jurisdiction,
    score_priority,
    unpack_archives,
)
from tipline.pipeline.stages.base import (
    PIPELINE_ACTOR,
    HasAudit,
    HasDatabase,
    HasFiles,
    HasIdentifiers,
    HasJobs,
    HasMatcher,
    HasReports,
    HasSettings,
    Stage,
)
from tipline.pipeline.stages.find_series import FindSeriesContext


class PipelineContext(HasDatabase, HasAudit, HasSettings, HasReports, HasFiles, HasIdentifiers, HasMatcher, HasJobs,
                      FindSeriesContext, Protocol):
    """Everything the stages together read and write: what the engine must hand them (each stage's own
    context is a part of it, which the type checker verifies when the stages are listed below)."""


PIPELINE: list[Stage[PipelineContext, Any]] = [
    begin_processing.STAGE,
    hash_files.STAGE,
    unpack_archives.STAGE,
    match_files.STAGE,
    find_series.STAGE,
    analyze_conversations.STAGE,
    read_free_text.STAGE,
    extract_identifiers.STAGE,
    link_reports.STAGE,
    score_priority.STAGE,
    resolve_jurisdiction.STAGE,
    queue_hosting_lookup.STAGE,
    count_trends.STAGE,
    finish_processing.STAGE,
]
STAGES = {stage.name: stage for stage in PIPELINE}
FIRST_STAGE = PIPELINE[0].name

__all__ = ["FIRST_STAGE", "PIPELINE", "PIPELINE_ACTOR", "STAGES", "PipelineContext", "Stage", "stage_after"]


def stage_after(name: str) -> str | None:
    names = [stage.name for stage in PIPELINE]
    position = names.index(name)
    return names[position + 1] if position + 1 < len(names) else None
