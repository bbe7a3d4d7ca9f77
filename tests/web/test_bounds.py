"""Every input bounded where it enters: integers beyond 64 bits in paths, queries and forms are
refused with 404 or 422 (never a 500 from an OverflowError or `bigint out of range`), and text
that looks like a number to str.isdigit() but is not ASCII digits is not a report number."""

from __future__ import annotations

import re
from typing import Annotated

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from websupport import Site, file_report, token_of

from tipline.web.auth import leaf_routes
from tipline.web.params import assert_every_integer_bounded

TOO_BIG = 2**63  # one past the largest BIGINT
PEOPLE = ["analyst", "supervisor", "victimid", "agency", "admin"]


def _clients(site: Site) -> dict[str, TestClient]:
    clients = {}
    for name in PEOPLE:
        client = site.signed_in(name)
        client.headers["x-csrf-token"] = token_of(client.get("/settings").text)
        clients[name] = client
    clients["esp"] = site.esp()
    return clients


def _integer_routes(site: Site) -> list[tuple[str, str]]:
    """(method, path) of each route with a {name} path segment that takes a number, filled with 2^63.
    Which segments are numbers is read from the route table's converters-free paths by name."""
    numeric = {"report_id", "other_id", "referral_id", "content_id"}
    found = []
    for route in leaf_routes(site.app.routes):
        names = set(re.findall(r"{(\w+)}", getattr(route, "path", "")))
        if not names & numeric:
            continue
        path = route.path
        for name in names:
            path = path.replace("{" + name + "}", str(TOO_BIG) if name in numeric else "x")
        for method in sorted(route.methods):
            found.append((method, path))
    return found


def test_an_id_of_2_63_in_any_path_answers_404_or_422_for_everyone(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    routes = _integer_routes(site)
    assert len(routes) >= 25  # the review, referral, agency, API and bank-content routes
    clients = _clients(site)
    reached = set()
    for method, path in routes:
        for name, client in clients.items():
            answer = client.request(method, path, data={"version": "1"} if method == "POST" else None)
            assert answer.status_code < 500, (method, path, name, answer.status_code, answer.text[:300])
            if answer.status_code in (404, 422):
                reached.add((method, path))
    assert reached == set(routes)  # somebody allowed to use each route got a precise refusal


def test_offsets_versions_and_queries_of_2_63_are_refused(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    report_id = file_report(site)
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get(f"/reports/{report_id}").text)
    assert analyst.get(f"/api/v1/reports?offset={TOO_BIG}").status_code == 422
    assert analyst.get(f"/api/v1/reports?offset={TOO_BIG - 1}").status_code == 200
    claimed = analyst.post(f"/reports/{report_id}/claim", data={"csrf_token": token, "version": str(TOO_BIG)})
    assert claimed.status_code == 422
    for page in ("/queue", "/reports", "/referrals", "/search"):
        for name in ("page", "before", "distance"):
            assert analyst.get(f"{page}?{name}={TOO_BIG}").status_code in (200, 422), (page, name)


@pytest.mark.parametrize("query", ["²", "①", "٣", "1234567890123456789012345", str(TOO_BIG), "-5"])
def test_search_for_what_only_looks_like_a_number_searches_text(site_on_each_backend: Site, query: str) -> None:
    site = site_on_each_backend
    file_report(site)
    answer = site.signed_in("analyst").get("/search", params={"q": query})
    assert answer.status_code == 200, answer.text[:300]


def test_linking_to_a_report_number_that_is_not_ascii_digits_is_refused(site: Site) -> None:
    report_id = file_report(site)
    analyst = site.signed_in("analyst")
    token = token_of(analyst.get(f"/reports/{report_id}").text)
    for other in ("²", "①", str(TOO_BIG)):
        answer = analyst.post(f"/reports/{report_id}/links", data={"csrf_token": token, "other_report": other})
        assert answer.status_code == 400, (other, answer.status_code)


def test_the_application_refuses_to_start_with_an_unbounded_integer() -> None:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    def thing(thing_id: int, page: Annotated[int, Query(ge=1, le=10)] = 1) -> None: ...

    @app.get("/others")
    def others(offset: Annotated[int, Query(ge=0)] = 0) -> None: ...

    with pytest.raises(RuntimeError) as refused:
        assert_every_integer_bounded(app.routes)
    assert "GET /things/{thing_id}: thing_id" in str(refused.value)
    assert "GET /others: offset" in str(refused.value)
    assert "page" not in str(refused.value)


def test_a_conversation_answering_with_a_circled_digit_is_analysed(site: Site) -> None:
    conversation = {"id": "c-1", "messages": [
        {"id": "1", "author": "nightowl77", "text": "how old are you?"},
        {"id": "2", "author": "robin_k", "text": "\u2460"},  # ① is a digit to str.isdigit(), not to int()
    ]}
    answer = site.esp().post("/api/v1/conversations/analyze", json=conversation)
    assert answer.status_code == 200, answer.text[:300]
    conversation["messages"][1]["text"] = "7" * 5000  # over Python's 4,300-digit limit of int()
    answer = site.esp().post("/api/v1/conversations/analyze", json=conversation)
    assert answer.status_code == 200, answer.text[:300]
