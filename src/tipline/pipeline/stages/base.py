"""What every stage shares: the `Stage` type, and the parts of a running tipline a stage may be given.

A stage does not receive the whole `Instance`: each stage module declares the narrow context it needs
as a `Protocol` built from the parts below (`HasDatabase`, `HasAudit` ...), so its signature says what
it reads and writes, and a type checker sees that the instance the engine hands over has those parts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, overload

from tipline.domain.audit import Actor

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tipline.config import Settings
    from tipline.pipeline.engine.jobs import JobStore
    from tipline.store.audit import AuditLog
    from tipline.store.banks import MatcherSync
    from tipline.store.db import Database
    from tipline.store.files import FileStore
    from tipline.store.identifiers import IdentifierStore
    from tipline.store.reports import ReportStore

PIPELINE_ACTOR = Actor.system("pipeline")

Context = TypeVar("Context", contravariant=True)
Prepared = TypeVar("Prepared")


class HasDatabase(Protocol):
    """Opens transactions of its own (a stage's preparation runs outside the job's transaction)."""

    @property
    def db(self) -> Database: ...


class HasAudit(Protocol):
    """Appends audit events (every fact a stage stores is attributed to it)."""

    @property
    def audit(self) -> AuditLog: ...


class HasSettings(Protocol):
    @property
    def settings(self) -> Settings: ...


class HasReports(Protocol):
    """Reads reports and moves them through the lifecycle."""

    @property
    def reports(self) -> ReportStore: ...


class HasFiles(Protocol):
    """Reads report files (each an audited system read) and stores new ones."""

    @property
    def files(self) -> FileStore: ...


class HasIdentifiers(Protocol):
    @property
    def identifiers(self) -> IdentifierStore: ...


class HasJobs(Protocol):
    """Queues jobs of its own beside the pipeline's (a hosting lookup run by a worker)."""

    @property
    def jobs(self) -> JobStore: ...


class HasMatcher(Protocol):
    """The process's hash-bank matcher, kept current with the banks' change log."""

    @property
    def matching(self) -> MatcherSync: ...


class Stage(Generic[Context, Prepared]):
    """One step of the pipeline. `run` writes its facts inside the job's transaction; a stage with
    heavy work (decoding media, reading conversations) does it first in `prepare`, outside any
    transaction, and `run` receives the result as its fourth argument."""

    __slots__ = ("name", "description", "run", "prepare")

    @overload
    def __init__(self: Stage[Context, None], name: str, description: str,
                 run: Callable[[Context, Session, int], None]) -> None: ...

    @overload
    def __init__(self, name: str, description: str, run: Callable[[Context, Session, int, Prepared], None],
                 prepare: Callable[[Context, int], Prepared]) -> None: ...

    def __init__(self, name: str, description: str, run: Callable[..., None],
                 prepare: Callable[[Context, int], Prepared] | None = None) -> None:
        self.name = name
        self.description = description
        self.run = run
        self.prepare = prepare

    def prepared(self, context: Context, report_id: int) -> Prepared | None:
        """The stage's heavy work for the report (None for a stage that has none)."""
        return None if self.prepare is None else self.prepare(context, report_id)

    def execute(self, context: Context, session: Session, report_id: int, prepared: Any = None) -> None:
        if self.prepare is None:
            self.run(context, session, report_id)
        else:
            self.run(context, session, report_id, prepared)

    def __repr__(self) -> str:
        return f"Stage({self.name!r})"
