"""A change of the triage weights is previewed against the reports awaiting review before it is made
("this would move N reports to P1"), each change is kept in a history (who, when, old → new), and the
shipped defaults are one reset away. Previewing changes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import lxml.html
from sqlalchemy import event, func, select
from support import sample_content
from websupport import Site, token_of

from tipline.domain.audit import Actor
from tipline.domain.lifecycle import ReportState
from tipline.pipeline.stages.score_priority import collect_facts, collect_facts_many, preview_weights
from tipline.store.tables import AuditEventRow, ReportRow
from tipline.triage import DEFAULT_WEIGHTS


def _waiting(site: Site, count: int) -> list[int]:
    chirp = site.esp()
    ids = [chirp.post("/api/v1/reports", json=sample_content()).json()["reportId"] for _ in range(count)]
    site.drain()
    return ids


def _state(site: Site) -> tuple[list[tuple[int, str | None, int | None]], int]:
    with site.instance.db.transaction() as session:
        rows = [(r.id, r.priority, r.priority_score) for r in
                session.execute(select(ReportRow).order_by(ReportRow.id)).scalars()]
        events = session.execute(select(func.count()).select_from(AuditEventRow)).scalar_one()
    return rows, events


def test_a_preview_counts_the_moves_and_changes_nothing(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    ids = _waiting(site, 3)
    with site.instance.db.transaction() as session:  # one of them is being reviewed: not awaiting review
        site.instance.reports.transition(session, ids[2], ReportState.IN_REVIEW, Actor.system("test"))
    before, events = _state(site)
    assert {level for _, level, _ in before} != {"P1"}  # the sample report is not P1 under the defaults
    heavier = DEFAULT_WEIGHTS.model_copy(update={"victim_age_13_to_15": 90})  # its 13-year-old victim
    with site.instance.db.transaction() as session:
        preview = preview_weights(session, heavier)
        same = preview_weights(session, DEFAULT_WEIGHTS)
    assert (preview.waiting, preview.considered, preview.into_p1, preview.out_of_p1) == (2, 2, 2, 0)
    assert preview.after == {"P1": 2} and sum(preview.before.values()) == 2
    assert same.moved == 0 and same.before == same.after == preview.before
    with site.instance.db.transaction() as session:  # more waiting than the limit: an even sample, scaled up
        sample = preview_weights(session, heavier, limit=1)
    assert (sample.waiting, sample.considered, sample.sampled, sample.into_p1) == (2, 1, True, 1)
    assert sample.estimate(sample.into_p1) == 2 and not preview.sampled and preview.estimate(2) == 2
    lighter = heavier.model_copy(update={"p1_from": 200, "p2_from": 150, "p3_from": 100})
    with site.instance.db.transaction() as session:
        site.instance.review.set_weights(session, heavier, Actor.system("test"))
    with site.instance.db.transaction() as session:
        back = preview_weights(session, lighter)
    assert back.before == {"P1": 2} and back.out_of_p1 == 2 and back.into_p1 == 0
    rows, after_events = _state(site)
    assert rows == before and after_events == events + 1  # only the set_weights above wrote anything


def test_a_preview_reads_the_facts_of_many_reports_together_each_its_own(site_on_each_backend: Site) -> None:
    """A preview scores up to a thousand reports: reading each one's facts separately took seconds. The
    number of reads does not grow with the reports, and each report still gets its own facts."""
    site = site_on_each_backend
    heavier = DEFAULT_WEIGHTS.model_copy(update={"victim_age_13_to_15": 90})

    def reads() -> int:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731 (before_cursor_execute's statement)
        event.listen(site.instance.db.engine, "before_cursor_execute", listener)
        try:
            with site.instance.db.transaction() as session:
                preview_weights(session, heavier)
        finally:
            event.remove(site.instance.db.engine, "before_cursor_execute", listener)
        return len(statements)

    ids = _waiting(site, 2)
    few = reads()
    ids += _waiting(site, 4)
    assert reads() == few
    with site.instance.db.transaction() as session:
        rows = list(session.execute(select(ReportRow).where(ReportRow.id.in_(ids))).scalars())
        facts = collect_facts_many(session, rows)
        one = collect_facts(session, rows[0])
    # the sample reports name the same reported person: each is linked to the five others, never to itself
    assert {i: facts[i].shared_reports for i in ids} == {i: tuple(j for j in ids if j != i) for i in ids}
    assert facts[rows[0].id] == one and {f.victim_ages for f in facts.values()} == {one.victim_ages}


def test_changes_are_kept_in_a_history_newest_first(site_on_each_backend: Site) -> None:
    instance = site_on_each_backend.instance
    first = DEFAULT_WEIGHTS.model_copy(update={"infant": 50})
    second = first.model_copy(update={"p1_from": 90, "immediate": ["reporter_escalation"]})
    with instance.db.transaction() as session:
        assert instance.review.weights_history(session) == []
        instance.review.set_weights(session, first, Actor.system("ana"))
    with instance.db.transaction() as session:
        instance.review.set_weights(session, second, Actor.system("bea"))
    with instance.db.transaction() as session:
        instance.review.set_weights(session, DEFAULT_WEIGHTS, Actor.system("cem"), reset=True)
    with instance.db.transaction() as session:
        history = instance.review.weights_history(session)
        assert instance.review.weights(session) == DEFAULT_WEIGHTS
    assert [(c.by, c.reset) for c in history] == [("cem", True), ("bea", False), ("ana", False)]
    assert history[2].changed == {"infant": (40, 50)}
    assert history[1].changed["p1_from"] == (80, 90)
    assert history[1].changed["immediate"][1] == ["reporter_escalation"]
    assert set(history[0].changed) == {"infant", "p1_from", "immediate"}


def _form(page: str) -> dict[str, str]:
    root = lxml.html.fromstring(page)
    fields = {i.get("name"): i.get("value") for i in root.xpath("//form[@action='/supervisor/triage']//input")
              if i.get("type") != "checkbox"}
    fields["immediate"] = root.xpath("//form[@action='/supervisor/triage']//input[@name='immediate' and @checked]/@value")
    return fields


def _words(page: str, element_id: str) -> str:
    return " ".join(lxml.html.fromstring(page).get_element_by_id(element_id).text_content().split())


def test_a_supervisor_previews_saves_sees_the_history_and_resets(site: Site) -> None:
    ids = _waiting(site, 2)
    supervisor = site.signed_in("supervisor")
    page = supervisor.get("/supervisor/triage").text
    assert "The weights have not been changed" in page
    form = _form(page)
    assert form["victim_age_13_to_15"] == "15" and "reporter_escalation" in form["immediate"]

    form["victim_age_13_to_15"] = "90"
    before = _state(site)
    shown = supervisor.post("/supervisor/triage", data={**form, "action": "preview"})
    assert shown.status_code == 200
    assert "This would move 2 reports to P1 and 0 out of P1" in _words(shown.text, "preview")
    assert _form(shown.text)["victim_age_13_to_15"] == "90"  # the proposal stays in the form
    assert _state(site) == before  # a preview changes nothing, writes nothing

    form["csrf_token"] = token_of(shown.text)
    saved = supervisor.post("/supervisor/triage", data={**form, "action": "save"})
    assert saved.status_code == 303 and saved.headers["location"] == "/supervisor/triage?saved=2"
    with site.instance.db.transaction() as session:
        assert {site.instance.reports.row(session, i).priority for i in ids} == {"P1"}  # scored again
    page = supervisor.get(saved.headers["location"]).text
    assert "Saved; 2 waiting reports were scored again." in _words(page, "saved")
    history = _words(page, "weights-history")
    assert "supervisor" in history and "The youngest victim is 13 to 15: 15 → 90" in history
    assert "whatever its score" not in history  # the form lists the immediate reasons in its own order: no change

    again = supervisor.post("/supervisor/triage", data={**form, "action": "save"})
    assert again.headers["location"] == "/supervisor/triage?unchanged=1"  # the same weights: no new entry

    reset_preview = supervisor.post("/supervisor/triage/reset", data={"csrf_token": form["csrf_token"]})
    assert reset_preview.status_code == 200
    assert "This would move 0 reports to P1 and 2 out of P1" in _words(reset_preview.text, "preview")
    assert _form(reset_preview.text)["victim_age_13_to_15"] == "15"
    with site.instance.db.transaction() as session:
        assert site.instance.review.weights(session).victim_age_13_to_15 == 90  # not yet
    done = supervisor.post("/supervisor/triage/reset", data={"csrf_token": form["csrf_token"], "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == "/supervisor/triage?saved=2&reset=1"
    with site.instance.db.transaction() as session:
        assert site.instance.review.weights(session) == DEFAULT_WEIGHTS
        assert {site.instance.reports.row(session, i).priority for i in ids} != {"P1"}
    page = supervisor.get(done.headers["location"]).text
    assert "Back to the shipped defaults" in _words(page, "saved")
    rows = lxml.html.fromstring(page).xpath("//table[@id='weights-history']/tbody/tr")
    assert len(rows) == 2 and "Reset to the shipped defaults." in rows[0].text_content()
    assert "90 → 15" in rows[0].text_content()


def test_a_wrong_value_is_named_in_plain_words_and_the_input_kept(site: Site) -> None:
    supervisor = site.signed_in("supervisor")
    page = supervisor.get("/supervisor/triage").text
    form = {**_form(page), "csrf_token": token_of(page), "infant": "lots", "action": "preview"}
    refused = supervisor.post("/supervisor/triage", data=form)
    assert refused.status_code == 400
    errors = _words(refused.text, "errors")
    assert "A file is annotated as showing an infant or toddler: give a whole number" in errors
    assert "infant:" not in errors and _form(refused.text)["infant"] == "lots"
    form.update({"infant": "40", "p1_from": "10", "p2_from": "20"})
    refused = supervisor.post("/supervisor/triage", data=form)
    assert refused.status_code == 400 and "The level thresholds must fall" in _words(refused.text, "errors")
    assert re.search(r"p2_from|Input should|Value error", _words(refused.text, "errors")) is None


def test_the_command_line_previews_sets_shows_the_history_and_resets(site: Site, tmp_path: Path) -> None:
    from click.testing import CliRunner
    from support import FAST_PASSWORD_HASHING

    from tipline.cli import main

    def run(*args: str, ok: bool = True, given: str | None = None) -> Any:
        env = {"TIPLINE_DATA_DIR": str(tmp_path / "data"), "TIPLINE_DATABASE_URL": "", "TIPLINE_KEY_DIR": "",
               **FAST_PASSWORD_HASHING}
        result = CliRunner().invoke(main, list(args), env=env, input=given, catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result

    ids = _waiting(site, 2)
    assert json.loads(run("triage", "weights", "--json").output)["victim_age_13_to_15"] == 15
    before = _state(site)
    preview = json.loads(run("triage", "preview", "--set", "victim_age_13_to_15=90", "--json").output)
    assert preview["changes"] == {"victim_age_13_to_15": [15, 90]}
    assert (preview["preview"]["into_p1"], preview["preview"]["out_of_p1"], preview["preview"]["waiting"]) == (2, 0, 2)
    assert _state(site) == before  # nothing changed
    refused = run("triage", "set", "--set", "p1_from=5", ok=False)
    assert "thresholds must fall" in refused.output
    assert "NAME=POINTS" in run("triage", "set", "--set", "nonsense=3", ok=False).output
    done = json.loads(run("triage", "set", "--set", "victim_age_13_to_15=90", "--json").output)
    assert done == {"changes": {"victim_age_13_to_15": [15, 90]}, "rescored": 2}
    with site.instance.db.transaction() as session:
        assert {site.instance.reports.row(session, i).priority for i in ids} == {"P1"}
    history = json.loads(run("triage", "history", "--json").output)
    assert len(history) == 1 and history[0]["by"].startswith("cli:") and not history[0]["reset"]
    assert "victim_age_13_to_15: 90 -> 15" in run("triage", "reset", given="n\n", ok=False).output  # asked, refused
    with site.instance.db.transaction() as session:
        assert site.instance.review.weights(session).victim_age_13_to_15 == 90
    reset = json.loads(run("triage", "reset", "--yes", "--json").output)
    assert reset["reset"] and reset["rescored"] == 2
    history = json.loads(run("triage", "history", "--json").output)
    assert [h["reset"] for h in history] == [True, False]
    assert "shipped defaults are already in use" in run("triage", "reset", "--yes").output
