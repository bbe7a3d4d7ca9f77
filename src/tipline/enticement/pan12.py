"""PAN 2012 sexual predator identification: ground-truth loaders, the official problem-1 (F0.5) and problem-2 (F3) scorers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tipline.enticement.analyzer import analyze
from tipline.enticement.conversation import Conversation
from tipline.enticement.evaluation import f_beta, precision_recall
from tipline.enticement.formats import iter_pan12
from tipline.enticement.model import DetectorModel

__all__ = [
    "PanPredictions",
    "iter_pan12",
    "load_predator_ids",
    "load_predator_lines",
    "predict_pan12",
    "score_problem1",
    "score_problem2",
]


def load_predator_ids(path: str | Path) -> set[str]:
    """Problem-1 ground truth: one predator author id per line (blank lines ignored)."""
    return {line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()}


def load_predator_lines(path: str | Path) -> set[tuple[str, str]]:
    """Problem-2 ground truth: `conversation-id line` pairs, one per line (tab or space separated)."""
    pairs: set[tuple[str, str]] = set()
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2:
            raise ValueError(f"{path}: line {number}: expected 'conversation-id line', found {line!r}")
        pairs.add((fields[0], fields[1]))
    return pairs


def score_problem1(predicted: Iterable[str], truth: Iterable[str]) -> dict[str, float]:
    """Which authors are predators: precision, recall and F0.5 over the sets of author ids."""
    predicted, truth = set(predicted), set(truth)
    precision, recall = precision_recall(len(predicted & truth), len(predicted), len(truth))
    return {"precision": precision, "recall": recall, "f0.5": f_beta(precision, recall, 0.5),
            "predicted": len(predicted), "truth": len(truth)}


def score_problem2(predicted: Iterable[tuple[str, str]], truth: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Which lines show the predator's behaviour: precision, recall and F3 over (conversation id, line) pairs."""
    predicted, truth = set(predicted), set(truth)
    precision, recall = precision_recall(len(predicted & truth), len(predicted), len(truth))
    return {"precision": precision, "recall": recall, "f3": f_beta(precision, recall, 3.0),
            "predicted": len(predicted), "truth": len(truth)}


@dataclass(slots=True)
class PanPredictions:
    """The detector's answers to both PAN problems."""

    predators: set[str]
    lines: set[tuple[str, str]]
    conversations: int


def predict_pan12(conversations: Iterable[Conversation], model: DetectorModel | None = None) -> PanPredictions:
    """Problem 1: every author suspected in a conversation that raised an alert. Problem 2: the lines of those
    authors in which a tactic was found (PAN line numbers are the message ids)."""
    predators: set[str] = set()
    lines: set[tuple[str, str]] = set()
    count = 0
    for conversation in conversations:
        count += 1
        result = analyze(conversation, model=model)
        if result.alert and result.suspected_author:
            predators.add(result.suspected_author)
            lines.update((conversation.id, f.message_id) for f in result.tactics if f.author == result.suspected_author)
    return PanPredictions(predators, lines, count)


def evaluate_pan12(corpus: str | Path, truth: str | Path, truth_lines: str | Path | None = None,
                   model: DetectorModel | None = None) -> dict[str, Any]:
    """Run the detector over a PAN 2012 XML corpus and score it with the official measures."""
    predictions = predict_pan12(iter_pan12(Path(corpus)), model)
    figures: dict[str, Any] = {"conversations": predictions.conversations,
                                  "problem1": score_problem1(predictions.predators, load_predator_ids(truth))}
    if truth_lines is not None:
        figures["problem2"] = score_problem2(predictions.lines, load_predator_lines(truth_lines))
    return figures
