"""How detection is judged: labelled datasets, message-level tactic F1, ROC AUC, alerts, early detection, latency-weighted F1."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tipline.enticement.analyzer import StreamingAnalyzer
from tipline.enticement.conversation import Conversation
from tipline.enticement.formats import InputLimits, parse_tipline_json
from tipline.enticement.model import DetectorModel
from tipline.enticement.tactics import TACTICS, is_alert

# ------------------------------------------------------------------------------------------------
# Labelled datasets


@dataclass(slots=True)
class LabelledConversation:
    """A conversation with its gold labels: tactics per message id, whether it is enticement, and who entices."""

    conversation: Conversation
    gold: dict[str, set[str]]
    enticement: bool
    suspect: str | None = None
    kind: str = ""
    negative_type: str | None = None
    family: str = ""
    signals: dict[str, set[str]] = field(default_factory=dict)
    """What each message's words express regardless of context (labels' `signals`), by message id."""
    disclosure: bool = False
    discloser: str | None = None

    @property
    def hard_negative(self) -> bool:
        return self.kind == "hard_negative"


def load_dataset(path: str | Path) -> list[LabelledConversation]:
    """A labelled dataset: a JSON Lines file of tipline conversations with `label` and per-message `tactics`,
    or a directory of such files (read in name order)."""
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"{path}: no .jsonl files")
    limits = InputLimits(max_bytes=500_000_000, max_conversations=1_000_000)
    dataset: list[LabelledConversation] = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        conversations = parse_tipline_json(text, limits)
        raw_lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        for conversation, raw in zip(conversations, raw_lines, strict=True):
            label = raw.get("label")
            if not isinstance(label, dict) or "enticement" not in label:
                raise ValueError(f"{file}: conversation {conversation.id} has no label.enticement")
            gold = {str(m["id"]): set(m.get("tactics") or []) for m in raw["messages"]}
            unknown = {t for tactics in gold.values() for t in tactics} - set(TACTICS)
            if unknown:
                raise ValueError(f"{file}: conversation {conversation.id} uses unknown tactics {sorted(unknown)}")
            signals = {str(m["id"]): set(m.get("signals") or []) for m in raw["messages"]}
            dataset.append(LabelledConversation(conversation, gold, bool(label["enticement"]), label.get("suspect"),
                                                label.get("kind", ""), label.get("negative_type"), label.get("family", ""),
                                                signals, bool(label.get("disclosure")), label.get("discloser")))
    return dataset


def one_sided(item: LabelledConversation) -> LabelledConversation:
    """The conversation as a court transcript or an excerpt often gives it: one participant's messages only.

    An enticement conversation keeps its suspect's messages. A negative one keeps the participant whose
    words most resemble tactics (most messages with a signal; on a tie, the one who wrote first), so
    that a coach's "is your mom home?" is read without the parent's answer, as the suspect's lines would be.
    """
    messages = item.conversation.messages
    if item.enticement and item.suspect:
        keep = item.suspect
    elif item.disclosure and item.discloser:
        keep = item.discloser
    else:
        counts: dict[str, int] = {}
        for message in messages:
            counts.setdefault(message.author, 0)
            counts[message.author] += bool(item.signals.get(message.id))
        keep = max(counts, key=lambda author: counts[author]) if counts else ""
    kept = [m for m in messages if m.author == keep]
    conversation = Conversation(item.conversation.id, kept, [p for p in item.conversation.participants if p.id == keep],
                                item.conversation.platform, item.conversation.source_format)
    kept_ids = {m.id for m in kept}
    return LabelledConversation(conversation, {k: v for k, v in item.gold.items() if k in kept_ids}, item.enticement,
                                item.suspect, item.kind, item.negative_type, item.family,
                                {k: v for k, v in item.signals.items() if k in kept_ids}, item.disclosure,
                                item.discloser)


# ------------------------------------------------------------------------------------------------
# Metrics (pure functions)


def f_beta(precision: float, recall: float, beta: float = 1.0) -> float:
    """The weighted harmonic mean of precision and recall; 0 when both are 0."""
    b2 = beta * beta
    denominator = b2 * precision + recall
    return (1 + b2) * precision * recall / denominator if denominator > 0 else 0.0


def precision_recall(true_positive: int, predicted: int, actual: int) -> tuple[float, float]:
    """Precision and recall from counts (0 where undefined)."""
    return (true_positive / predicted if predicted else 0.0, true_positive / actual if actual else 0.0)


def tactic_scores(gold: Sequence[set[str]], predicted: Sequence[set[str]],
                  tactics: Sequence[str] = TACTICS) -> dict[str, dict[str, float]]:
    """Per tactic, message-level precision, recall, F1, support (gold messages) and predicted messages."""
    scores: dict[str, dict[str, float]] = {}
    for tactic in tactics:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if tactic in g and tactic in p)
        n_pred = sum(1 for p in predicted if tactic in p)
        n_gold = sum(1 for g in gold if tactic in g)
        precision, recall = precision_recall(tp, n_pred, n_gold)
        scores[tactic] = {"precision": precision, "recall": recall, "f1": f_beta(precision, recall),
                          "support": n_gold, "predicted": n_pred}
    return scores


def macro_f1(scores: dict[str, dict[str, float]]) -> float:
    """The mean F1 over tactics that occur in the gold labels or the predictions (others are undefined)."""
    values = [s["f1"] for s in scores.values() if s["support"] or s["predicted"]]
    return sum(values) / len(values) if values else 0.0


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """Area under the ROC curve: the chance a random positive scores above a random negative (ties count half)."""
    pairs = sorted(zip(scores, labels), key=lambda item: item[0])
    positives = sum(1 for label in labels if label)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    # Mann-Whitney U with average ranks for ties.
    rank_sum = 0.0
    index = 0
    while index < len(pairs):
        end = index
        while end + 1 < len(pairs) and pairs[end + 1][0] == pairs[index][0]:
            end += 1
        average_rank = (index + end) / 2 + 1
        rank_sum += average_rank * sum(1 for k in range(index, end + 1) if pairs[k][1])
        index = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def median(values: Sequence[float]) -> float | None:
    """The median (mean of the two middle values for an even count); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def warning_latency(window_predictions: Sequence[bool], skepticism: int = 1, window: int = 10) -> int | None:
    """Messages read when a warning is raised: the first k at which at least `skepticism` of the last `window`
    per-message predictions are positive (Vogt, Leser & Akbik 2021); None if never."""
    recent: list[bool] = []
    for k, prediction in enumerate(window_predictions, start=1):
        recent.append(bool(prediction))
        if len(recent) > window:
            recent.pop(0)
        if sum(recent) >= skepticism:
            return k
    return None


def penalty_parameter(median_positive_length: float) -> float:
    """p such that the speed penalty is 0.5 at the median length (in messages) of the positive conversations."""
    if median_positive_length <= 1:
        raise ValueError("the median positive length must be above 1 message")
    return math.log(3) / (median_positive_length - 1)


def speed_penalty(k: int, p: float) -> float:
    """The latency penalty of a warning after k messages: -1 + 2 / (1 + e^(-p (k - 1)))."""
    return -1 + 2 / (1 + math.exp(-p * (k - 1)))


def latency_weighted_f1(labels: Sequence[bool], latencies: Sequence[int | None],
                        positive_lengths: Sequence[int]) -> dict[str, float]:
    """F1 of the warnings times speed = 1 - median penalty over true positives (Vogt, Leser & Akbik 2021)."""
    tp = sum(1 for label, k in zip(labels, latencies, strict=True) if label and k is not None)
    predicted = sum(1 for k in latencies if k is not None)
    actual = sum(1 for label in labels if label)
    precision, recall = precision_recall(tp, predicted, actual)
    f1 = f_beta(precision, recall)
    med_length = median(positive_lengths)
    p = penalty_parameter(med_length) if med_length and med_length > 1 else 1.0
    penalties = [speed_penalty(k, p) for label, k in zip(labels, latencies, strict=True) if label and k is not None]
    speed = 1 - (median(penalties) or 0.0) if penalties else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "speed": speed, "latency_weighted_f1": f1 * speed,
            "penalty_p": p, "median_positive_length": med_length or 0.0}


# ------------------------------------------------------------------------------------------------
# Running the detector over a dataset


@dataclass(slots=True)
class ConversationOutcome:
    """The detector's output on one labelled conversation, kept for the metrics."""

    item: LabelledConversation
    risk: float
    level: str
    suspected_author: str | None
    predicted: dict[str, set[str]]
    alerts: list[bool]
    first_alert_index: int | None
    discloser: str | None = None


@dataclass(slots=True)
class EvaluationReport:
    """All the figures of one evaluation (see `to_dict`)."""

    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return self.figures


def run_detector(dataset: Iterable[LabelledConversation], model: DetectorModel | None = None) -> list[ConversationOutcome]:
    """Stream every conversation through the analyzer, recording per-message alert state and the final result."""
    outcomes = []
    for item in dataset:
        analyzer = StreamingAnalyzer(item.conversation.participants, conversation_id=item.conversation.id, model=model)
        alerts = []
        first = None
        for index, message in enumerate(item.conversation.messages, start=1):
            assessment = analyzer.feed(message)
            alerts.append(is_alert(assessment.level))
            if assessment.first_alert:
                first = index
        result = analyzer.result()
        if result.first_alert_message is None:
            first = None  # no alert, or an alert withdrawn when a disclosure was established
        predicted: dict[str, set[str]] = {m.id: set() for m in item.conversation.messages}
        for finding in result.tactics:
            predicted.setdefault(finding.message_id, set()).add(finding.tactic)
        outcomes.append(ConversationOutcome(item, result.risk, result.level, result.suspected_author, predicted, alerts, first,
                                            result.disclosure.discloser if result.disclosure else None))
    return outcomes


ESCALATIONS = frozenset({"image_request", "sextortion_threat", "meeting_request"})
"""The tactics by which harm is under way: an alert is early when it comes before the first of them."""


def first_escalation(item: LabelledConversation) -> int | None:
    """The 1-based position of the first message whose gold tactics include an escalation, if any."""
    for index, message in enumerate(item.conversation.messages, start=1):
        if item.gold.get(message.id, set()) & ESCALATIONS:
            return index
    return None


LONG_MESSAGES = 60
"""Issue 10's measure on real offenders' transcripts: of the enticement conversations at least this long, the share
that reaches an alert within their first this-many messages (`long_alerted_within_60`)."""


def escalation_opens(item: LabelledConversation, at: int) -> bool:
    """Whether the suspect's first message is already the escalation at position `at`: nothing of theirs came
    before it, so no detector can alert before it (a one-sided excerpt that opens with the threat)."""
    return not any(m.author == item.suspect for m in item.conversation.messages[:at - 1])


def evaluate(dataset: Sequence[LabelledConversation], model: DetectorModel | None = None,
             skepticism: int = 1) -> EvaluationReport:
    """Every figure of ENTICEMENT.md's "How detection is judged" on a labelled dataset."""
    return evaluate_outcomes(run_detector(dataset, model), skepticism)


def evaluate_outcomes(outcomes: Sequence[ConversationOutcome], skepticism: int = 1) -> EvaluationReport:
    """The figures of `evaluate` from the detector's outcomes already recorded (`run_detector`)."""
    gold: list[set[str]] = []
    predicted: list[set[str]] = []
    for outcome in outcomes:
        for message in outcome.item.conversation.messages:
            gold.append(outcome.item.gold.get(message.id, set()))
            predicted.append(outcome.predicted.get(message.id, set()))
    per_tactic = tactic_scores(gold, predicted)
    labels = [o.item.enticement for o in outcomes]
    alerted = [o.first_alert_index is not None for o in outcomes]
    tp = sum(1 for label, alert in zip(labels, alerted) if label and alert)
    alert_precision, alert_recall = precision_recall(tp, sum(alerted), sum(labels))
    correct_latencies = [o.first_alert_index for o in outcomes if o.item.enticement and o.first_alert_index is not None]
    latencies = [warning_latency(o.alerts, skepticism) for o in outcomes]
    positive_lengths = [len(o.item.conversation.messages) for o in outcomes if o.item.enticement]
    hard = [o for o in outcomes if o.item.hard_negative]
    negatives = [o for o in outcomes if not o.item.enticement]
    firsts = [(o, first_escalation(o.item)) for o in outcomes if o.item.enticement]
    escalating = [(o, at) for o, at in firsts if at is not None]
    early = sum(1 for o, at in escalating if o.first_alert_index is not None and o.first_alert_index < at)
    possible = [(o, at) for o, at in escalating if not escalation_opens(o.item, at)]
    long = [o for o in outcomes if o.item.enticement and len(o.item.conversation.messages) >= LONG_MESSAGES]
    by_kind: dict[str, list[int]] = {}
    for o in outcomes:
        counts = by_kind.setdefault(o.item.kind or ("enticement" if o.item.enticement else "negative"), [0, 0])
        counts[0] += 1
        counts[1] += o.first_alert_index is not None
    suspect_right = [o.suspected_author == o.item.suspect for o in outcomes if o.item.enticement and o.first_alert_index]
    by_negative_type: dict[str, list[int]] = {}
    for o in hard:
        counts = by_negative_type.setdefault(o.item.negative_type or "other", [0, 0])
        counts[0] += 1
        counts[1] += o.first_alert_index is not None
    figures = {
        "conversations": len(outcomes),
        "messages": len(gold),
        "enticement_conversations": sum(labels),
        "hard_negative_conversations": len(hard),
        "other_negative_conversations": len(outcomes) - sum(labels) - len(hard),
        "per_tactic": per_tactic,
        "macro_f1": macro_f1(per_tactic),
        "roc_auc": roc_auc(labels, [o.risk for o in outcomes]),
        "alert_precision": alert_precision,
        "alert_recall": alert_recall,
        "alert_f1": f_beta(alert_precision, alert_recall),
        "hard_negative_alert_rate": (sum(1 for o in hard if o.first_alert_index is not None) / len(hard)) if hard else 0.0,
        "negative_alert_rate": (sum(1 for o in negatives if o.first_alert_index is not None) / len(negatives))
        if negatives else 0.0,
        "alerts_by_kind": {k: {"conversations": v[0], "alerts": v[1]} for k, v in sorted(by_kind.items())},
        "alerted_before_escalation": (early / len(escalating)) if escalating else 0.0,
        "escalating_conversations": len(escalating),
        "alerted_before_escalation_where_possible": (early / len(possible)) if possible else 0.0,
        "escalations_after_the_suspects_first_message": len(possible),
        "long_enticement_conversations": len(long),
        "long_alerted_within_60": (sum(1 for o in long if o.first_alert_index is not None
                                       and o.first_alert_index <= LONG_MESSAGES) / len(long)) if long else 0.0,
        "hard_negative_alerts_by_type": {k: {"conversations": v[0], "alerts": v[1]} for k, v in sorted(by_negative_type.items())},
        "suspect_correct_at_alert": (sum(suspect_right) / len(suspect_right)) if suspect_right else 0.0,
        "median_messages_to_first_correct_alert": median(correct_latencies),
        "disclosures": sum(1 for o in outcomes if o.item.disclosure),
        "disclosure_precision": precision_recall(sum(1 for o in outcomes if o.discloser and o.item.disclosure),
                                                 sum(1 for o in outcomes if o.discloser),
                                                 sum(1 for o in outcomes if o.item.disclosure))[0],
        "disclosure_recall": precision_recall(sum(1 for o in outcomes if o.discloser and o.item.disclosure),
                                              sum(1 for o in outcomes if o.discloser),
                                              sum(1 for o in outcomes if o.item.disclosure))[1],
        "latency_weighted": latency_weighted_f1(labels, latencies, positive_lengths) | {"skepticism": skepticism, "window": 10},
    }
    return EvaluationReport(figures)


def format_report(figures: dict[str, Any]) -> str:
    """A readable table of an evaluation's figures."""
    lines = [
        (f"conversations {figures['conversations']} (enticement {figures['enticement_conversations']}, "
         f"hard negatives {figures['hard_negative_conversations']}, "
         f"other negatives {figures['other_negative_conversations']}), messages {figures['messages']}"),
        "",
        f"{'tactic':<22}{'precision':>10}{'recall':>10}{'f1':>8}{'support':>9}",
    ]
    for tactic, s in figures["per_tactic"].items():
        lines.append(f"{tactic:<22}{s['precision']:>10.3f}{s['recall']:>10.3f}{s['f1']:>8.3f}{s['support']:>9d}")
    lw = figures["latency_weighted"]
    med = figures["median_messages_to_first_correct_alert"]
    lines += [
        "",
        f"macro-F1                                {figures['macro_f1']:.3f}",
        f"conversation ROC AUC                    {figures['roc_auc']:.3f}",
        f"alert precision / recall (level>=high)  {figures['alert_precision']:.3f} / {figures['alert_recall']:.3f}",
        f"alert rate on hard negatives            {figures['hard_negative_alert_rate']:.3f}",
        f"alert rate on all negatives             {figures['negative_alert_rate']:.3f}",
        (f"alerted before the first image request, threat or meeting request  "
         f"{figures['alerted_before_escalation']:.3f} (of {figures['escalating_conversations']})"),
        (f"  the same where the suspect wrote before it          "
         f"{figures['alerted_before_escalation_where_possible']:.3f} "
         f"(of {figures['escalations_after_the_suspects_first_message']})"),
        (f"long enticement alerted within 60 messages  {figures['long_alerted_within_60']:.3f} "
         f"(of {figures['long_enticement_conversations']} of {LONG_MESSAGES} messages or more)"),
        f"suspected author right at alert         {figures['suspect_correct_at_alert']:.3f}",
        (f"disclosures found: precision / recall   {figures['disclosure_precision']:.3f} / "
         f"{figures['disclosure_recall']:.3f} (of {figures['disclosures']})"),
        f"median messages to first correct alert  {med if med is not None else '-'}",
        (f"latency-weighted F1                     {lw['latency_weighted_f1']:.3f} "
         f"(F1 {lw['f1']:.3f} x speed {lw['speed']:.3f}; p={lw['penalty_p']:.3f}, "
         f"skepticism {lw['skepticism']}/{lw['window']})"),
    ]
    for kind, counts in figures["alerts_by_kind"].items():
        lines.append(f"  alerts on {kind:<20}{counts['alerts']:>5} of {counts['conversations']}")
    for kind, counts in figures["hard_negative_alerts_by_type"].items():
        lines.append(f"  hard negatives: {kind:<15}{counts['alerts']:>5} of {counts['conversations']} alerted")
    return "\n".join(lines)
