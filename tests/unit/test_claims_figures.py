"""Figures inside claims as structured values (pipeline/claims/figures.py)."""

from __future__ import annotations

import pytest

from pipeline.claims.figures import parse_figures


@pytest.mark.parametrize(
    ("text", "figure_text", "value", "unit", "modifier"),
    [
        (
            "his country needed another 20 air defence systems to protect its grid",
            "another 20 air defence systems",
            20,
            "air defence systems",
            "another",
        ),
        (
            "Ukraine needs at least 19 additional air defense systems to protect",
            "at least 19 additional air defense systems",
            19,
            "air defense systems",
            "at least",
        ),
        ("a new weapons package worth $725m (£570m).", "$725m (£570m)", 725e6, "USD", ""),
        (
            "which has sent more than $61 billion worth of weapons",
            "more than $61 billion",
            61e9,
            "USD",
            "more than",
        ),
        ("will not be able to liberate 20% of the territory", "20%", 20, "%", ""),
        ("ministers from the alliance’s 32 members gathered in Brussels", "32 members", 32, "members", ""),
        (
            "Twenty more air defence systems needed",
            "Twenty more air defence systems",
            20,
            "air defence systems",
            "",
        ),
        ("90 percent of the vote", "90 percent", 90, "%", ""),
    ],
)
def test_figure(text: str, figure_text: str, value: float, unit: str, modifier: str) -> None:
    (figure,) = parse_figures(text)
    assert (figure.text, figure.value, figure.unit, figure.modifier) == (figure_text, value, unit, modifier)


@pytest.mark.parametrize(
    "text",
    [
        "when he takes office on 20 January",
        "on November 22, as part of an effort",
        "a pact 30 years ago under which",
        "the war that began in 2022 goes on",
        "peace within 24 hours of taking office",
    ],
)
def test_dates_years_and_durations_are_not_figures(text: str) -> None:
    assert parse_figures(text) == ()


def test_a_number_too_big_for_a_float_is_no_figure() -> None:
    """float("9" * 400) is infinite: such a figure made the document invalid JSON."""
    figures = parse_figures(f"The council said {'9' * 400} tram stops and 12 buses would run.")
    assert [f.value for f in figures] == [12.0]


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        # a number in words after a definite word refers back to people already named
        ("He made this point to Mr Trump when the two men met in Florida", []),
        ("the two leaders agreed on a plan", []),
        ("their three children were safe", []),
        # a count of new things is a figure, with a definite word before digits too
        ("two soldiers were killed in the attack", ["two soldiers"]),
        ("the 20 air defence systems arrived", ["20 air defence systems"]),
    ],
)
def test_a_reference_to_people_is_not_a_figure(text: str, figures: list[str]) -> None:
    assert [f.text for f in parse_figures(text)] == figures
