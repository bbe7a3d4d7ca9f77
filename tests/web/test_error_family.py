"""One handler answers every failure of the TiplineError family with the status, code and details the
failure itself declares, so a new failure needs no handler of its own."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tipline.domain.errors import TiplineError
from tipline.domain.lifecycle import LifecycleError, ReportState
from tipline.store.reports import ReportNotFound
from tipline.web.errors import install_error_handlers


class QuotaSpent(TiplineError, ValueError):
    status, code, title = 429, "quota_spent", "Quota spent"

    def problem_details(self) -> dict[str, Any]:
        return {"retry_in_days": 1}


def _client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/quota")
    def quota() -> None:
        raise QuotaSpent("this account filed its 10,000 reports for today")

    @app.get("/api/report")
    def report() -> None:
        raise ReportNotFound(7)

    @app.get("/api/transition")
    def transition() -> None:
        raise LifecycleError(ReportState.CLOSED_NO_ACTION, ReportState.PROCESSING)

    return TestClient(app)


def test_a_new_failure_is_answered_by_what_it_declares() -> None:
    answer = _client().get("/api/quota")
    assert answer.status_code == 429
    assert answer.json() == {"error": "quota_spent", "message": "this account filed its 10,000 reports for today",
                             "retry_in_days": 1}


def test_the_store_and_domain_failures_keep_their_answers() -> None:
    client = _client()
    missing = client.get("/api/report")
    assert (missing.status_code, missing.json()) == (404, {"error": "not_found", "message": "report 7 does not exist"})
    refused = client.get("/api/transition")
    assert refused.status_code == 409
    assert refused.json()["error"] == "invalid_state" and refused.json()["state"] == "closed_no_action"
    assert isinstance(ReportNotFound(7), LookupError)  # callers catching the builtin base still catch it
