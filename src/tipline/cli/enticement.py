"""The `tipline enticement` commands: analyse chat logs, evaluate the detector, retrain the model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tipline.enticement.analyzer import AnalysisResult, analyze
from tipline.enticement.formats import (
    FORMATS,
    ConversationFormatError,
    parse_conversations,
)


@click.group("enticement")
def enticement_group() -> None:
    """Online-enticement detection: read chat logs in order and report tactics, risk and early alerts.

    Tactic ids, levels and the evaluation follow ENTICEMENT.md; see docs/enticement.md.
    """


def _summary(label: str, result: AnalysisResult) -> str:
    head = f"{label}: {result.level.upper()} (risk {result.risk:.2f})"
    if result.suspected_author:
        head += f", suspected author {result.suspected_author}"
    head += f", first alert at message {result.first_alert_message}" if result.first_alert_message else ", no alert"
    lines = [head]
    for finding in result.tactics:
        lines.append(f"  message {finding.message_id}  {finding.author}  {finding.tactic} ({finding.score:.2f}): "
                     f"\"{finding.evidence}\"")
    if result.suggested_incident_type:
        suggestion = f"  suggested incident type: {result.suggested_incident_type}"
        if result.suggested_annotations:
            suggestion += f"; annotations: {', '.join(result.suggested_annotations)}"
        lines.append(suggestion)
    if result.disclosure:
        urgent = f", urgent: {', '.join(result.disclosure.urgent)}" if result.disclosure.urgent else ""
        lines.append(f"  DISCLOSURE by {result.disclosure.discloser}{urgent} (not an enticement alert)")
        for message_id, text in zip(result.disclosure.message_ids, result.disclosure.evidence, strict=False):
            lines.append(f"  message {message_id}  {result.disclosure.discloser}: \"{text}\"")
    if not result.tactics:
        lines.append(f"  no tactics found in {result.messages_read} messages")
    return "\n".join(lines)


@enticement_group.command("analyze")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", *FORMATS]), default="auto", show_default=True,
              help="Chat-log format; auto recognises tipline JSON, CSV (time,author,text), text logs, "
                   "WhatsApp and Discord exports, and PAN 2012 XML.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line, one line per conversation, in the order given.")
@click.option("--language", default="en", show_default=True, help="Language of the conversations.")
def analyze_command(files: tuple[Path, ...], fmt: str, as_json: bool, language: str) -> None:
    """Analyse the conversations in FILE... and print a summary of each (or JSON with --json).

    A file may hold several conversations (a JSON list, JSON Lines, PAN 2012 XML). An alert means
    level high or above; first_alert_message is where reading in order would have raised it.
    A file that cannot be read is reported on stderr with the line at fault, the others are still
    analysed, and the exit status is 1.
    """
    failed = False
    for path in files:
        try:
            conversations = parse_conversations(path.read_bytes(), fmt, filename=path.name)
        except ConversationFormatError as error:
            click.echo(f"{path}: {error}", err=True)
            failed = True
            continue
        for conversation in conversations:
            result = analyze(conversation, language=language)
            if as_json:
                click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
            else:
                label = path.name if conversation.id == path.name else f"{path.name} / {conversation.id}"
                click.echo(_summary(label, result))
                click.echo()
    if failed:
        sys.exit(1)


@enticement_group.command("evaluate")
@click.argument("dataset", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--pan12", "pan12_corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A PAN 2012 sexual-predator-identification XML corpus to score instead of DATASET.")
@click.option("--truth", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="With --pan12: the problem-1 ground truth, one predator author id per line.")
@click.option("--truth-lines", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="With --pan12: the problem-2 ground truth, 'conversation-id line' per line.")
@click.option("--skepticism", default=1, show_default=True, type=click.IntRange(1, 10),
              help="For the latency-weighted F1: warn once this many of the last 10 per-message predictions are alerts.")
@click.option("--one-sided", is_flag=True,
              help="Read only one side of each conversation, as court transcripts and excerpts give it: the "
                   "suspect's messages (in negatives, the participant whose words most resemble tactics).")
def evaluate_command(dataset: Path | None, as_json: bool, pan12_corpus: Path | None, truth: Path | None,
                     truth_lines: Path | None, skepticism: int, one_sided: bool) -> None:
    """Score the detector on a labelled DATASET (e.g. data/enticement/test.jsonl), or on PAN 2012.

    DATASET is a JSON Lines file (or a folder of them) of tipline conversations with a `label`
    object and per-message `tactics`. Prints per-tactic precision/recall/F1, macro-F1, conversation
    ROC AUC, precision and recall at the alert threshold (level high), the alert rate on hard
    negatives, median messages to the first correct alert and the latency-weighted F1.

    With --pan12 CORPUS.xml --truth PREDATORS.txt [--truth-lines LINES.txt]: the official PAN 2012
    problem-1 (precision, recall, F0.5) and problem-2 (precision, recall, F3) measures.
    """
    from tipline.enticement.evaluation import evaluate, format_report, load_dataset
    from tipline.enticement.evaluation import one_sided as one_side

    if pan12_corpus is not None:
        from tipline.enticement.pan12 import evaluate_pan12

        if truth is None:
            raise click.UsageError("--pan12 needs --truth PREDATORS.txt")
        try:
            figures = evaluate_pan12(pan12_corpus, truth, truth_lines)
        except (ConversationFormatError, ValueError) as error:
            raise click.ClickException(f"{pan12_corpus}: {error}") from None
        if as_json:
            click.echo(json.dumps(figures))
        else:
            p1 = figures["problem1"]
            click.echo(f"conversations {figures['conversations']}")
            click.echo(f"problem 1 (predators): precision {p1['precision']:.3f} recall {p1['recall']:.3f} "
                       f"F0.5 {p1['f0.5']:.3f} ({p1['predicted']} predicted, {p1['truth']} true)")
            if "problem2" in figures:
                p2 = figures["problem2"]
                click.echo(f"problem 2 (lines): precision {p2['precision']:.3f} recall {p2['recall']:.3f} "
                           f"F3 {p2['f3']:.3f} ({p2['predicted']} predicted, {p2['truth']} true)")
        return
    if dataset is None:
        raise click.UsageError("give a DATASET, or --pan12 CORPUS.xml --truth PREDATORS.txt")
    try:
        items = load_dataset(dataset)
    except (ConversationFormatError, ValueError, FileNotFoundError) as error:
        raise click.ClickException(f"{dataset}: {error}") from None
    if one_sided:
        items = [one_side(item) for item in items]
        items = [item for item in items if item.conversation.messages]
    figures = evaluate(items, skepticism=skepticism).figures | {"one_sided": one_sided}
    if as_json:
        click.echo(json.dumps(figures))
    else:
        click.echo(f"dataset {dataset}" + (" (one side only)" if one_sided else ""))
        click.echo(format_report(figures))


@enticement_group.command("train")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=Path("data/enticement"),
              show_default=True, help="Folder with train.jsonl and dev.jsonl.")
@click.option("--language", default="en", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: the model shipped in the package).")
def train_command(data: Path, language: str, out: Path | None) -> None:
    """Retrain the model from the corpus (train split), tuning thresholds on the dev split."""
    from tipline.enticement.training import train

    train(data, language, out)
