"""The `enticement` click group: analyze (readable and --json), evaluate (dataset and PAN 2012), help."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tipline.cli.enticement import enticement_group

FIELDS = {"conversation_id", "risk", "level", "suspected_author", "first_alert_message", "tactics",
          "suggested_incident_type", "suggested_annotations", "disclosure"}
CORPUS = Path(__file__).resolve().parents[2] / "data" / "enticement"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(enticement_group, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_analyze_json_one_line_per_conversation_in_order(data_dir: Path) -> None:
    code, out, _ = run("analyze", "--json", str(data_dir / "pan12_corpus.xml"), str(data_dir / "grooming.json"),
                       str(data_dir / "grooming_whatsapp_android.txt"))
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 5
    objects = [json.loads(line) for line in lines]
    assert [o["conversation_id"] for o in objects] == [
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "1b2c3d4e5f60718293a4b5c6d7e8f90a", "2c3d4e5f60718293a4b5c6d7e8f90a1b",
        "case-0001", "grooming_whatsapp_android.txt"]
    for obj in objects:
        assert set(obj) == FIELDS
        assert 0 <= obj["risk"] <= 1
        assert obj["level"] in ("none", "low", "medium", "high", "critical")
        for finding in obj["tactics"]:
            assert set(finding) == {"tactic", "message_id", "author", "score", "evidence"}
    assert objects[3]["suspected_author"] == "nightowl_77"
    assert objects[3]["suggested_incident_type"] == "Online Enticement of Children for Sexual Acts"
    assert objects[1]["level"] == "none" and objects[1]["first_alert_message"] is None


def test_analyze_readable_summary_and_forced_format(data_dir: Path) -> None:
    code, out, _ = run("analyze", "--format", "text", str(data_dir / "grooming_plain.txt"))
    assert code == 0
    assert "grooming_plain.txt:" in out and "suspected author nightowl_77" in out
    assert "secrecy" in out and "first alert at message" in out
    assert "suggested incident type: Online Enticement of Children for Sexual Acts" in out


def test_analyze_reports_a_broken_file_with_its_line_and_goes_on(tmp_path: Path, data_dir: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("time,author,text\n10:00,a,hi\n10:01,b\n")
    code, out, err = run("analyze", "--json", str(broken), str(data_dir / "grooming.json"))
    assert code == 1
    assert "broken.csv" in err and "line 3" in err
    assert len(out.splitlines()) == 1


def test_evaluate_dataset_json_and_text() -> None:
    code, out, _ = run("evaluate", "--json", str(CORPUS / "dev.jsonl"))
    assert code == 0
    figures = json.loads(out)
    for key in ("per_tactic", "macro_f1", "roc_auc", "alert_precision", "alert_recall", "hard_negative_alert_rate",
                "median_messages_to_first_correct_alert", "latency_weighted"):
        assert key in figures
    assert set(figures["per_tactic"]["secrecy"]) == {"precision", "recall", "f1", "support", "predicted"}
    code, out, _ = run("evaluate", str(CORPUS / "dev.jsonl"))
    assert code == 0 and "macro-F1" in out and "latency-weighted F1" in out and "ROC AUC" in out


def test_evaluate_one_sided_reads_one_participant_per_conversation() -> None:
    code, out, _ = run("evaluate", "--json", str(CORPUS / "dev.jsonl"))
    both = json.loads(out)
    code, out, _ = run("evaluate", "--json", "--one-sided", str(CORPUS / "dev.jsonl"))
    assert code == 0
    one = json.loads(out)
    assert one["one_sided"] is True and both["one_sided"] is False
    assert one["conversations"] == both["conversations"]
    assert 0 < one["messages"] < both["messages"]
    # the suspects' messages carry every gold tactic, so the tactic support is unchanged
    assert {t: s["support"] for t, s in one["per_tactic"].items()} == {t: s["support"] for t, s in both["per_tactic"].items()}


def test_evaluate_pan12(data_dir: Path) -> None:
    code, out, _ = run("evaluate", "--pan12", str(data_dir / "pan12_corpus.xml"), "--truth",
                       str(data_dir / "pan12_predators.txt"), "--truth-lines", str(data_dir / "pan12_lines.txt"))
    assert code == 0
    assert "problem 1 (predators): precision 1.000 recall 1.000 F0.5 1.000" in out
    assert "problem 2 (lines)" in out and "F3" in out
    code, out, _ = run("evaluate", "--json", "--pan12", str(data_dir / "pan12_corpus.xml"), "--truth",
                       str(data_dir / "pan12_predators.txt"))
    assert json.loads(out)["problem1"]["f0.5"] == 1.0
    code, _, err = run("evaluate", "--pan12", str(data_dir / "pan12_corpus.xml"))
    assert code != 0 and "--truth" in err


def test_help_texts() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "analyze" in out and "evaluate" in out
    code, out, _ = run("analyze", "--help")
    assert "--format" in out and "whatsapp" in out and "--json" in out
    code, out, _ = run("evaluate", "--help")
    assert "--pan12" in out and "--truth" in out
