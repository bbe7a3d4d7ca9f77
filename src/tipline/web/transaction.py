"""The unit of work of a route: the instance, one transaction's session and who asks, as one dependency.

    @router.post("/reports/{report_id}/finish")
    def finish(report_id: Id, principal: Submitter, work: InTransaction) -> SubmitResult:
        row = finish_report(work.instance, work.session, report_id, principal)

The transaction commits when the route returns and before the answer is sent (the dependency's scope is
the route function), so a client that got its answer finds the change stored; an exception rolls it
back and is answered by the handlers in tipline.web.errors. Who may call the route is still decided by
the route's policy (`allow(...)` ...); `principal` here is the same, cached, principal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.store.accounts import Principal
from tipline.web.auth import principal_of

if TYPE_CHECKING:
    from tipline.instance import Instance


@dataclass(frozen=True)
class Work:
    instance: Instance
    session: Session
    principal: Principal

    @property
    def actor(self) -> Actor:
        """Whom the audit events of this request name."""
        return self.principal.actor


def unit_of_work(request: Request) -> Iterator[Work]:
    instance: Instance = request.app.state.instance
    with instance.db.transaction() as session:
        yield Work(instance, session, principal_of(request))


InTransaction = Annotated[Work, Depends(unit_of_work, scope="function")]
"""A route parameter: the route's work in one transaction, committed before its answer is sent."""
