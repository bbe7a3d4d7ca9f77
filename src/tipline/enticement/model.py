"""The trained detector: a per-message tactic model and a per-author risk model, stored as one small JSON file."""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from tipline.enticement.languages import MessageReading
from tipline.enticement.tactics import TACTICS

TACTIC_INDEX = {name: i for i, name in enumerate(TACTICS)}
MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_VERSION = 2
RULE_WEIGHT = 3
HEADS: tuple[str, ...] = (*TACTICS, "disclosure")
"""The tactic model's outputs: the 13 tactics, then whether the writer discloses an approach told by a third person."""
DISCLOSURE = len(TACTICS)


_GRAMS: dict[str, list[str]] = {}
"""A long token's character 4-gram features, built once per distinct token (never changed once built)."""


def message_features(reading: MessageReading) -> list[str]:
    """The lexical features of one message: words, word pairs, rule hits, and whether it asks something."""
    tokens = reading.tokens
    features = ["w:" + t for t in tokens]
    features += ["b:" + a + "_" + b for a, b in pairwise(tokens)]
    for token in tokens:
        if len(token) >= 5 and " " not in token:
            grams = _GRAMS.get(token)
            if grams is None:
                grams = ["c:" + token[i : i + 4] for i in range(len(token) - 3)]
                if len(_GRAMS) < 200_000:
                    _GRAMS[token] = grams
            features += grams
    # A rule hit counts RULE_WEIGHT times: the hand-written rules generalise to unseen wordings, so the
    # regularised fit should lean on them rather than on the exact words of the training phrases.
    features += ["r:" + t for t in reading.rule_hits for _ in range(RULE_WEIGHT)]
    if reading.reported:
        features += ["r:reported"] * RULE_WEIGHT
    if reading.question:
        features.append("q")
    return features


@dataclass
class TacticModel:
    """One logistic regression per tactic over `message_features`; the weights are a dense vocabulary x tactic matrix."""

    vocabulary: dict[str, int]
    weights: np.ndarray  # shape (len(vocabulary), len(HEADS))
    bias: np.ndarray  # shape (len(HEADS),)
    rule_floor: float = 0.0
    """A tactic whose hand-written rule matches gets at least this probability (0 disables the floor)."""
    dense: np.ndarray | None = None
    """Weights of the message's meaning vector, shape (dims, len(HEADS)); None for a lexical-only model."""
    dense_scale: float = 1.0
    """The meaning vector is multiplied by this before the weights (as in training, where it sets its regularisation)."""
    dense_clip: float = 0.0
    """The meaning vector moves a head's log-odds by at most this (0: unbounded): meaning alone suggests a tactic,
    but a near-certain score needs words or rules too."""
    embeddings: Any = None
    """The StaticEmbeddings that give the meaning vectors (not serialised: loaded with the model)."""

    _token_rows: dict[str, tuple[int, tuple[int, ...]]] = field(default_factory=dict, init=False, repr=False,
                                                                compare=False)
    """Token -> (vocabulary row of its word feature or -1, rows of its known character 4-grams): looked up once."""

    def logits(self, features: list[str], vector: np.ndarray | None = None) -> np.ndarray:
        vocabulary = self.vocabulary
        return self._logits([vocabulary[f] for f in features if f in vocabulary], vector)

    def _logits(self, index: list[int], vector: np.ndarray | None) -> np.ndarray:
        """`logits` of the vocabulary rows of a message's features."""
        logits = self.bias + self.weights[index].sum(axis=0) if index else self.bias.copy()
        if self.dense is not None and vector is not None:
            dense = (vector * self.dense_scale) @ self.dense
            if self.dense_clip:  # np.clip's values, without its wrapper's cost
                np.minimum(np.maximum(dense, -self.dense_clip, out=dense), self.dense_clip, out=dense)
            logits += dense
        return logits

    def rows(self, reading: MessageReading) -> list[int]:
        """The vocabulary rows of `message_features(reading)` that the model knows, in the same order (so `logits`
        adds the same floats in the same order), with each distinct token's word and 4-grams looked up once."""
        vocabulary = self.vocabulary
        known = self._token_rows
        tokens = reading.tokens
        rows: list[int] = []
        grams: list[int] = []
        for token in tokens:
            entry = known.get(token)
            if entry is None:
                long = len(token) >= 5 and " " not in token
                entry = (vocabulary.get("w:" + token, -1),
                         tuple(row for i in range(len(token) - 3) if long and (row := vocabulary.get("c:" + token[i : i + 4]))
                               is not None))
                if len(known) < 200_000:
                    known[token] = entry
            if entry[0] >= 0:
                rows.append(entry[0])
            grams += entry[1]
        for first, second in pairwise(tokens):
            row = vocabulary.get("b:" + first + "_" + second)
            if row is not None:
                rows.append(row)
        rows += grams
        for tactic in reading.rule_hits:
            row = vocabulary.get("r:" + tactic)
            if row is not None:
                rows += (row,) * RULE_WEIGHT
        if reading.reported and (row := vocabulary.get("r:reported")) is not None:
            rows += (row,) * RULE_WEIGHT
        if reading.question and (row := vocabulary.get("q")) is not None:
            rows.append(row)
        return rows

    def vector(self, reading: MessageReading) -> np.ndarray | None:
        """The message's meaning vector (computed once per reading)."""
        if self.dense is None or self.embeddings is None:
            return None
        vector: np.ndarray | None = reading.vector
        if vector is None:
            vector = reading.vector = self.embeddings.embed_tokens(reading.tokens)
        return vector

    def probabilities(self, reading: MessageReading) -> np.ndarray:
        """For each tactic (in TACTICS order), the probability that the words of the message express it; the
        reading's `disclosure` is set to the disclosure head's probability."""
        # 1 / (1 + exp(-logits)), step by step in the logits' own array (the same operations, no temporaries)
        all_probs = self._logits(self.rows(reading), self.vector(reading))
        np.negative(all_probs, out=all_probs)
        np.exp(all_probs, out=all_probs)
        all_probs += 1.0
        np.divide(1.0, all_probs, out=all_probs)
        probs: np.ndarray = all_probs[:DISCLOSURE]
        reading.disclosure = float(all_probs[DISCLOSURE]) if len(all_probs) > DISCLOSURE else 0.0
        if self.rule_floor and reading.rule_hits:
            for tactic in reading.rule_hits:
                index = TACTIC_INDEX[tactic]
                probs[index] = max(probs[index], self.rule_floor)
        return probs

    def top_features(self, reading: MessageReading, tactic_index: int, limit: int = 3) -> list[tuple[str, float]]:
        """The features of a message that push most towards one tactic, strongest first."""
        vocabulary = self.vocabulary
        known = [(feature, row) for feature in set(message_features(reading)) if (row := vocabulary.get(feature)) is not None]
        features = [feature for feature, _ in known]
        weights = self.weights[[row for _, row in known], tactic_index].tolist()
        scored = [(feature, weight) for feature, weight in zip(features, weights, strict=True) if weight > 0]
        scored.sort(key=lambda item: (-item[1], item[0]))  # ties by name: the same evidence in every process
        return scored[:limit]

    def to_json(self) -> dict[str, Any]:
        names = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        keep = [i for i in range(len(names)) if np.abs(self.weights[i]).max() >= 0.01]
        return {
            "vocabulary": [names[i] for i in keep],
            "weights": [[round(float(w), 3) for w in self.weights[i]] for i in keep],
            "bias": [round(float(b), 4) for b in self.bias],
            "rule_floor": self.rule_floor,
            "dense": None if self.dense is None else [[round(float(w), 4) for w in row] for row in self.dense],
            "dense_scale": self.dense_scale,
            "dense_clip": self.dense_clip,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], embeddings: Any = None) -> TacticModel:
        vocabulary = {name: i for i, name in enumerate(data["vocabulary"])}
        weights = np.asarray(data["weights"], dtype=np.float64).reshape(len(vocabulary), len(HEADS))
        dense = np.asarray(data["dense"], dtype=np.float64) if data.get("dense") is not None else None
        return cls(vocabulary, weights, np.asarray(data["bias"], dtype=np.float64), float(data.get("rule_floor", 0.0)),
                   dense, float(data.get("dense_scale", 1.0)), float(data.get("dense_clip", 0.0)),
                   embeddings if dense is not None else None)


@dataclass
class RiskModel:
    """A logistic regression over the standardised state of one author (see `analyzer.AUTHOR_FEATURES`)."""

    feature_names: list[str]
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray

    def risk(self, vector: np.ndarray) -> float:
        z = float(((vector - self.mean) / self.scale) @ self.weights) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def explain(self, vector: np.ndarray, limit: int = 5) -> list[tuple[str, float]]:
        """The features present that raise this author's risk most, with their contribution to the log-odds
        relative to the feature being absent (zero)."""
        contributions = (vector / self.scale) * self.weights
        order = np.argsort(-contributions)[:limit]
        return [(self.feature_names[i], round(float(contributions[i]), 3)) for i in order if contributions[i] > 0]

    def to_json(self) -> dict[str, Any]:
        return {
            "features": self.feature_names,
            "weights": [round(float(w), 4) for w in self.weights],
            "bias": round(float(self.bias), 4),
            "mean": [round(float(m), 5) for m in self.mean],
            "scale": [round(float(s), 5) for s in self.scale],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RiskModel:
        return cls(
            list(data["features"]),
            np.asarray(data["weights"], dtype=np.float64),
            float(data["bias"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
        )


@dataclass
class DetectorModel:
    """Everything the analyzer needs for one language: the two models, thresholds, and how it was trained."""

    language: str
    tactic_model: TacticModel
    risk_model: RiskModel | None
    tactic_threshold: float = 0.5
    """A message shows a tactic when the tactic model gives at least this."""
    finding_risk: float = 0.4
    """Tactics are reported only for authors whose risk reached at least this."""
    training: dict[str, Any] = field(default_factory=dict)
    disclosure_threshold: float = 0.5
    """A message discloses when the disclosure head gives at least this."""
    disclosure_messages: int = 2
    """A participant is a discloser after this many disclosing messages."""
    tactic_thresholds: list[float] | None = None
    """Per tactic (TACTICS order), the probability at which a message shows it; None: `tactic_threshold` for all."""

    def thresholds(self) -> np.ndarray:
        """The per-tactic thresholds in TACTICS order."""
        if self.tactic_thresholds is not None:
            return np.asarray(self.tactic_thresholds, dtype=np.float64)
        return np.full(len(TACTICS), self.tactic_threshold)

    def save(self, path: Path) -> None:
        """Write the model as gzip-compressed JSON (deterministic bytes for the same model)."""
        data = {
            "version": MODEL_VERSION,
            "language": self.language,
            "tactics": list(TACTICS),
            "tactic_threshold": self.tactic_threshold,
            "finding_risk": self.finding_risk,
            "disclosure_threshold": self.disclosure_threshold,
            "disclosure_messages": self.disclosure_messages,
            "heads": list(HEADS),
            "tactic_thresholds": self.tactic_thresholds,
            "tactic_model": self.tactic_model.to_json(),
            "risk_model": self.risk_model.to_json() if self.risk_model else None,
            "training": self.training,
        }
        raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle, gzip.GzipFile(fileobj=handle, mode="wb", mtime=0, filename="") as zipped:
            zipped.write(raw)

    @classmethod
    def load(cls, path: Path) -> DetectorModel:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
        if (data.get("version") != MODEL_VERSION or data.get("tactics") != list(TACTICS)
                or data.get("heads") != list(HEADS)):
            raise ValueError(f"{path}: model version or tactic list does not match this code; retrain it")
        embeddings = None
        if data["tactic_model"].get("dense") is not None:
            from tipline.enticement.embeddings import default_embeddings

            embeddings = default_embeddings(data["language"])
        return cls(
            data["language"],
            TacticModel.from_json(data["tactic_model"], embeddings),
            RiskModel.from_json(data["risk_model"]) if data.get("risk_model") else None,
            float(data["tactic_threshold"]),
            float(data["finding_risk"]),
            data.get("training", {}),
            float(data.get("disclosure_threshold", 0.5)),
            int(data.get("disclosure_messages", 2)),
            data.get("tactic_thresholds"),
        )


def model_path(language: str) -> Path:
    """Where the shipped model of a language lives inside the package."""
    return MODEL_DIR / f"{language}.json.gz"


@cache
def default_model(language: str = "en") -> DetectorModel:
    """The shipped model of a language, loaded once per process."""
    path = model_path(language)
    if not path.exists():
        raise FileNotFoundError(f"no trained enticement model for {language!r} at {path}; run the training command")
    return DetectorModel.load(path)
