"""The `tipline triage` commands: the triage weights shown, a change previewed against the reports awaiting
review (nothing changes), set or reset to the shipped defaults (audited, the waiting reports scored again),
and the history of changes. The same as /supervisor/triage."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from sqlalchemy import asc, select
from tqdm import tqdm

from tipline.cli.common import Failure, cli_actor, emit, handles_errors, json_option, open_instance
from tipline.domain.lifecycle import QUEUE_STATES
from tipline.pipeline.stages.score_priority import WeightsPreview, preview_weights, rescore
from tipline.store.tables import ReportRow
from tipline.triage import DEFAULT_WEIGHTS, LEVELS, TriageWeights

PROGRESS_MIN_REPORTS = 200


@click.group("triage")
def triage_group() -> None:
    """The triage weights: show, preview a change, set, reset to the shipped defaults, history."""


def _proposed(current: TriageWeights, settings: tuple[str, ...], immediate: str | None,
              document: Path | None) -> TriageWeights:
    values: dict[str, Any] = current.model_dump()
    if document is not None:
        try:
            loaded = json.loads(document.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise Failure(f"{document}: not a JSON document of weights ({error})") from None
        if not isinstance(loaded, dict):
            raise Failure(f"{document}: give a JSON object of weights, such as {{\"infant\": 50}}")
        values.update(loaded)
    for setting in settings:
        name, sep, number = setting.partition("=")
        name = name.strip()
        if not sep or name not in TriageWeights.model_fields or name == "immediate":
            known = ", ".join(n for n in TriageWeights.model_fields if n != "immediate")
            raise Failure(f"--set {setting!r}: give NAME=POINTS, NAME one of: {known}")
        values[name] = number.strip()
    if immediate is not None:
        values["immediate"] = [n.strip() for n in immediate.split(",") if n.strip()]
    try:
        return TriageWeights.model_validate(values)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'weights'}: {e['msg']}" for e in error.errors())
        raise Failure(f"these weights cannot be used: {problems}") from None


def _changes(before: TriageWeights, after: TriageWeights) -> dict[str, list[Any]]:
    old, new = before.model_dump(), after.model_dump()
    return {k: [old[k], new[k]] for k in new if old[k] != new[k]}


def _preview_dict(preview: WeightsPreview) -> dict[str, Any]:
    return {"waiting": preview.waiting, "considered": preview.considered, "sampled": preview.sampled,
            "estimated_into_p1": preview.estimate(preview.into_p1),
            "estimated_out_of_p1": preview.estimate(preview.out_of_p1), "into_p1": preview.into_p1,
            "out_of_p1": preview.out_of_p1, "moved": preview.moved, "before": preview.before, "after": preview.after,
            "moves": [{"from": a, "to": b, "reports": n} for (a, b), n in sorted(preview.moves.items())]}


def _preview_text(preview: WeightsPreview, changes: dict[str, list[Any]]) -> str:
    lines = [f"  {name}: {old} -> {new}" for name, (old, new) in changes.items()] or ["  (no change)"]
    if preview.considered == 0:
        lines.append("No report is waiting for review, so nothing would move now.")
        return "\n".join(lines)
    if preview.sampled:
        lines.append(f"This would move about {preview.estimate(preview.into_p1)} report(s) to P1 and about "
                     f"{preview.estimate(preview.out_of_p1)} out of P1, of {preview.waiting} waiting (estimated from "
                     f"{preview.considered} spread evenly through the queue; counts below are the sample's).")
    else:
        lines.append(f"This would move {preview.into_p1} report(s) to P1 and {preview.out_of_p1} out of P1; "
                     f"{preview.moved} of {preview.considered} waiting report(s) would change priority.")
    lines += [f"  {level}: {preview.before.get(level, 0)} -> {preview.after.get(level, 0)}" for level in LEVELS]
    return "\n".join(lines)


def _preview(instance: Any, weights: TriageWeights) -> tuple[WeightsPreview, dict[str, list[Any]]]:
    with instance.db.transaction() as session:
        current = instance.review.weights(session)
        return preview_weights(session, weights), _changes(current, weights)


def _apply(instance: Any, weights: TriageWeights, *, reset: bool) -> tuple[dict[str, list[Any]], int]:
    """Keep the weights (audited) and score every report in the queue again, with a progress bar."""
    actor = cli_actor()
    with instance.db.transaction() as session:
        changed = instance.review.set_weights(session, weights, actor, reset=reset)
        ids = list(session.execute(select(ReportRow.id).where(ReportRow.state.in_([s.value for s in QUEUE_STATES]))
                                   .order_by(asc(ReportRow.id))).scalars())
    with tqdm(total=len(ids), unit=" reports", desc="scoring the queue again", file=sys.stderr,
              disable=len(ids) < PROGRESS_MIN_REPORTS) as bar:
        for start in range(0, len(ids), 200):
            with instance.db.transaction() as session:
                for report_id in ids[start:start + 200]:
                    rescore(instance.review, session, report_id, "weights", weights=weights)
            bar.update(len(ids[start:start + 200]))
    return changed, len(ids)


_SET = click.option("--set", "settings", multiple=True, metavar="NAME=POINTS",
                    help="One weight or threshold, such as infant=50 or p1_from=90 (repeat the option).")
_IMMEDIATE = click.option("--immediate", metavar="NAME,NAME", default=None,
                          help="The reasons that make a report P1 whatever its score (replaces the list).")
_FILE = click.option("--file", "document", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="A JSON object of weights (all or some, as `tipline triage weights --json` prints them).")


@triage_group.command("weights")
@json_option
def show_weights(as_json: bool) -> None:
    """Print the weights in use, and what differs from the shipped defaults."""
    instance = open_instance()
    with instance.db.transaction() as session:
        weights = instance.review.weights(session)
    differs = _changes(DEFAULT_WEIGHTS, weights)
    emit(as_json, weights.model_dump(), lambda: "\n".join(
        [f"{name} = {value}" + (f"   (default {differs[name][0]})" if name in differs else "")
         for name, value in weights.model_dump().items()]))


@triage_group.command("preview")
@_SET
@_IMMEDIATE
@_FILE
@json_option
@handles_errors
def preview_command(settings: tuple[str, ...], immediate: str | None, document: Path | None, as_json: bool) -> None:
    """Show how many reports awaiting review a change would move between levels; nothing is changed."""
    instance = open_instance()
    with instance.db.transaction() as session:
        current = instance.review.weights(session)
    proposed = _proposed(current, settings, immediate, document)
    preview, changes = _preview(instance, proposed)
    emit(as_json, {"changes": changes, "preview": _preview_dict(preview)}, lambda: _preview_text(preview, changes))


@triage_group.command("set")
@_SET
@_IMMEDIATE
@_FILE
@json_option
@handles_errors
def set_command(settings: tuple[str, ...], immediate: str | None, document: Path | None, as_json: bool) -> None:
    """Change weights (audited, kept in the history) and score the waiting reports again."""
    instance = open_instance()
    with instance.db.transaction() as session:
        current = instance.review.weights(session)
    proposed = _proposed(current, settings, immediate, document)
    if proposed == current:
        emit(as_json, {"changes": {}, "rescored": 0}, "Nothing to change: these are the weights in use.")
        return
    changed, rescored = _apply(instance, proposed, reset=False)
    emit(as_json, {"changes": changed, "rescored": rescored},
         lambda: "\n".join([f"  {k}: {o} -> {n}" for k, (o, n) in changed.items()]
                           + [f"Saved; {rescored} report(s) in the queue were scored again."]))


@triage_group.command("reset")
@click.option("--yes", is_flag=True, help="Reset without showing what it would do first.")
@json_option
@handles_errors
def reset_command(yes: bool, as_json: bool) -> None:
    """Go back to the shipped defaults (audited); shows what that would move and asks first."""
    instance = open_instance()
    preview, changes = _preview(instance, DEFAULT_WEIGHTS)
    if not changes:
        emit(as_json, {"changes": {}, "rescored": 0}, "The shipped defaults are already in use.")
        return
    if not yes:
        if as_json:
            raise Failure("give --yes to reset with --json (a preview: `tipline triage preview --file` of the defaults)")
        click.echo(_preview_text(preview, changes))
        click.confirm("Reset the triage weights to the shipped defaults?", abort=True)
    changed, rescored = _apply(instance, DEFAULT_WEIGHTS, reset=True)
    emit(as_json, {"changes": changed, "rescored": rescored, "reset": True},
         f"Back to the shipped defaults; {rescored} report(s) in the queue were scored again.")


@triage_group.command("history")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="How many changes.")
@json_option
def history_command(limit: int, as_json: bool) -> None:
    """The changes of the weights, the newest first: when, who, each setting's old and new value."""
    instance = open_instance()
    with instance.db.transaction() as session:
        history = instance.review.weights_history(session, limit=limit)
    data = [{"at": c.at.isoformat(), "by": c.by, "reset": c.reset,
             "changes": {k: list(v) for k, v in c.changed.items()}} for c in history]
    emit(as_json, data, lambda: "\n".join(
        f"{c.at:%Y-%m-%d %H:%M} UTC  {c.by}{'  (reset to the shipped defaults)' if c.reset else ''}\n"
        + "\n".join(f"  {k}: {old} -> {new}" for k, (old, new) in c.changed.items())
        for c in history) or "The weights have not been changed: the shipped defaults are in use.")
