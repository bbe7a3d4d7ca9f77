"""PAN 2012: the loaders and the official problem-1 (F0.5) and problem-2 (F3) scorers on synthetic PAN files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tipline.enticement.formats import iter_pan12
from tipline.enticement.pan12 import (
    evaluate_pan12,
    load_predator_ids,
    load_predator_lines,
    predict_pan12,
    score_problem1,
    score_problem2,
)

PREDATOR = "7f3e2d1c0b9a8f7e6d5c4b3a29181716"
CONVERSATION = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def test_ground_truth_loaders(data_dir: Path) -> None:
    assert load_predator_ids(data_dir / "pan12_predators.txt") == {PREDATOR}
    assert load_predator_lines(data_dir / "pan12_lines.txt") == {(CONVERSATION, n) for n in ("4", "6", "7", "9")}


def test_bad_problem2_truth_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_text("abc\t1\nabc 2 3\n")
    with pytest.raises(ValueError, match="line 2"):
        load_predator_lines(path)


def test_problem1_scorer_by_hand() -> None:
    # predicted {a, b}, truth {a, c}: P = 1/2, R = 1/2, F0.5 = 1/2
    scores = score_problem1({"a", "b"}, {"a", "c"})
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5 and scores["f0.5"] == pytest.approx(0.5)
    # predicted {a}, truth {a, c, d, e}: P = 1, R = 1/4, F0.5 = 1.25*0.25/(0.25 + 0.25) = 0.625
    assert score_problem1({"a"}, {"a", "c", "d", "e"})["f0.5"] == pytest.approx(0.625)
    assert score_problem1(set(), {"a"})["f0.5"] == 0.0


def test_problem2_scorer_by_hand() -> None:
    truth = {("c1", "1"), ("c1", "2"), ("c2", "5")}
    # predicted 4 lines, 2 right: P = 1/2, R = 2/3, F3 = 10*(1/2)(2/3) / (9/2 + 2/3) = (10/3) / (31/6) = 20/31
    predicted = {("c1", "1"), ("c2", "5"), ("c1", "9"), ("c3", "1")}
    scores = score_problem2(predicted, truth)
    assert scores["precision"] == 0.5 and scores["recall"] == pytest.approx(2 / 3)
    assert scores["f3"] == pytest.approx(20 / 31)


def test_detector_on_the_synthetic_corpus(data_dir: Path) -> None:
    predictions = predict_pan12(iter_pan12(data_dir / "pan12_corpus.xml"))
    assert predictions.conversations == 3
    assert predictions.predators == {PREDATOR}
    truth_lines = load_predator_lines(data_dir / "pan12_lines.txt")
    assert truth_lines <= predictions.lines  # every line of the predator's tactics is found
    figures = evaluate_pan12(data_dir / "pan12_corpus.xml", data_dir / "pan12_predators.txt", data_dir / "pan12_lines.txt")
    assert figures["problem1"]["f0.5"] == 1.0
    assert figures["problem2"]["recall"] == 1.0
    assert figures["problem2"] == score_problem2(predictions.lines, truth_lines)
