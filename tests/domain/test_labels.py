"""One labelled-enum helper: every member of every labelled enum has its label, checked when defined."""

from __future__ import annotations

import pytest

from tipline.domain import IdentifierKind, PartyRole, ReportState, Role
from tipline.domain.labels import LabelledEnum, labels
from tipline.jurisdiction import AgencyType, ClueKind
from tipline.matching import SignalType


class Colour(LabelledEnum):
    RED = "red"
    BLUE = "blue"


def test_a_member_reads_its_label_and_stays_a_string() -> None:
    assert labels(Colour, {Colour.RED: "Red", Colour.BLUE: "Blue"}) == {Colour.RED: "Red", Colour.BLUE: "Blue"}
    assert Colour.BLUE.label == "Blue"
    assert Colour("red") is Colour.RED and Colour.RED == "red" and f"{Colour.RED}" == "red"


def test_a_member_without_a_label_is_an_error_when_the_table_is_given() -> None:
    class Shape(LabelledEnum):
        SQUARE = "square"
        ROUND = "round"

    with pytest.raises(ValueError, match=r"labels of Shape: missing \['round'\]"):
        labels(Shape, {Shape.SQUARE: "Square"})
    with pytest.raises(ValueError, match="not members"):
        labels(Shape, {Shape.SQUARE: "Square", Shape.ROUND: "Round", Colour.RED: "Red"})  # type: ignore[dict-item]  # a foreign key on purpose


@pytest.mark.parametrize("enum", [Role, ReportState, IdentifierKind, PartyRole, ClueKind, AgencyType, SignalType])
def test_the_enums_that_wrote_their_own_labels_use_the_helper(enum: type[LabelledEnum]) -> None:
    assert issubclass(enum, LabelledEnum)
    assert all(isinstance(member.label, str) and member.label for member in enum)


def test_labels_are_the_ones_pages_showed_before() -> None:
    assert Role.VICTIM_ID.label == "Victim-identification analyst"
    assert ReportState.CLOSED_NO_ACTION.label == "Closed, no action"
    assert PartyRole.REPORTED.label == "Reported person or user"
    assert IdentifierKind.URL.label == "Web page"
    assert ClueKind.PUBLIC_TEXT.label == "What the public reporter wrote"
    assert AgencyType.HOTLINE.label == "Partner hotline"
    assert SignalType.VPDQ.label == "vpdq signature"
