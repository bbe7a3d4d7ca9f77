"""A report's free text is read for what makes it urgent, in a parent's or provider's own words."""

from __future__ import annotations

from tipline.enticement.free_text import read_text


def found(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for finding in read_text("publicReport.description", text):
        out.setdefault(finding.kind, []).append(finding.value)
    return out


def test_a_parents_account_of_sextortion_yields_threat_deadline_demand_and_age() -> None:
    text = ("My daughter is 14. A man on Instagram says he will send her photo to everyone at her school "
            "unless she pays $500 in gift cards by Friday 6pm. She is terrified.")
    kinds = found(text)
    assert kinds["child_age"] == ["14"]
    assert "sextortion_threat" in kinds
    assert kinds["deadline"] == ["by Friday 6pm"]
    assert kinds["money_demand"] == ["$500"]


def test_each_finding_quotes_its_sentence() -> None:
    text = "We are scared.\nSomeone demanded $300 on Cash App to $quickpay_77 and said he has 2 hours."
    findings = read_text("additionalInfo", text)
    demand = next(f for f in findings if f.kind == "money_demand")
    assert demand.quote == "Someone demanded $300 on Cash App to $quickpay_77 and said he has 2 hours."
    assert demand.path == "additionalInfo"
    assert next(f for f in findings if f.kind == "deadline").value == "he has 2 hours"


def test_a_meeting_told_in_the_third_person() -> None:
    assert "meeting_request" in found("A man keeps asking my niece to meet him at the mall on Saturday.")


def test_childrens_ages_in_the_ways_people_write_them() -> None:
    assert found("Someone messaged my 13-year-old son.")["child_age"] == ["13"]
    assert found("My son, age 12, plays Roblox.")["child_age"] == ["12"]
    assert found("my son Jake is 11 and plays online")["child_age"] == ["11"]
    assert found("I'm 15 and a guy won't stop messaging me")["child_age"] == ["15"]
    # adults' ages and other numbers are not children's ages
    assert "child_age" not in found("I'm 45 and worried about my son.")
    assert "child_age" not in found("My daughter is at school until 3 pm.")


def test_ordinary_words_are_not_urgent() -> None:
    kinds = found("My son bought a gift card for his friend's birthday. We met the coach at the game on Friday.")
    assert not set(kinds) & {"money_demand", "deadline", "meeting_request", "sextortion_threat"}
