"""The shipped model: small, loads offline, and the training command rebuilds a working model from the corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tipline.enticement import analyze, parse_conversations
from tipline.enticement.languages import LANGUAGES, get_language
from tipline.enticement.languages.base import _alternation, _named_alternation, _without_captures
from tipline.enticement.model import DetectorModel, default_model, message_features, model_path
from tipline.enticement.training import main as train_main

CORPUS = Path(__file__).resolve().parents[2] / "data" / "enticement"


def _small_corpus(folder: Path, train: int, dev: int) -> Path:
    """A corpus folder with the first `train` and `dev` conversations of the generator's splits."""
    folder.mkdir(parents=True)
    for split, count in (("train", train), ("dev", dev)):
        lines = (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()[:count]
        (folder / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_shipped_model_is_small_and_loads() -> None:
    path = model_path("en")
    assert path.exists() and path.stat().st_size < 1_000_000
    model = default_model("en")
    assert model.risk_model is not None and model.language == "en"
    assert model.training["train_conversations"] > 0


def test_language_interface() -> None:
    assert "en" in LANGUAGES
    reading = get_language("en").read("dont tell ur parents, im 13 btw")
    assert reading.normalised.startswith("don't tell your parents")
    assert "secrecy" in reading.rule_hits and reading.stated_age == 13
    assert reading.original_span(*reading.rule_hits["secrecy"], "dont tell ur parents, im 13 btw").startswith("dont tell ur")


def test_training_command_builds_a_working_model(tmp_path: Path, data_dir: Path) -> None:
    small = _small_corpus(tmp_path / "corpus", 120, 30)
    out = tmp_path / "model.json.gz"
    train_main(["--data", str(small), "--out", str(out), "--no-tune"])
    model = DetectorModel.load(out)
    (conversation,) = parse_conversations((data_dir / "grooming.json").read_bytes())
    result = analyze(conversation, model=model)
    assert result.suspected_author == "nightowl_77" and result.risk > 0.5


def test_retune_chooses_the_thresholds_again_without_fitting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Retuning a tuned model changes nothing; after a change of the unseen-writer margin alone it moves the risk
    model's bias by exactly that change and records the new margin, the fitted weights untouched."""
    from tipline.enticement import training

    small = _small_corpus(tmp_path / "corpus", 60, 12)
    trained = tmp_path / "trained.json.gz"
    train_main(["--data", str(small), "--out", str(trained)])
    again = tmp_path / "again.json.gz"
    train_main(["--data", str(small), "--retune", "--model", str(trained), "--out", str(again)])
    assert again.read_bytes() == trained.read_bytes()
    monkeypatch.setattr(training, "UNSEEN_WRITER_MARGIN", training.UNSEEN_WRITER_MARGIN - 0.5)
    moved = tmp_path / "moved.json.gz"
    train_main(["--data", str(small), "--retune", "--model", str(trained), "--out", str(moved)])
    before, after = DetectorModel.load(trained), DetectorModel.load(moved)
    assert before.risk_model is not None and after.risk_model is not None
    assert after.risk_model.bias == pytest.approx(before.risk_model.bias - 0.5)
    assert after.training["unseen_writer_margin"] == training.UNSEEN_WRITER_MARGIN
    assert (after.risk_model.weights == before.risk_model.weights).all()


def test_leave_one_writer_out_trains_without_each_writer_and_measures_on_all_of_it(tmp_path: Path) -> None:
    """Each fold is measured on all of the writer it left out, and the mean is over the writers."""
    from tipline.enticement.training import leave_one_writer_out

    small = _small_corpus(tmp_path / "corpus", 60, 20)
    (small / "writers").mkdir()
    for writer in ("c", "d"):
        lines = (CORPUS / "writers" / f"writer_{writer}.jsonl").read_text(encoding="utf-8").splitlines()[:25]
        (small / "writers" / f"writer_{writer}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = leave_one_writer_out(small, models_dir=tmp_path / "models", outcomes_dir=tmp_path / "outcomes")
    assert result["writers"] == ["c", "d"]
    assert [fold["conversations"] for fold in result["folds"]] == [25, 25]
    for fold in result["folds"]:
        assert 0.0 <= fold["two-sided"]["roc_auc"] <= 1.0 and 0.0 <= fold["one-sided"]["alert_recall"] <= 1.0
        assert (tmp_path / "models" / f"leave-out-{fold['writer']}.json.gz").exists()
    measured = {row["id"] for row in json.loads((tmp_path / "outcomes" / "c-two-sided.json").read_text())}
    writer_c = {json.loads(line)["id"] for line in (small / "writers" / "writer_c.jsonl").read_text().splitlines()}
    assert measured == writer_c
    assert result["mean"]["two-sided"]["roc_auc"] == round(
        (result["folds"][0]["two-sided"]["roc_auc"] + result["folds"][1]["two-sided"]["roc_auc"]) / 2, 4)


def test_tactic_model_sums_the_rows_of_exactly_the_message_features() -> None:
    """`TacticModel.rows` (a per-token cache, for speed) must give the rows of `message_features` in their order, so
    that the logits add the same floats in the same order; a feature added to one and not the other fails here."""
    model = default_model("en").tactic_model
    pack = get_language("en")
    texts = ["idk, don't tell ur mom!! send me a pic rn?", "he said \"send me a pic or else\" so i blocked him",
             "photographs photographs photographs", "how old r u", "", "ok", "$20 gift card for one more video"]
    texts += [json.loads(line)["messages"][0]["text"]
              for line in (CORPUS / "dev.jsonl").read_text(encoding="utf-8").splitlines()[:200]]
    for _ in range(2):  # the second pass reads every token from the cache
        for text in texts:
            reading = pack.read(text)
            assert model.rows(reading) == [model.vocabulary[f] for f in message_features(reading) if f in model.vocabulary]


def test_rule_alternation_matches_as_the_patterns_tried_in_turn() -> None:
    """The language pack writes a leading word boundary once for consecutive rules (for speed); the regex must match
    exactly what the rules tried in turn match, whatever a rule holds after its \\b."""
    patterns = [r"\bab|cd", r"\b[|(]x", r"\b(a|b)c\b", r"[$]\d+", r"\bx\b", r"(?<!no )\bgo\b", r"\b[]|]y", r"\b\(|z",
                r"\b(?:q|r)s", r"\bab\b", r"\b[](]w|v"]
    texts = ["cd", "xcd", "ab", "zab", "|x", "ac bc", "$5 x", "no go", "go", "]y", "(", "z", "rs qs", "yab ab", "av", "(w"]
    plain = re.compile("|".join(f"(?:{p})" for p in patterns))
    hoisted = re.compile(_alternation(patterns))
    for text in texts:
        assert [m.span() for m in hoisted.finditer(text)] == [m.span() for m in plain.finditer(text)], text
    assert _without_captures(r"(a)(?:b)(?P<n>c)\(d\)[(](?<!x)[]()](e|f)") == r"(?:a)(?:b)(?P<n>c)\(d\)[(](?<!x)[]()](?:e|f)"
    named = re.compile(_named_alternation({"one": [r"\bab", r"\bcd\b"], "two": [r"\bc", r"[$]\d"], "three": [r"\bd"]}))
    spelled = re.compile(r"(?P<one>(?:\bab)|(?:\bcd\b))|(?P<two>(?:\bc)|(?:[$]\d))|(?P<three>(?:\bd))")
    for text in ("ab cd c $1 d", "cde", "abcd", "d$2"):
        assert [(m.span(), m.lastgroup) for m in named.finditer(text)] == [(m.span(), m.lastgroup) for m in spelled.finditer(text)]


def test_rule_spans_from_the_first_hit_are_all_the_rule_spans() -> None:
    """Evidence searches a tactic's rules from where its first match starts (`rule_hits`): no rule of the tactic may
    match before it, or evidence would lose words."""
    pack = get_language("en")
    texts = [message["text"] for line in (CORPUS / "dev.jsonl").read_text(encoding="utf-8").splitlines()[:300]
             for message in json.loads(line)["messages"]]
    hits = 0
    for text in texts + ["ok so you have 2 hours. or i post it, $50 or else", "$18/hr, 3 hours left 2"]:
        reading = pack.read(text)
        for tactic, (start, _) in reading.rule_hits.items():
            hits += 1
            assert pack.rule_spans(tactic, reading.normalised, start) == pack.rule_spans(tactic, reading.normalised)
    assert hits > 100


def test_rules_read_an_ascii_message_as_they_read_any() -> None:
    """The rules run in re's ASCII mode on an ASCII message (for speed): the same matches as Unicode mode there, and a
    message with non-ASCII letters still has Unicode word boundaries ("ésend" is one word, not "send")."""
    pack = get_language("en")
    assert "image_request" in pack.read("send me a pic").rule_hits
    assert "image_request" not in pack.read("ésend me a pic").rule_hits
    assert pack.read("ésend me a pic").tokens == ["ésend", "me", "a", "picture"]
    texts = [message["text"] for line in (CORPUS / "dev.jsonl").read_text(encoding="utf-8").splitlines()[:300]
             for message in json.loads(line)["messages"]]
    for text in texts:
        normalised = pack.read(text).normalised
        for unicode_rules, ascii_rules in ((pack._rules.tactic_res.values(), pack._ascii_rules.tactic_res.values()),
                                           (pack._rules.cue_res, pack._ascii_rules.cue_res)):
            for plain, fast in zip(unicode_rules, ascii_rules, strict=True):
                assert [(m.span(), m.lastgroup) for m in fast.finditer(normalised)] == \
                       [(m.span(), m.lastgroup) for m in plain.finditer(normalised)]


def test_top_features_of_equal_weight_come_in_the_same_order_in_every_process() -> None:
    """Evidence must not depend on the process's string hash: features of equal weight are ranked by name."""
    from tipline.enticement.model import TacticModel

    reading = get_language("en").read("zebra apple mango send")
    features = list(dict.fromkeys(message_features(reading)))
    vocabulary = {feature: row for row, feature in enumerate(reversed(features))}
    weights = np.ones((len(vocabulary), 1))  # every feature pushes the one head equally
    model = TacticModel(vocabulary, weights, np.zeros(1))
    assert model.top_features(reading, 0, limit=len(features)) == [(f, 1.0) for f in sorted(features)]
