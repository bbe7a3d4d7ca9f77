"""Trains the shipped model from the labelled corpus: `python -m tipline.enticement.training [--data data/enticement]`."""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from tipline.enticement.analyzer import AUTHOR_FEATURES, ConversationState
from tipline.enticement.embeddings import default_embeddings
from tipline.enticement.evaluation import LabelledConversation, evaluate, load_dataset, one_sided
from tipline.enticement.languages import get_language
from tipline.enticement.model import (
    HEADS,
    DetectorModel,
    RiskModel,
    TacticModel,
    message_features,
    model_path,
)
from tipline.enticement.tactics import TACTICS

FOLDS = 5
RULE_FLOOR = 0.55
MIN_FEATURE_COUNT = 2
DENSE_SCALE = 8.0
"""The meaning vector (unit length) times this is what the tactic model's weights see: it sets how strongly the
shared regularisation holds the dense weights back against the word features (chosen on dev)."""
DENSE_CLIP = 0.0
"""See TacticModel.dense_clip (chosen on dev)."""
ONE_SIDED_ROWS = True
"""Train the risk model on every training conversation's one-sided view too (chosen on dev)."""
WRITER_DEV_SHARE = 0.3
"""The share of each independent writer's training conversations kept for dev (by conversation id)."""
WRITER_WEIGHT = 2.0
"""How much a writer's conversation counts in the fits, against one of the generator's (chosen on dev)."""
POSITIVE_AFTER = 2
"""The enticing author's states count as positive in the risk model's rows once this many of their messages show
gold tactics (earlier states are left out as not yet decidable; chosen on dev)."""


def item_weight(item: LabelledConversation) -> float:
    """A writer's conversation (its family carries the writer's name) weighs WRITER_WEIGHT, the generator's 1."""
    return WRITER_WEIGHT if ":" in item.family else 1.0


def _signals(raw_signals: dict[str, dict[str, list[str]]], item: LabelledConversation, message_id: str) -> set[str]:
    return set(raw_signals.get(item.conversation.id, {}).get(message_id, item.gold.get(message_id, set())))


def load_signals(path: Path) -> dict[str, dict[str, list[str]]]:
    """conversation id -> message id -> signal labels (what the words express, regardless of context)."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    signals: dict[str, dict[str, list[str]]] = {}
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                raw = json.loads(line)
                signals[str(raw["id"])] = {str(m["id"]): m.get("signals", m.get("tactics", [])) for m in raw["messages"]}
    return signals


TACTIC_CACHE: Path | None = None
"""A folder where fitted tactic models are kept between runs (`--tactic-cache`): a fit is reused only when the same
conversations, settings and source of the features (language pack, model code, embeddings) would be fitted again."""


def _tactic_cache_key(items: list[LabelledConversation], language: str, c: float, dense_scale: float) -> str:
    import hashlib

    import tipline.enticement.languages.base as base_module
    import tipline.enticement.model as model_module
    from tipline.enticement.languages import LANGUAGES

    digest = hashlib.sha256()
    for module_file in (base_module.__file__, model_module.__file__):
        digest.update(Path(str(module_file)).read_bytes())
    pack = LANGUAGES[language]  # what the message features read: slang, tactic rules, reported speech (not the cues)
    digest.update(json.dumps([pack.slang, pack.tactic_rules, pack.reported_rules], sort_keys=True).encode())
    digest.update((MODEL_DIR_EMBEDDINGS(language)).read_bytes())
    digest.update(json.dumps([language, c, dense_scale, WRITER_WEIGHT, MIN_FEATURE_COUNT, CLASS_WEIGHT]).encode())
    for item in items:
        digest.update(f"{item.conversation.id}|{item.family}|{len(item.conversation.messages)}\n".encode())
    return digest.hexdigest()[:24]


def MODEL_DIR_EMBEDDINGS(language: str) -> Path:  # noqa: N802  # a path, like the constants beside it
    return model_path(language).parent / f"{language}-embeddings.npz"


CLASS_WEIGHT = 2.0
"""How much a message showing a tactic weighs against one that does not, in the tactic model's fit (chosen on dev)."""


def fit_tactic_model(items: list[LabelledConversation], signals: dict[str, dict[str, list[str]]],
                     language: str = "en", c: float = 2.0, dense_scale: float | None = None) -> TacticModel:
    """One logistic regression per tactic on the message features (words, rules and, with embeddings, the message's
    meaning vector), trained on the signal labels; and one for disclosure, whose positives are the discloser's
    messages that tell of a tactic in a disclosure conversation."""
    dense_scale = DENSE_SCALE if dense_scale is None else dense_scale
    if TACTIC_CACHE is None:
        return _fit_tactic_model(items, signals, language, c, dense_scale)
    import pickle

    cached = TACTIC_CACHE / f"tactic-{_tactic_cache_key(items, language, c, dense_scale)}.pickle"
    if cached.exists():
        vocabulary, weights, bias, dense = pickle.loads(cached.read_bytes())
        embeddings = default_embeddings(language) if dense is not None else None
        return TacticModel(vocabulary, weights, bias, RULE_FLOOR, dense, dense_scale, DENSE_CLIP, embeddings)
    model = _fit_tactic_model(items, signals, language, c, dense_scale)
    TACTIC_CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(pickle.dumps((model.vocabulary, model.weights, model.bias, model.dense)))
    return model


def _fit_tactic_model(items: list[LabelledConversation], signals: dict[str, dict[str, list[str]]],
                      language: str, c: float, dense_scale: float) -> TacticModel:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    embeddings = default_embeddings(language) if dense_scale > 0 else None
    pack = get_language(language)
    rows: list[list[str]] = []
    vectors: list[np.ndarray] = []
    targets: list[set[str]] = []
    row_weights: list[float] = []
    for item in items:
        for message in item.conversation.messages:
            row_weights.append(item_weight(item))
            reading = pack.read(message.text)
            rows.append(message_features(reading))
            if embeddings is not None:
                vectors.append(embeddings.embed_tokens(reading.tokens))
            target = _signals(signals, item, message.id)
            if item.disclosure and message.author == item.discloser and target:
                target = target | {"disclosure"}
            targets.append(target)
    counts = Counter(f for row in rows for f in set(row))
    vocabulary = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= MIN_FEATURE_COUNT))}
    data, indices, indptr = [], [], [0]
    for row in rows:
        present = Counter(vocabulary[f] for f in row if f in vocabulary)
        indices += sorted(present)
        data += [float(present[i]) for i in sorted(present)]
        indptr.append(len(indices))
    x = csr_matrix((data, indices, indptr), shape=(len(rows), len(vocabulary)))
    dims = embeddings.dims if embeddings is not None else 0
    if embeddings is not None:
        x = hstack([x, csr_matrix(np.vstack(vectors) * dense_scale)]).tocsr()
    weights = np.zeros((len(vocabulary) + dims, len(HEADS)))
    bias = np.full(len(HEADS), -8.0)
    for index, head in enumerate(HEADS):
        y = np.array([head in t for t in targets])
        if y.sum() == 0:
            continue
        classifier = LogisticRegression(C=c, max_iter=2000, solver="liblinear", class_weight={0: 1.0, 1: CLASS_WEIGHT})
        classifier.fit(x, y, sample_weight=np.asarray(row_weights))
        weights[:, index] = classifier.coef_[0]
        bias[index] = classifier.intercept_[0]
    dense = weights[len(vocabulary):] if embeddings is not None else None
    return TacticModel(vocabulary, weights[: len(vocabulary)], bias, RULE_FLOOR, dense, dense_scale, DENSE_CLIP, embeddings)


def risk_rows(items: list[LabelledConversation], tactic_model: TacticModel, language: str = "en",
              disclosure_threshold: float = 0.5) -> tuple[list[np.ndarray], list[int], list[float]]:
    """Author states after each message, labelled 1 for the enticing author once POSITIVE_AFTER of their messages
    show tactics, 0 for every other author; the enticing author's earlier states are left out (not yet decidable).
    Each row carries its conversation's weight (`item_weight`)."""
    pack = get_language(language)
    vectors: list[np.ndarray] = []
    labels: list[int] = []
    weights: list[float] = []
    for item in items:
        state = ConversationState(pack, tactic_model, item.conversation.participants, disclosure_threshold)
        shown = 0
        for message in item.conversation.messages:
            state.add(message)
            if item.enticement and message.author == item.suspect and item.gold.get(message.id):
                shown += 1
            for author in state.authors:
                if state.authors[author].messages == 0:
                    continue
                if item.enticement and author == item.suspect:
                    if shown < POSITIVE_AFTER:
                        continue
                    label = 1
                else:
                    label = 0
                vectors.append(state.features(author))
                labels.append(label)
                weights.append(item_weight(item))
    return vectors, labels, weights


RAISES_RISK = ("max_", "minor_x_", "n_", "three_or_more", "combo_", "escalation_after_minor", "probe_then_severe",
               "age_gap_large", "age_conflict", "partner_distress", "demand", "adult_cues_x_minor", "partner_minor_cues",
               "author_only_prober", "soft_severe", "frac_tactic_messages")
LOWERS_RISK = ("cue_", "partner_cue_context", "peers", "both_adults", "partner_adult", "reported_speech", "disclosure_max",
               "partner_disclosure")


MAX_WEIGHT = 2.0
"""No single standardised feature may move the log-odds by more than this per standard deviation: one
strong signal alone (a compliment, an age question) must not decide; combinations must."""


def weight_bounds(names: list[str]) -> list[tuple[float | None, float | None]]:
    """Sign constraints that keep the risk model sensible: evidence of a tactic never lowers risk, a legitimate
    context never raises it; the remaining features (ages) are free. Every weight is bounded by MAX_WEIGHT."""
    bounds: list[tuple[float | None, float | None]] = []
    for name in names:
        if name.startswith(LOWERS_RISK):
            bounds.append((-MAX_WEIGHT, 0.0))
        elif name.startswith(RAISES_RISK):
            bounds.append((0.0, MAX_WEIGHT))
        else:
            bounds.append((-MAX_WEIGHT, MAX_WEIGHT))
    return bounds


def fit_risk_model(vectors: list[np.ndarray], labels: list[int], l2: float = 1.0,
                   row_weights: list[float] | None = None) -> RiskModel:
    """L2-regularised logistic regression with sign constraints (L-BFGS-B), on standardised author states."""
    from scipy.optimize import minimize

    x = np.vstack(vectors)
    y = np.asarray(labels, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    n, d = z.shape
    positive_weight = (n - y.sum()) / max(1.0, y.sum())  # balance the classes
    sample_weight = np.where(y == 1, positive_weight, 1.0)
    if row_weights is not None:
        sample_weight = sample_weight * np.asarray(row_weights)
    sample_weight /= sample_weight.mean()

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        margin = z @ w + b
        p = 1 / (1 + np.exp(-np.clip(margin, -30, 30)))
        value = -np.sum(sample_weight * (y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12))) / n
        value += l2 * (w @ w) / (2 * n)
        error = sample_weight * (p - y) / n
        gradient = np.append(z.T @ error + l2 * w / n, error.sum())
        return value, gradient

    bounds = weight_bounds(list(AUTHOR_FEATURES)) + [(None, None)]
    fitted = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000})
    return RiskModel(list(AUTHOR_FEATURES), fitted.x[:d], float(fitted.x[d]), mean, scale)


def out_of_fold_rows(items: list[LabelledConversation], signals: dict[str, dict[str, list[str]]],
                     language: str = "en", dense_scale: float | None = None
                     ) -> tuple[list[np.ndarray], list[int], list[float]]:
    """Risk-model rows whose tactic probabilities come from tactic models that never saw that template family,
    so the risk model learns how far to trust tactic scores on unseen wordings."""
    families = sorted({item.family for item in items})
    vectors: list[np.ndarray] = []
    labels: list[int] = []
    weights: list[float] = []
    for fold in range(FOLDS):
        held = {f for i, f in enumerate(families) if i % FOLDS == fold}
        fit_items = [item for item in items if item.family not in held]
        model = fit_tactic_model(fit_items, signals, language, dense_scale=dense_scale)
        held_items = [item for item in items if item.family in held]
        if ONE_SIDED_ROWS:
            # also the suspect's (or the most tactic-like participant's) side alone, as transcripts and excerpts give it
            held_items += [one_sided(item) for item in held_items]
        v, y, w = risk_rows(held_items, model, language)
        vectors += v
        labels += y
        weights += w
    return vectors, labels, weights


def tune_tactic_thresholds(model: DetectorModel, dev: list[LabelledConversation]) -> dict[str, Any]:
    """Choose, on dev, the author risk from which tactics are reported and each tactic's own threshold: one pass of
    the detector records every message's probabilities and its author's peak risk; the thresholds that maximise
    each tactic's message-level F1 are then found without rerunning it."""
    from tipline.enticement.analyzer import StreamingAnalyzer
    from tipline.enticement.evaluation import f_beta, precision_recall

    rows: list[tuple[np.ndarray, float, set[str]]] = []
    for item in dev:
        analyzer = StreamingAnalyzer(item.conversation.participants, model=model)
        for message in item.conversation.messages:
            analyzer.feed(message)
        for message, probs, _ in analyzer.state.records:
            rows.append((probs, analyzer.author_peaks.get(message.author, 0.0), item.gold.get(message.id, set())))
    grid = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)
    best: tuple[float, float, list[float]] = (-1.0, model.finding_risk, [model.tactic_threshold] * len(TACTICS))
    probs = np.vstack([r[0] for r in rows])
    peaks = np.array([r[1] for r in rows])
    for finding_risk in (0.3, 0.4, 0.5, 0.6):
        reported = peaks >= finding_risk
        chosen, scores = [], []
        for index, tactic in enumerate(TACTICS):
            gold = np.array([tactic in r[2] for r in rows])
            options = []
            for threshold in grid:
                predicted = reported & (probs[:, index] >= threshold)
                precision, recall = precision_recall(int((predicted & gold).sum()), int(predicted.sum()), int(gold.sum()))
                options.append((f_beta(precision, recall), -threshold))
            f1, negative = max(options)
            chosen.append(-negative)
            scores.append(f1)
        score = float(np.mean(scores))
        if score > best[0]:
            best = (score, finding_risk, chosen)
    model.finding_risk, model.tactic_thresholds = best[1], best[2]
    return {"dev_macro_f1": round(best[0], 4), "finding_risk": best[1], "tactic_thresholds": best[2]}


def tune_thresholds(model: DetectorModel, dev: list[LabelledConversation]) -> dict[str, float]:
    """Choose the tactic threshold and the author risk for reporting tactics that maximise dev macro-F1."""
    best = (-1.0, model.tactic_threshold, model.finding_risk)
    for threshold in (0.4, 0.5, 0.6):
        for finding_risk in (0.2, 0.3, 0.4, 0.5, 0.6):
            model.tactic_threshold, model.finding_risk = threshold, finding_risk
            score = evaluate(dev, model).figures["macro_f1"]
            if score > best[0]:
                best = (score, threshold, finding_risk)
    model.tactic_threshold, model.finding_risk = best[1], best[2]
    return {"dev_macro_f1": round(best[0], 4), "tactic_threshold": best[1], "finding_risk": best[2]}


def _dev_figures(model: DetectorModel, dev: list[LabelledConversation]) -> dict[str, float]:
    """Dev figures averaged over its two parts, the generator's and the independent writers' (whose families carry
    the writer's name), so that the writers' text, closer to real chats, counts as much as the generator's."""
    parts = [[i for i in dev if ":" not in i.family], [i for i in dev if ":" in i.family]]
    results = [evaluate(part, model).figures for part in parts if part]
    keys = ("alert_recall", "negative_alert_rate", "disclosure_recall", "disclosure_precision", "macro_f1",
            "alerted_before_escalation")
    averaged = {k: float(np.mean([r[k] for r in results])) for k in keys}
    # disclosures exist only in the writers' part: judge them there
    averaged["disclosure_recall"], averaged["disclosure_precision"] = (results[-1]["disclosure_recall"],
                                                                       results[-1]["disclosure_precision"])
    return averaged


def tune_disclosure(model: DetectorModel, dev: list[LabelledConversation]) -> dict[str, float]:
    """Choose when a participant counts as disclosing (head probability, number of messages) on dev: the most
    disclosures found and enticement alerts kept, the fewest alerts on negatives."""
    best = (-9.0, model.disclosure_threshold, model.disclosure_messages)
    for threshold in (0.5, 0.7, 0.9):
        for count in (1, 2):
            model.disclosure_threshold, model.disclosure_messages = threshold, count
            figures = _dev_figures(model, dev)
            score = (figures["alert_recall"] - figures["negative_alert_rate"] + 0.5 * figures["disclosure_recall"]
                     + 0.5 * figures["disclosure_precision"])
            if score > best[0]:
                best = (score, threshold, count)
    model.disclosure_threshold, model.disclosure_messages = best[1], int(best[2])
    return {"disclosure_threshold": best[1], "disclosure_messages": int(best[2])}


UNSEEN_WRITER_MARGIN = 0.0
"""Added to the risk offset chosen on dev, for writers the tactic model was not trained on. Chosen leave-one-writer-out
over the seven training writers (detector v5.1, docs/enticement.md): each fold's model, trained and tuned without one
writer, was run on all of that writer's conversations at margins from -1.5 to +1.0, and the margin with the best
mean of `tune_risk_offset`'s own criterion over writers and both views was 0 (score 0.902; +1.0, chosen for v4 over
three writers, 0.861: it alerted 89.6 % of an unseen writer's enticement and 8.7 % of their negatives, 0 alerts 84.7 %
and 5.2 %). With seven writers in the fit, dev's offset no longer needs raising for a new hand."""

EARLY_WEIGHT = 0.5
"""In choosing the risk offset, a point of enticement alerted before its first escalation counts this much beside a
point of enticement alerted at all (chosen on dev)."""


def tune_risk_offset(model: DetectorModel, dev: list[LabelledConversation]) -> dict[str, float]:
    """Shift the risk model's bias on dev so that alerts stay on enticement and off negatives: the most enticement
    conversations alerted (and alerted before the first escalation, weighed EARLY_WEIGHT) with at most 5% of
    negatives alerted, each point of negatives above 5% costing three; averaged over reading both sides and the
    one-sided view (transcripts give only the suspect's lines). A coarse grid, then a quarter step either side."""
    risk_model = model.risk_model
    assert risk_model is not None
    base = risk_model.bias
    one = [one_sided(item) for item in dev]
    scores: dict[float, float] = {}

    def score(offset: float) -> float:
        if offset not in scores:
            risk_model.bias = base + offset
            values = []
            for view, items in (("both sides", dev), ("one-sided", one)):
                figures = _dev_figures(model, items)
                values.append(figures["alert_recall"] + EARLY_WEIGHT * figures["alerted_before_escalation"]
                              - figures["negative_alert_rate"] - 3 * max(0.0, figures["negative_alert_rate"] - 0.05))
                print(f"  risk offset {offset:+.2f} ({view}): alerts on enticement {figures['alert_recall']:.3f}, "
                      f"before escalation {figures['alerted_before_escalation']:.3f}, "
                      f"on negatives {figures['negative_alert_rate']:.3f}", file=sys.stderr)
            scores[offset] = float(np.mean(values))
        return scores[offset]

    coarse = max((-4.0, -3.5, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0), key=lambda o: (score(o), -o))
    best = max((coarse - 0.25, coarse, coarse + 0.25), key=lambda o: (score(o), -o))
    risk_model.bias = base + best + UNSEEN_WRITER_MARGIN
    return {"risk_offset": best + UNSEEN_WRITER_MARGIN, "dev_risk_offset": best, "unseen_writer_margin": UNSEEN_WRITER_MARGIN}


def writer_split(conversation_id: str) -> str:
    """'dev' for WRITER_DEV_SHARE of an independent writer's conversations (a stable hash of the id), else 'train'."""
    return "dev" if zlib.crc32(conversation_id.encode("utf-8")) % 100 < WRITER_DEV_SHARE * 100 else "train"


def load_writers(data: Path) -> tuple[list[LabelledConversation], list[LabelledConversation], dict[str, dict[str, list[str]]]]:
    """The independent writers' training conversations (`data/writers/*.jsonl`), split by conversation into train
    and dev; families are prefixed with the writer so that out-of-fold splits never mix two writers' families."""
    folder = data / "writers"
    train_part: list[LabelledConversation] = []
    dev_part: list[LabelledConversation] = []
    signals: dict[str, dict[str, list[str]]] = {}
    for file in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        signals.update(load_signals(file))
        for item in load_dataset(file):
            item.family = f"{file.stem}:{item.family}"
            (dev_part if writer_split(item.conversation.id) == "dev" else train_part).append(item)
    return train_part, dev_part, signals


def fit_model(train_items: list[LabelledConversation], dev_items: list[LabelledConversation],
              signals: dict[str, dict[str, list[str]]], language: str = "en", tune: bool = True,
              dense_scale: float | None = None) -> tuple[DetectorModel, dict[str, Any]]:
    """Fit the tactic and risk models on `train_items` and choose the thresholds on `dev_items`: the whole training
    procedure, shared by the shipped model (`train`) and every fold of `leave_one_writer_out`."""
    vectors, labels, row_weights = out_of_fold_rows(train_items, signals, language, dense_scale)
    risk_model = fit_risk_model(vectors, labels, row_weights=row_weights)
    tactic_model = fit_tactic_model(train_items, signals, language, dense_scale=dense_scale)
    model = DetectorModel(language, tactic_model, risk_model)
    tuning = tune_disclosure(model, dev_items) if tune else {}
    tuning |= tune_risk_offset(model, dev_items) if tune else {}
    tuning |= tune_tactic_thresholds(model, dev_items) if tune else {}
    info = {"dense_scale": tactic_model.dense_scale if tactic_model.dense is not None else 0.0,
            "risk_rows": len(labels), "vocabulary": len(tactic_model.vocabulary), **tuning}
    return model, info


def train(data: Path, language: str = "en", out: Path | None = None, tune: bool = True,
          dense_scale: float | None = None) -> DetectorModel:
    """Train on `data/train.jsonl` plus the writers' train part, tune on `data/dev.jsonl` plus the writers' dev part,
    write the model; the test split and the independent evaluation set are never read."""
    started = time.time()
    writers_train, writers_dev, writer_signals = load_writers(data)
    train_items = load_dataset(data / "train.jsonl") + writers_train
    dev_items = load_dataset(data / "dev.jsonl") + writers_dev
    signals = load_signals(data / "train.jsonl") | writer_signals
    model, info = fit_model(train_items, dev_items, signals, language, tune, dense_scale)
    model.training = {
        "command": "python -m tipline.enticement.training --data " + str(data),
        "train_conversations": len(train_items),
        "writer_train_conversations": len(writers_train),
        "dev_conversations": len(dev_items),
        "writer_dev_conversations": len(writers_dev),
        "writer_weight": WRITER_WEIGHT,
        "positive_after": POSITIVE_AFTER,
        "early_weight": EARLY_WEIGHT,
        **info,
    }
    model.save(out or model_path(language))
    print(f"trained in {time.time() - started:.1f}s: {model.training}", file=sys.stderr)
    return model


def tune_again(model: DetectorModel, dev: list[LabelledConversation]) -> dict[str, Any]:
    """Choose a fitted and tuned model's thresholds again on `dev`, from its fitted bias, as `fit_model` chose them."""
    assert model.risk_model is not None
    model.risk_model.bias -= float(model.training.get("risk_offset", 0.0))  # back to the fitted bias
    return tune_disclosure(model, dev) | tune_risk_offset(model, dev) | tune_tactic_thresholds(model, dev)


def retune(data: Path, language: str = "en", out: Path | None = None, source: Path | None = None) -> DetectorModel:
    """Choose the shipped model's thresholds again on dev without fitting it again: its fitted weights are what a
    retraining would give (the fit does not depend on the thresholds), so after a change of the tuning alone (such as
    UNSEEN_WRITER_MARGIN) this gives the model `train` would, in minutes instead of half an hour."""
    path = source or model_path(language)
    model = DetectorModel.load(path)
    _, writers_dev, _ = load_writers(data)
    tuning = tune_again(model, load_dataset(data / "dev.jsonl") + writers_dev)
    model.training = model.training | tuning
    model.save(out or path)
    print(f"thresholds chosen again: {tuning}", file=sys.stderr)
    return model


LOWO_MEASURES = ("roc_auc", "negative_alert_rate", "alert_recall", "alerted_before_escalation", "macro_f1",
                 "disclosure_precision", "disclosure_recall")
"""The figures `leave_one_writer_out` reports for every writer left out (issue 10's five, and disclosures found)."""


def writer_name(file: Path) -> str:
    """`writer_c.jsonl` -> `c`; `writer_z_detect10.jsonl` -> `z`."""
    return file.stem.removeprefix("writer_").split("_")[0]


def _lowo_fold(data: Path, writer: str, language: str, dense_scale: float | None,
               outcomes_dir: Path | None, models_dir: Path | None = None, reuse: bool = False) -> dict[str, Any]:
    """One fold: train and tune without `writer` (all of their file), evaluate on all of it, both sides and one-sided.
    With `models_dir`, the fold's model is written there; with `reuse` too, a model written there before is read
    instead of fitted and only the thresholds are chosen again (to measure a change of the rules or of the tuning
    alone, which leaves the fitted weights as they were)."""
    from tipline.enticement.evaluation import evaluate_outcomes, first_escalation, run_detector

    started = time.time()
    writers_train, writers_dev, signals = load_writers(data)
    prefix = f"writer_{writer}"
    left_out = [i for i in writers_train + writers_dev if i.family.split(":")[0].startswith(prefix)]
    left_out.sort(key=lambda i: i.conversation.id)
    keep = [i for i in writers_train if not i.family.split(":")[0].startswith(prefix)]
    keep_dev = [i for i in writers_dev if not i.family.split(":")[0].startswith(prefix)]
    train_items = load_dataset(data / "train.jsonl") + keep
    dev_items = load_dataset(data / "dev.jsonl") + keep_dev
    signals = load_signals(data / "train.jsonl") | signals
    saved = models_dir / f"leave-out-{writer}.json.gz" if models_dir is not None else None
    if reuse and saved is not None and saved.exists():
        model = DetectorModel.load(saved)
        info = tune_again(model, dev_items)
    else:
        model, info = fit_model(train_items, dev_items, signals, language, True, dense_scale)
        if saved is not None:
            model.training = info
            model.save(saved)
    fold: dict[str, Any] = {"writer": writer, "conversations": len(left_out), "tuning": info}
    for view, items in (("two-sided", left_out), ("one-sided", [one_sided(i) for i in left_out])):
        outcomes = run_detector(items, model)
        report = evaluate_outcomes(outcomes).figures
        fold[view] = {k: report[k] for k in LOWO_MEASURES} | {
            "hard_negative_alerts_by_type": report["hard_negative_alerts_by_type"],
            "alerts_by_kind": report["alerts_by_kind"],
            "per_tactic_f1": {t: round(s["f1"], 3) for t, s in report["per_tactic"].items()},
        }
        if outcomes_dir is not None:
            rows = [{"id": o.item.conversation.id, "kind": o.item.kind, "negative_type": o.item.negative_type,
                     "disclosure": o.item.disclosure, "family": o.item.family, "risk": o.risk, "level": o.level,
                     "first_alert": o.first_alert_index, "escalation": first_escalation(o.item),
                     "messages": len(o.item.conversation.messages), "discloser_found": o.discloser}
                    for o in outcomes]
            outcomes_dir.mkdir(parents=True, exist_ok=True)
            (outcomes_dir / f"{writer}-{view}.json").write_text(json.dumps(rows, indent=0), encoding="utf-8")
    fold["seconds"] = round(time.time() - started, 1)
    print(f"left out writer {writer}: {json.dumps({v: {k: round(fold[v][k], 3) for k in LOWO_MEASURES} for v in ('two-sided', 'one-sided')})}"
          f" ({fold['seconds']} s)", file=sys.stderr)
    return fold


def leave_one_writer_out(data: Path, writers: list[str] | None = None, language: str = "en",
                         dense_scale: float | None = None, jobs: int = 1,
                         outcomes_dir: Path | None = None, models_dir: Path | None = None,
                         reuse: bool = False) -> dict[str, Any]:
    """The honest estimate of how the detector does on a writer nobody here saw: for each training writer, train and
    tune on everything else (the generator's corpus and every other writer) exactly as `train` does, then measure on
    all of that writer's conversations. Returns the figures per writer and their mean (each writer counts once)."""
    names = sorted({writer_name(f) for f in (data / "writers").glob("writer_*.jsonl")} - {"z"})
    chosen = writers or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise SystemExit(f"no training writer {', '.join(unknown)} in {data / 'writers'} (there are {', '.join(names)})")
    if jobs > 1:
        from multiprocessing import get_context

        with get_context("fork").Pool(jobs) as pool:
            folds = pool.starmap(_lowo_fold, [(data, w, language, dense_scale, outcomes_dir, models_dir, reuse)
                                              for w in chosen])
    else:
        folds = [_lowo_fold(data, w, language, dense_scale, outcomes_dir, models_dir, reuse) for w in chosen]
    mean = {view: {k: round(float(np.mean([f[view][k] for f in folds])), 4) for k in LOWO_MEASURES}
            for view in ("two-sided", "one-sided")}
    return {"writers": chosen, "mean": mean, "folds": folds,
            "settings": {"writer_weight": WRITER_WEIGHT, "positive_after": POSITIVE_AFTER, "early_weight": EARLY_WEIGHT,
                         "dense_scale": DENSE_SCALE if dense_scale is None else dense_scale}}


def format_lowo(result: dict[str, Any]) -> str:
    """A table of the leave-one-writer-out figures: one row per writer left out and view, then the means."""
    heads = ("AUC", "neg alerted", "entic. alerted", "early", "macro-F1", "discl. P", "discl. R")
    lines = [f"{'writer':<8}{'view':<11}" + "".join(f"{h:>15}" for h in heads)]
    for fold in result["folds"]:
        for view in ("two-sided", "one-sided"):
            lines.append(f"{fold['writer']:<8}{view:<11}" + "".join(f"{fold[view][k]:>15.3f}" for k in LOWO_MEASURES))
    for view in ("two-sided", "one-sided"):
        lines.append(f"{'mean':<8}{view:<11}" + "".join(f"{result['mean'][view][k]:>15.3f}" for k in LOWO_MEASURES))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    global WRITER_WEIGHT, POSITIVE_AFTER, EARLY_WEIGHT, CLASS_WEIGHT, TACTIC_CACHE  # the command line sets them
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/enticement"), help="folder with train.jsonl and dev.jsonl")
    parser.add_argument("--language", default="en")
    parser.add_argument("--out", type=Path, default=None, help="where to write the model (default: the shipped model)")
    parser.add_argument("--no-tune", action="store_true", help="keep the default thresholds")
    parser.add_argument("--dense-scale", type=float, default=None,
                        help=f"weight of the meaning vectors (default {DENSE_SCALE}; 0 trains a lexical-only model)")
    parser.add_argument("--writer-weight", type=float, default=WRITER_WEIGHT,
                        help=f"weight of a writer's conversation against a generated one (default {WRITER_WEIGHT})")
    parser.add_argument("--early-weight", type=float, default=EARLY_WEIGHT,
                        help=f"weight of early alerts in choosing the risk offset (default {EARLY_WEIGHT})")
    parser.add_argument("--positive-after", type=int, default=POSITIVE_AFTER,
                        help=f"tactic messages before the enticer's states count as positive (default {POSITIVE_AFTER})")
    parser.add_argument("--leave-one-writer-out", action="store_true",
                        help="instead of training the shipped model, estimate how it does on an unseen writer: for each "
                             "training writer, train without them and measure on all their conversations")
    parser.add_argument("--writers", default=None,
                        help="with --leave-one-writer-out: the writers to leave out, comma-separated (default: all but z)")
    parser.add_argument("--jobs", type=int, default=1, help="with --leave-one-writer-out: folds run in parallel")
    parser.add_argument("--json", type=Path, default=None, help="with --leave-one-writer-out: write the figures here")
    parser.add_argument("--outcomes", type=Path, default=None,
                        help="with --leave-one-writer-out: write every conversation's outcome per fold to this folder")
    parser.add_argument("--models", type=Path, default=None,
                        help="with --leave-one-writer-out: write every fold's model to this folder")
    parser.add_argument("--reuse-models", action="store_true",
                        help="with --models: read the folds' models written there before instead of fitting them, and "
                             "choose only the thresholds again (measures a change of the rules alone)")
    parser.add_argument("--retune", action="store_true",
                        help="choose the shipped model's thresholds again on dev without fitting it again (after a change "
                             "of the tuning alone)")
    parser.add_argument("--model", type=Path, default=None,
                        help="with --retune: the model to read (default: the shipped model); --out says where to write")
    parser.add_argument("--class-weight", type=float, default=CLASS_WEIGHT,
                        help=f"weight of a message showing a tactic in the tactic model's fit (default {CLASS_WEIGHT})")
    parser.add_argument("--tactic-cache", type=Path, default=None,
                        help="keep fitted tactic models in this folder and reuse them when nothing they depend on changed")
    args = parser.parse_args(argv)
    CLASS_WEIGHT, TACTIC_CACHE = args.class_weight, args.tactic_cache
    WRITER_WEIGHT, POSITIVE_AFTER, EARLY_WEIGHT = args.writer_weight, args.positive_after, args.early_weight
    if args.leave_one_writer_out:
        writers = args.writers.split(",") if args.writers else None
        result = leave_one_writer_out(args.data, writers, args.language, args.dense_scale, args.jobs, args.outcomes,
                                      args.models, args.reuse_models)
        print(format_lowo(result))
        if args.json:
            args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
        return
    if args.retune:
        retune(args.data, args.language, args.out, args.model)
        return
    train(args.data, args.language, args.out, tune=not args.no_tune, dense_scale=args.dense_scale)


if __name__ == "__main__":
    main()


def cross_validate(data: Path, language: str = "en", folds: int = FOLDS) -> dict[str, float]:
    """Model selection without the test split: train on 4/5 of the train split's template families, evaluate on
    the rest, for each fold; return the figures pooled over the held-out folds."""
    items = load_dataset(data / "train.jsonl")
    signals = load_signals(data / "train.jsonl")
    families = sorted({item.family for item in items})
    outcomes = []
    from tipline.enticement.evaluation import run_detector

    for fold in range(folds):
        held = {f for i, f in enumerate(families) if i % folds == (fold + 2) % folds}
        fit_items = [item for item in items if item.family not in held]
        vectors, labels, row_weights = out_of_fold_rows(fit_items, signals, language)
        model = DetectorModel(language, fit_tactic_model(fit_items, signals, language),
                              fit_risk_model(vectors, labels, row_weights=row_weights))
        model.tactic_threshold, model.finding_risk = 0.4, 0.6
        outcomes += run_detector([item for item in items if item.family in held], model)
    hard = [o for o in outcomes if o.item.hard_negative]
    positives = [o for o in outcomes if o.item.enticement]
    from tipline.enticement.evaluation import roc_auc

    by_family: dict[str, list[int]] = {}
    for o in outcomes:
        counts = by_family.setdefault(o.item.family, [0, 0])
        counts[0] += 1
        counts[1] += o.first_alert_index is not None
    return {
        "alerts_by_family": {f: f"{a}/{n}" for f, (n, a) in sorted(by_family.items())},  # type: ignore[dict-item]  # the report mixes figures and their per-family texts
        "hard_negative_alert_rate": sum(o.first_alert_index is not None for o in hard) / len(hard),
        "alert_recall": sum(o.first_alert_index is not None for o in positives) / len(positives),
        "roc_auc": roc_auc([o.item.enticement for o in outcomes], [o.risk for o in outcomes]),
    }
