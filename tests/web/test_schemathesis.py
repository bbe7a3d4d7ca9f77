"""Schemathesis over every operation /openapi.json describes, with every kind of credential.

For each operation schemathesis generates up to 30 requests, valid and invalid by the schema,
derandomized (every run sends the same requests). They are sent in turn as each kind of caller:
anonymous, a service provider's account over HTTP Basic, and a signed-in session of each staff role
with its CSRF token (so state-changing calls reach their handlers); each operation starts the round
at a different caller. They go over real HTTP to uvicorn serving the application on each storage
backend, with two reports already filed. Then each path and query parameter is set in turn to
values that broke tipline before (integers beyond 64 bits, NUL, a superscript digit), as every kind
of caller.

Any answer of 500 or above fails the test (except the 501 the description documents for URL
fetching, which tipline does not do), and so does an answer without the security headers and the
request id. 4xx are expected: most generated requests are wrong on purpose. Every distinct
failure is collected (route, status, the traceback's last line, a request that reproduces it)
rather than stopping at the first, so one run shows them all.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from websupport import PASSWORD, LiveServer, Site, file_report, token_of, username_of

from tipline.domain.roles import USER_ROLES

EXAMPLES_PER_OPERATION = 30  # valid and invalid requests, shared round the kinds of caller
PAGE_EXAMPLES = 12
SECURITY_HEADERS = ("request-id", "x-content-type-options", "x-frame-options", "content-security-policy",
                    "referrer-policy", "cache-control")

pytestmark = [pytest.mark.slow]


class ExceptionRecorder(logging.Handler):
    """Keeps the log records that carry an exception (the application's and uvicorn's)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.records.append(record)

    def last_line(self, wait: float) -> str:
        """The last line of the traceback logged for the request just answered (uvicorn may log it
        just after the response has gone out)."""
        deadline = time.monotonic() + wait
        while not self.records and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self.records:
            return "(no traceback logged)"
        error = self.records[-1].exc_info[1]  # type: ignore[index]
        first_line = (str(error).splitlines() or [""])[0]
        return f"{type(error).__module__}.{type(error).__qualname__}: {first_line}"[:300]


@pytest.fixture
def recorder() -> Iterator[ExceptionRecorder]:
    handler = ExceptionRecorder()
    root = logging.getLogger()
    root.addHandler(handler)
    multipart = logging.getLogger("python_multipart")
    level = multipart.level
    multipart.setLevel(logging.ERROR)  # a warning for each malformed part the fuzzer sends
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        multipart.setLevel(level)


@dataclass
class Finding:
    credential: str
    route: str
    problem: str
    example: str
    count: int = 1


@dataclass
class Findings:
    found: dict[tuple[str, str], Finding] = field(default_factory=dict)
    requests: int = 0

    def add(self, credential: str, route: str, problem: str, example: str) -> None:
        key = (route, problem)
        if key in self.found:
            self.found[key].count += 1
        else:
            self.found[key] = Finding(credential, route, problem, example)

    def report(self) -> str:
        lines = [f"{len(self.found)} distinct failures in {self.requests} requests:"]
        for finding in self.found.values():
            lines.append(f"- {finding.route}: {finding.problem} ({finding.count}x; first as {finding.credential})\n"
                         f"    {finding.example}")
        return "\n".join(lines)


def sessions(site: Site, base: str) -> dict[str, requests.Session]:
    """A requests session for each kind of caller, signed in over HTTP as a browser would be."""
    anonymous = requests.Session()
    provider = requests.Session()
    provider.auth = ("chirp", site.esp_secret["chirp"])
    callers = {"anonymous": anonymous, "service provider": provider}
    for role in USER_ROLES:
        staff = requests.Session()
        login = staff.get(f"{base}/login")
        answer = staff.post(f"{base}/login", allow_redirects=False, data={
            "username": username_of(role), "password": PASSWORD, "csrf_token": token_of(login.text)})
        assert answer.status_code == 303, answer.text
        staff.headers["X-CSRF-Token"] = token_of(staff.get(f"{base}/").text)
        callers[role.value] = staff
    return callers


def test_no_operation_answers_a_server_error(site_on_each_backend: Site, recorder: ExceptionRecorder) -> None:
    site = site_on_each_backend
    with LiveServer(site.app) as live:
        schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
        findings = fuzz(site, live.url, schema, EXAMPLES_PER_OPERATION, recorder)
    assert findings.requests >= 400, "the OpenAPI description lost its operations"
    assert not findings.found, findings.report()


# Pages that would end the signed-in session the rest of the run relies on.
SESSION_ENDING = {("POST", "/logout"), ("POST", "/settings")}


def test_no_page_answers_a_server_error(site: Site, recorder: ExceptionRecorder) -> None:
    """The same over the workspace's pages and forms, which /openapi.json leaves out: described here
    from their routes (FastAPI's own description of them), on SQLite, with fewer examples each."""
    public = set(site.app.openapi()["paths"])
    pages = []
    for route in routes_of(site.app.routes):
        if route.path in public or {(method, route.path) for method in route.methods} & SESSION_ENDING:
            continue
        page = copy.copy(route)  # the application's own routes are left as they are
        page.include_in_schema = True
        pages.append(page)
    description = get_openapi(title="tipline pages", version="1", routes=pages)
    with LiveServer(site.app) as live:
        findings = fuzz(site, live.url, schemathesis.openapi.from_dict(description), PAGE_EXAMPLES, recorder)
    assert findings.requests >= 400, f"the pages' description lost its operations ({findings.requests} requests)"
    assert not findings.found, findings.report()


def routes_of(routes) -> Iterator[APIRoute]:  # type: ignore[no-untyped-def]
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and hasattr(inner, "routes"):
            yield from routes_of(inner.routes)


def fuzz(site: Site, base: str, schema, examples: int, recorder: ExceptionRecorder) -> Findings:  # type: ignore[no-untyped-def]
    for _ in range(2):
        file_report(site)
    findings = Findings()
    callers = list(sessions(site, base).items())
    for number, result in enumerate(schema.get_all_operations()):
        # each operation's examples go round every kind of caller, from a different one each time
        rotation = callers[number % len(callers):] + callers[:number % len(callers)]
        exercise(result.ok(), rotation, base, examples, recorder, findings)
    return findings


def exercise(operation, callers: list[tuple[str, requests.Session]], base: str, examples: int,  # type: ignore[no-untyped-def]
             recorder: ExceptionRecorder, findings: Findings) -> None:
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))
    route = f"{operation.method.upper()} {operation.path}"
    documented = {int(status) for status in operation.definition.raw.get("responses", {}) if status.isdigit()}
    sent = iter(range(10**9))

    def send(case, credential: str, session: requests.Session) -> None:  # type: ignore[no-untyped-def]
        recorder.records.clear()
        findings.requests += 1
        response = case.call(base_url=base, session=session, timeout=60)
        status = response.status_code
        # 501 is tipline's documented answer to "fetch this URL" (it makes no outbound requests)
        if status >= 500 and not (status == 501 and status in documented and not recorder.records):
            findings.add(credential, route, f"{status}: {recorder.last_line(wait=1.0)}", case.as_curl_command()[:400])
        missing = [name for name in SECURITY_HEADERS if name not in response.headers]
        if missing:
            findings.add(credential, route, f"{status} without {', '.join(missing)}", case.as_curl_command()[:400])

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(case=strategy)
    def generated(case) -> None:  # type: ignore[no-untyped-def]
        send(case, *callers[next(sent) % len(callers)])

    generated()
    for case in hostile_cases(operation):  # each as every kind of caller
        for credential, session in callers:
            send(case, credential, session)


# Values that broke tipline before (issue 17): integers beyond 64 bits, NUL (PostgreSQL refuses it in
# text), digits that str.isdigit() accepts but int() does not.
HOSTILE_INTEGERS = (2**63,)
HOSTILE_TEXT = ("a\x00b", "\u00b2")


def hostile_cases(operation) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """Each path and query parameter in turn set to each hostile value, the others plain."""
    parameters = [p for p in operation.definition.raw.get("parameters", []) if p.get("in") in ("path", "query")]
    plain = {p["name"]: 1 if p.get("schema", {}).get("type") == "integer" else "a"
             for p in parameters if p["in"] == "path"}
    for parameter in parameters:
        values = HOSTILE_INTEGERS if parameter.get("schema", {}).get("type") == "integer" else HOSTILE_TEXT
        for value in values:
            if parameter["in"] == "path":
                yield operation.Case(path_parameters={**plain, parameter["name"]: value})
            else:
                yield operation.Case(path_parameters=plain, query={parameter["name"]: value})
