"""The evaluation measures on small cases whose expected values are computed by hand in the test."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tipline.enticement.evaluation import (
    ConversationOutcome,
    escalation_opens,
    evaluate,
    evaluate_outcomes,
    f_beta,
    first_escalation,
    latency_weighted_f1,
    load_dataset,
    macro_f1,
    median,
    one_sided,
    penalty_parameter,
    roc_auc,
    speed_penalty,
    tactic_scores,
    warning_latency,
)


def test_tactic_scores_and_macro_f1_by_hand() -> None:
    gold = [{"secrecy"}, {"secrecy", "incentive"}, set(), {"incentive"}]
    predicted = [{"secrecy"}, {"incentive"}, {"secrecy"}, set()]
    scores = tactic_scores(gold, predicted, tactics=("secrecy", "incentive", "rapport"))
    # secrecy: predicted in messages 1 and 3, gold in 1 and 2 -> tp 1, precision 1/2, recall 1/2, F1 1/2
    assert scores["secrecy"]["precision"] == 0.5 and scores["secrecy"]["recall"] == 0.5
    assert scores["secrecy"]["f1"] == 0.5
    # incentive: predicted in message 2, gold in 2 and 4 -> precision 1, recall 1/2, F1 = 2*1*0.5/1.5 = 2/3
    assert scores["incentive"]["precision"] == 1.0 and scores["incentive"]["recall"] == 0.5
    assert scores["incentive"]["f1"] == pytest.approx(2 / 3)
    assert scores["incentive"]["support"] == 2 and scores["incentive"]["predicted"] == 1
    # rapport never occurs: left out of the macro average -> (1/2 + 2/3) / 2 = 7/12
    assert macro_f1(scores) == pytest.approx(7 / 12)


def test_f_beta_by_hand() -> None:
    # P = 0.5, R = 1: F1 = 2/3; F0.5 = 1.25*0.5/(0.25*0.5 + 1) = 0.625/1.125 = 5/9; F3 = 10*0.5/(9*0.5 + 1) = 5/5.5
    assert f_beta(0.5, 1.0) == pytest.approx(2 / 3)
    assert f_beta(0.5, 1.0, 0.5) == pytest.approx(5 / 9)
    assert f_beta(0.5, 1.0, 3) == pytest.approx(10 / 11)
    assert f_beta(0.0, 0.0) == 0.0


def test_roc_auc_by_hand() -> None:
    # positives 0.9, 0.4; negatives 0.5, 0.1: pairs won 0.9>0.5, 0.9>0.1, 0.4>0.1, lost 0.4<0.5 -> 3/4
    assert roc_auc([True, True, False, False], [0.9, 0.4, 0.5, 0.1]) == 0.75
    # a tie counts half
    assert roc_auc([True, False], [0.5, 0.5]) == 0.5
    # positives 0.8, 0.3 vs negatives 0.3, 0.2, 0.1: 0.8 wins 3; 0.3 ties 1 (0.5) and wins 2 -> 5.5/6
    assert roc_auc([True, True, False, False, False], [0.8, 0.3, 0.3, 0.2, 0.1]) == pytest.approx(5.5 / 6)
    assert math.isnan(roc_auc([True, True], [0.1, 0.2]))


def test_median_by_hand() -> None:
    assert median([5, 1, 3]) == 3
    assert median([4, 1, 3, 2]) == 2.5
    assert median([]) is None


def test_warning_latency_with_skepticism_and_window() -> None:
    predictions = [False, False, True, False, True, True]
    assert warning_latency(predictions, skepticism=1) == 3
    assert warning_latency(predictions, skepticism=2) == 5
    assert warning_latency(predictions, skepticism=3) == 6
    # the first positive has left the window of 10 when the second arrives (messages 3..12 hold one positive)
    assert warning_latency([True] + [False] * 10 + [True], skepticism=2) is None
    assert warning_latency([False] * 5) is None


def test_speed_penalty_by_hand() -> None:
    # penalty 0.5 at the median length m: 2/(1+e^(-p(m-1))) = 1.5 -> e^(-p(m-1)) = 1/3 -> p = ln 3 / (m-1)
    p = penalty_parameter(5)
    assert p == pytest.approx(math.log(3) / 4)
    assert speed_penalty(1, p) == 0.0
    assert speed_penalty(5, p) == pytest.approx(0.5)
    # k = 9: -1 + 2/(1 + e^(-2 ln 3)) = -1 + 2/(1 + 1/9) = -1 + 18/10 = 0.8
    assert speed_penalty(9, p) == pytest.approx(0.8)
    with pytest.raises(ValueError):
        penalty_parameter(1)


def test_latency_weighted_f1_by_hand() -> None:
    # three positives (lengths 5, 5, 9 -> median 5, p = ln3/4) and one negative.
    # warnings: positive 1 at k=1, positive 2 at k=5, positive 3 never, the negative at k=3.
    # tp 2, predicted 3, actual 3 -> P = R = F1 = 2/3; penalties 0 and 0.5 -> median 0.25 -> speed 0.75
    figures = latency_weighted_f1([True, True, True, False], [1, 5, None, 3], [5, 5, 9])
    assert figures["f1"] == pytest.approx(2 / 3)
    assert figures["speed"] == pytest.approx(0.75)
    assert figures["latency_weighted_f1"] == pytest.approx(0.5)
    assert figures["median_positive_length"] == 5


def _write_dataset(path: Path, data_dir: Path) -> Path:
    grooming = json.loads((data_dir / "grooming.json").read_text())
    gold = {"m3": ["age_probe"], "m6": ["risk_check"], "m8": ["secrecy"], "m10": ["platform_move"],
            "m11": ["image_request"], "m13": ["incentive"], "m14": ["meeting_request"], "m1": ["rapport"], "m5": ["rapport"]}
    for message in grooming["messages"]:
        message["tactics"] = gold.get(message["id"], [])
    grooming["label"] = {"enticement": True, "kind": "enticement", "suspect": "nightowl_77", "family": "fixture"}
    coach = {"id": "coach-1", "participants": [], "label": {"enticement": False, "kind": "hard_negative",
                                                             "negative_type": "coach", "family": "fixture-coach"},
             "messages": [
                 {"id": "1", "author": "coach", "text": "Hi Sam, it's Coach Lee. Is your mom home? I want to drop off your jersey", "tactics": []},
                 {"id": "2", "author": "sam", "text": "yes she is", "tactics": []},
                 {"id": "3", "author": "coach", "text": "Great, practice moved to Thursday, tell your parents", "tactics": []}]}
    path.write_text(json.dumps(grooming) + "\n" + json.dumps(coach) + "\n")
    return path


def test_load_dataset_and_evaluate_end_to_end(tmp_path: Path, data_dir: Path) -> None:
    dataset = load_dataset(_write_dataset(tmp_path / "tiny.jsonl", data_dir))
    assert [d.enticement for d in dataset] == [True, False]
    assert dataset[0].gold["m8"] == {"secrecy"} and dataset[1].hard_negative
    figures = evaluate(dataset).figures
    assert figures["conversations"] == 2 and figures["messages"] == 17
    assert figures["roc_auc"] == 1.0
    assert figures["alert_recall"] == 1.0 and figures["alert_precision"] == 1.0
    assert figures["hard_negative_alert_rate"] == 0.0
    assert figures["per_tactic"]["secrecy"]["recall"] == 1.0
    assert 0 < figures["macro_f1"] <= 1
    assert 1 <= figures["median_messages_to_first_correct_alert"] <= 14
    assert json.dumps(figures)


def test_dataset_with_unknown_tactic_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "x", "label": {"enticement": True},
                                "messages": [{"id": "1", "author": "a", "text": "hi", "tactics": ["flirting"]}]}) + "\n")
    with pytest.raises(ValueError, match="unknown tactics"):
        load_dataset(path)


def test_one_sided_keeps_the_suspect_or_the_most_tactic_like_participant(tmp_path: Path, data_dir: Path) -> None:
    dataset = load_dataset(_write_dataset(tmp_path / "tiny.jsonl", data_dir))
    grooming = one_sided(dataset[0])
    assert {m.author for m in grooming.conversation.messages} == {"nightowl_77"}
    assert [p.id for p in grooming.conversation.participants] == ["nightowl_77"]
    # every gold tactic was on the suspect's messages, so all of them survive
    assert sum(len(t) for t in grooming.gold.values()) == sum(len(t) for t in dataset[0].gold.values())
    # the coach's fixture has no signals: a tie, so the participant who wrote first (the coach) is kept
    coach = one_sided(dataset[1])
    assert [m.id for m in coach.conversation.messages] == ["1", "3"]


def test_one_sided_negative_keeps_the_participant_with_most_signals(tmp_path: Path) -> None:
    path = tmp_path / "neg.jsonl"
    path.write_text(json.dumps({"id": "peer", "label": {"enticement": False, "kind": "hard_negative"}, "messages": [
        {"id": "1", "author": "ana", "text": "hey", "tactics": [], "signals": []},
        {"id": "2", "author": "ben", "text": "how old r u", "tactics": [], "signals": ["age_probe"]},
        {"id": "3", "author": "ana", "text": "14 u?", "tactics": [], "signals": []},
        {"id": "4", "author": "ben", "text": "send a selfie", "tactics": [], "signals": ["image_request"]}]}) + "\n")
    item = one_sided(load_dataset(path)[0])
    assert [m.id for m in item.conversation.messages] == ["2", "4"]


def test_alerted_before_escalation_by_hand(tmp_path: Path, data_dir: Path) -> None:
    dataset = load_dataset(_write_dataset(tmp_path / "tiny.jsonl", data_dir))
    # the fixture's first image request is message m11, the 11th message
    assert first_escalation(dataset[0]) == 11
    assert first_escalation(dataset[1]) is None
    figures = evaluate(dataset).figures
    first_alert = figures["median_messages_to_first_correct_alert"]  # one positive: its own first alert
    assert figures["escalating_conversations"] == 1
    assert figures["alerted_before_escalation"] == (1.0 if first_alert < 11 else 0.0)
    assert figures["alerts_by_kind"] == {"enticement": {"conversations": 1, "alerts": 1},
                                         "hard_negative": {"conversations": 1, "alerts": 0}}
    assert figures["negative_alert_rate"] == 0.0


def test_an_escalation_that_opens_the_suspects_side_cannot_be_alerted_early(tmp_path: Path) -> None:
    """The early-alert figure "where possible" leaves out conversations whose suspect opens with the escalation."""
    path = tmp_path / "two.jsonl"
    label = {"enticement": True, "kind": "sextortion", "suspect": "x"}
    opens = {"id": "opens", "label": label, "messages": [
        {"id": "1", "author": "kid", "text": "who is this", "tactics": [], "signals": []},
        {"id": "2", "author": "x", "text": "pay 200 or your pictures go to your school", "tactics": ["sextortion_threat"],
         "signals": ["sextortion_threat"]}]}
    later = {"id": "later", "label": label, "messages": [
        {"id": "1", "author": "x", "text": "hey how old r u", "tactics": ["age_probe"], "signals": ["age_probe"]},
        {"id": "2", "author": "kid", "text": "13", "tactics": [], "signals": []},
        {"id": "3", "author": "x", "text": "send me a picture of yourself", "tactics": ["image_request"],
         "signals": ["image_request"]}]}
    path.write_text(json.dumps(opens) + "\n" + json.dumps(later) + "\n")
    first, second = load_dataset(path)
    assert escalation_opens(first, first_escalation(first) or 0)
    assert not escalation_opens(second, first_escalation(second) or 0)
    # the detector's outcomes set by hand: the second conversation alerted at its 2nd message, before the request
    outcomes = [ConversationOutcome(first, 0.9, "critical", "x", {}, [False, True], 2),
                ConversationOutcome(second, 0.7, "high", "x", {}, [False, True, True], 2)]
    figures = evaluate_outcomes(outcomes).figures
    assert figures["escalating_conversations"] == 2
    assert figures["alerted_before_escalation"] == 0.5
    assert figures["escalations_after_the_suspects_first_message"] == 1
    assert figures["alerted_before_escalation_where_possible"] == 1.0


def test_long_conversations_alerted_within_60_messages(tmp_path: Path) -> None:
    """Issue 10's transcript measure: of the enticement conversations of 60 messages or more, those alerted by the 60th."""
    path = tmp_path / "long.jsonl"
    rows = []
    for name, length in (("a", 80), ("b", 70), ("c", 10)):
        rows.append(json.dumps({"id": name, "label": {"enticement": True, "kind": "enticement", "suspect": "x"},
                                "messages": [{"id": str(i), "author": "x", "text": "hey", "tactics": [], "signals": []}
                                             for i in range(1, length + 1)]}))
    path.write_text("\n".join(rows) + "\n")
    a, b, c = load_dataset(path)
    outcomes = [ConversationOutcome(a, 0.9, "high", "x", {}, [], 60),  # alerted at the 60th: within
                ConversationOutcome(b, 0.9, "high", "x", {}, [], 61),  # alerted at the 61st: too late
                ConversationOutcome(c, 0.9, "high", "x", {}, [], 5)]   # short: not counted
    figures = evaluate_outcomes(outcomes).figures
    assert figures["long_enticement_conversations"] == 2
    assert figures["long_alerted_within_60"] == 0.5
