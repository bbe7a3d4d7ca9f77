"""Ages as a worried parent types them: the range tipline understands and the words it keeps."""

from __future__ import annotations

import pytest

from tipline.domain.ages import AgeGuess, AgeProblem, parse_age_guess


@pytest.mark.parametrize(("typed", "low", "high"), [
    ("14", 14, 14),
    ("about 14", 14, 14),
    ("14ish", 14, 14),
    ("fourteen-ish", 14, 14),
    ("~14", 14, 14),
    ("14 years old", 14, 14),
    ("13 or 14", 13, 14),
    ("13-14", 13, 14),
    ("between 13 and 14", 13, 14),
    ("maybe 20s", 20, 29),
    ("in his 30s", 30, 39),
    ("early 30s", 30, 33),
    ("mid-forties", 43, 46),
    ("late teens", 16, 19),
    ("teen", 13, 19),
    ("a teenager", 13, 19),
    ("over 40", 40, 60),
    ("under 10", 0, 9),
    ("around twenty five", 25, 25),
    ("unos 14", 14, 14),
    ("catorce", 14, 14),
    ("veintidós", 22, 22),
    ("treinta y tantos", 30, 39),
    ("\u0661\u0664", 14, 14),  # Arabic-Indic digits
])
def test_an_age_or_a_guess_is_read_as_a_range_with_the_words_kept(typed: str, low: int, high: int) -> None:
    guess = parse_age_guess(typed)
    assert isinstance(guess, AgeGuess), guess
    assert (guess.low, guess.high, guess.words) == (low, high, typed)
    assert guess.exact == (low if low == high else None)


def test_a_childs_range_is_cut_to_the_ages_a_child_can_have() -> None:
    guess = parse_age_guess("teen", low=0, high=17)
    assert isinstance(guess, AgeGuess) and (guess.low, guess.high) == (13, 17)


@pytest.mark.parametrize("typed", ["blue", "year 9", "not sure", "13 or 40", "1" * 4])
def test_words_that_are_no_age_are_refused_with_examples(typed: str) -> None:
    problem = parse_age_guess(typed)
    assert isinstance(problem, AgeProblem) and not problem.out_of_range
    assert "about 14" in problem.message


def test_an_age_outside_the_range_asked_for_says_so() -> None:
    problem = parse_age_guess("about 19", low=0, high=17)
    assert isinstance(problem, AgeProblem) and problem.out_of_range
    assert problem.message == "Enter an age from 0 to 17, or leave it empty."


def test_an_empty_answer_is_no_age() -> None:
    assert parse_age_guess("   ") is None
