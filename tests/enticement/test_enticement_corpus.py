"""The labelled corpus: size, hard negatives, splits by template family, reproducible generation, content rules."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tipline.enticement import TACTICS

CORPUS = Path(__file__).resolve().parents[2] / "data" / "enticement"
SPLITS = ("train", "dev", "test")


def load(split: str) -> list[dict]:
    return [json.loads(line) for line in (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]


def test_size_hard_negatives_and_labels() -> None:
    everything = [c for split in SPLITS for c in load(split)]
    assert len(everything) >= 400
    kinds = Counter(c["label"]["kind"] for c in everything)
    assert kinds["hard_negative"] / len(everything) >= 0.40
    for conversation in everything:
        assert conversation["label"]["enticement"] == (conversation["label"]["kind"] in ("enticement", "sextortion"))
        for message in conversation["messages"]:
            assert set(message["tactics"]) <= set(TACTICS)
            if not conversation["label"]["enticement"]:
                assert message["tactics"] == []
            elif message["tactics"]:
                assert message["author"] == conversation["label"]["suspect"]


def test_splits_share_no_template_family_and_cover_every_tactic() -> None:
    families = {split: {c["label"]["family"] for c in load(split)} for split in SPLITS}
    assert not families["train"] & families["test"]
    assert not families["train"] & families["dev"]
    assert not families["dev"] & families["test"]
    test_tactics = {t for c in load("test") for m in c["messages"] for t in m["tactics"]}
    train_tactics = {t for c in load("train") for m in c["messages"] for t in m["tactics"]}
    assert test_tactics == set(TACTICS) and train_tactics == set(TACTICS)


def test_varied_styles_and_platforms_and_small_on_disk() -> None:
    everything = [c for split in SPLITS for c in load(split)]
    assert {"teen", "typo", "emoji", "nonnative", "plain"} <= {c["label"]["style"] for c in everything}
    assert len({c["platform"] for c in everything}) >= 10
    lengths = [len(c["messages"]) for c in everything]
    assert min(lengths) <= 5 and max(lengths) >= 30
    assert sum((CORPUS / f"{s}.jsonl").stat().st_size for s in SPLITS) < 5_000_000


def test_generator_reproduces_the_committed_corpus(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(CORPUS / "generate.py"), "--out", str(tmp_path)], check=True, capture_output=True)
    for split in SPLITS:
        assert (tmp_path / f"{split}.jsonl").read_bytes() == (CORPUS / f"{split}.jsonl").read_bytes()


def test_held_out_test_split_reproduces_the_reported_figures() -> None:
    """docs/enticement.md reports these figures for `tipline enticement evaluate data/enticement/test.jsonl`."""
    from tipline.enticement.evaluation import evaluate, load_dataset

    figures = evaluate(load_dataset(CORPUS / "test.jsonl")).figures
    assert figures["conversations"] == 270 and figures["hard_negative_conversations"] == 154
    assert round(figures["macro_f1"], 3) == 0.776
    assert round(figures["roc_auc"], 3) == 0.958
    assert round(figures["hard_negative_alert_rate"], 3) == 0.104
    assert round(figures["alert_precision"], 3) == 0.855 and round(figures["alert_recall"], 3) == 0.904
    assert figures["median_messages_to_first_correct_alert"] == 5
