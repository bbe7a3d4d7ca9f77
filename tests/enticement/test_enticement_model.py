"""The shipped model: small, loads offline, and the training command rebuilds a working model from the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tipline.enticement import analyze, parse_conversations
from tipline.enticement.languages import LANGUAGES, get_language
from tipline.enticement.model import DetectorModel, default_model, model_path
from tipline.enticement.training import main as train_main

CORPUS = Path(__file__).resolve().parents[2] / "data" / "enticement"


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
    small = tmp_path / "corpus"
    small.mkdir()
    for split, count in (("train", 120), ("dev", 30)):
        lines = (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()[:count]
        (small / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
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

    small = tmp_path / "corpus"
    small.mkdir()
    for split, count in (("train", 60), ("dev", 12)):
        lines = (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()[:count]
        (small / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
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

    small = tmp_path / "corpus"
    (small / "writers").mkdir(parents=True)
    for split, count in (("train", 60), ("dev", 20)):
        lines = (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()[:count]
        (small / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
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
