"""Where quotations open and close (pipeline/claims/quotes.py)."""

from __future__ import annotations

import pytest

from pipeline.claims.quotes import find_quotes


def quoted(text: str) -> list[str]:
    return [text[q.start : q.end] for q in find_quotes(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"We all need to do more," he said.', ["We all need to do more,"]),
        ("“We all need to do more,” he said.", ["We all need to do more,"]),
        ("He said: “This mistake must be corrected.”", ["This mistake must be corrected."]),
        # the apostrophe in Ukraine’s is not a closing mark
        (
            "NATO chief says Putin is ‘not interested in peace’ and Ukraine’s resolve holds",
            ["not interested in peace"],
        ),
        # one closed with a single mark by mistake
        ("“And that is what we will focus on,’ he added.", ["And that is what we will focus on,"]),
        ("''This isn't tax reform,'' he said.", ["This isn't tax reform,"]),
        ("Two “quotes” and “more words here” in one line.", ["quotes", "more words here"]),
        ("No quotation here, only Ukraine’s and Russia’s apostrophes.", []),
        # a straight mark closed with a curly one: the curly mark closes it, and is not quoted
        (
            'He added: "Putin is not interested in peace, but he is wrong.”',
            ["Putin is not interested in peace, but he is wrong."],
        ),
        # ... and a straight mark that follows opens the next quotation
        (
            '"This is a long process,” said Paul Lindsay. "Some will have a hard time."',
            ["This is a long process,", "Some will have a hard time."],
        ),
    ],
)
def test_quotes_in_one_paragraph(text: str, expected: list[str]) -> None:
    assert quoted(text) == expected


def test_a_paragraph_opened_by_a_closing_mark_opens_a_quotation() -> None:
    """”Fear. …” ― a name: a paragraph cannot begin by closing a quote, the mark is turned."""
    text = "Readers wrote in.\n\n”Fear. I am truly afraid he will win.” ― Edwin Monroy\n\nAnother line ends.”"
    assert quoted(text) == ["Fear. I am truly afraid he will win."]


def test_an_unclosed_quote_continues_into_the_next_paragraph() -> None:
    text = (
        "He also said: “Russia’s aggression shows no sign of abating.\n\n"
        "“He is using Ukraine as a testing ground.”"
    )
    first, second = find_quotes(text)
    assert (first.closed, first.continues) == (False, False)
    assert (second.closed, second.continues) == (True, True)
    assert text[second.start : second.end] == "He is using Ukraine as a testing ground."


def test_a_closed_quote_does_not_continue_into_the_next_paragraph() -> None:
    text = "“Putin is wrong,” he said.\n\n“Make sure Ukraine has what it needs.”"
    assert [q.continues for q in find_quotes(text)] == [False, False]


def test_a_subheading_between_paragraphs_does_not_end_a_running_quote() -> None:
    text = (
        "He said: “Russia’s aggression shows no sign of abating.\n\nMore on Russia\n\n“He is using Ukraine.”"
    )
    assert [q.continues for q in find_quotes(text)] == [False, True]


def test_counting_quoted_offsets_at_once_agrees_with_asking_for_each() -> None:
    import random

    from pipeline.claims.attribution.types import Quoted

    rng = random.Random(1)
    for _ in range(2000):
        starts = sorted(rng.randint(0, 60) for _ in range(rng.randint(0, 6)))
        quoted = Quoted(starts, [s + rng.randint(0, 20) for s in starts])  # overlaps too
        start = rng.randint(0, 80)
        end = start + rng.randint(0, 40)
        assert quoted.count_inside(start, end) == sum(quoted.inside(o) for o in range(start, end))


# A text typed without curly marks in the British style quotes in straight single marks.
BRITISH_ASCII = (
    "'We will all need to do more,' Mr Rutte said. 'The stronger our support, the better.'\n\n"
    "He added: 'Putin isn't interested in peace, and he won't stop on his own.'\n\n"
    "Allies who'd backed Kyiv since the '90s agreed, the workers' union said."
)


def test_a_text_that_quotes_in_straight_single_marks_has_its_quotations_found() -> None:
    assert quoted(BRITISH_ASCII) == [
        "We will all need to do more,",
        "The stronger our support, the better.",
        "Putin isn't interested in peace, and he won't stop on his own.",
    ]


def test_in_a_text_that_quotes_in_double_marks_single_ones_are_titles_and_inner_quotes() -> None:
    text = (
        "\"We read the book 'All Bets Are Off' last year,\" he said.\n\n"
        "Her memoir, 'Legend in the Coal Fields,' came out in May."
    )
    assert quoted(text) == ["We read the book 'All Bets Are Off' last year,"]
