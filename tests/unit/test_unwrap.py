"""Hard-wrapped plain text is read a paragraph a line, and nothing else changes."""

from __future__ import annotations

import textwrap

import pytest

from pipeline.cleaning.text import clean_text
from pipeline.cleaning.unwrap import unwrap
from pipeline.stages.clean import DEFAULT_CLEAN

PARAGRAPHS = [
    "The city council voted on Tuesday to extend the curfew by two weeks, after a third night "
    "of protests left several shops damaged along the main avenue and the police asked for more time.",
    'Council member Ana Ruiz said the decision had not been easy. "We listened to residents on '
    'both sides, and most of them asked us to keep the streets calm until the inquiry reports," she said.',
    "The inquiry into the shooting that set off the protests is expected to report by the end "
    "of the month, a spokesman for the state attorney general said in a statement on Monday.",
    "Business owners along the avenue have asked the city for help with repairs, and the mayor "
    "said a fund would be set up this week to cover the costs that insurance does not.",
]


def fmt(paragraphs: list[str], width: int, between: str = "\n\n") -> str:
    """The paragraphs as `fmt` writes them: broken at spaces to `width` columns."""
    return between.join(textwrap.fill(p, width, break_on_hyphens=False) for p in paragraphs)


@pytest.mark.parametrize("width", [40, 60, 72, 100])
def test_each_wrapped_paragraph_becomes_one_line(width: int) -> None:
    text = unwrap(fmt(PARAGRAPHS, width))
    assert [" ".join(line.split()) for line in text.split("\n\n")] == PARAGRAPHS


def test_the_text_keeps_its_length_and_every_character_but_the_breaks_in_place() -> None:
    wrapped = fmt(PARAGRAPHS, 60).replace("\n", "\r\n")
    text = unwrap(wrapped)
    assert len(text) == len(wrapped)
    assert all(a == b or (a in "\r\n" and b == " ") for a, b in zip(wrapped, text, strict=True))
    assert "\r\n\r\n" in text  # the paragraphs' blank lines stay


def test_text_written_a_paragraph_a_line_is_left_as_it_is() -> None:
    as_written = "\n".join(PARAGRAPHS)
    assert unwrap(as_written) is as_written


def test_a_text_of_a_sentence_a_line_is_left_as_it_is_though_its_lines_are_of_a_length() -> None:
    sentences = [
        "More than fifty firefighters with ten fire engines fought the blaze that destroyed the store.",
        "It broke out in the roof at around nine on Friday, and residents nearby were moved out for a while.",
        "A police spokeswoman said the fire had spread quickly through the building and the stock inside.",
        "The fire is being treated as potentially suspicious, and the police have asked for witnesses.",
        "Anyone with information is asked to call the police, or to call the charity anonymously instead.",
        "The store's owners said they were working to find jobs at nearby branches for all of the staff.",
        "The road past the store stayed closed on Saturday morning while the building was made safe.",
    ]
    text = "\n".join(sentences)
    assert unwrap(text) is text


def test_a_page_of_short_lines_is_left_as_it_is() -> None:
    menu = "\n".join(["Home", "World news", "Business", "Opinion and analysis", "Sport", "Weather"] * 4)
    page = menu + "\n" + "\n".join(PARAGRAPHS)
    assert unwrap(page) is page


def test_paragraphs_set_apart_by_line_breaks_alone_stay_apart_where_a_last_line_is_short() -> None:
    text = unwrap(fmt(PARAGRAPHS, 60, between="\n"))
    joined = [" ".join(line.split()) for line in text.split("\n")]
    # a paragraph whose last line is short ends there; the wrapped lines join up
    assert len(joined) <= len(PARAGRAPHS)
    assert " ".join(joined) == " ".join(PARAGRAPHS)
    assert all(any(p in line for line in joined) for p in PARAGRAPHS)


def test_a_list_item_an_indented_line_and_a_label_start_lines_of_their_own() -> None:
    body = fmt(PARAGRAPHS, 60)
    items = textwrap.fill(PARAGRAPHS[0], 60) + "\n- the curfew starts at ten\n- shops close at nine"
    indented = textwrap.fill(PARAGRAPHS[1], 60) + "\n    " + textwrap.fill(PARAGRAPHS[2], 56)
    label = textwrap.fill(PARAGRAPHS[3], 60) + "\nWASHINGTON: The senate met on Tuesday."
    text = unwrap("\n\n".join([body, items, indented, label]))
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    assert "- the curfew starts at ten" in lines
    assert "- shops close at nine" in lines
    assert PARAGRAPHS[1] in lines
    assert PARAGRAPHS[2] in lines
    assert "WASHINGTON: The senate met on Tuesday." in lines


def test_the_cleaner_keeps_a_wrapped_article_as_it_keeps_it_written_a_paragraph_a_line() -> None:
    page = "Local news\n\nCurfew extended after protests\n\n"
    as_written, _ = clean_text(page + "\n\n".join(PARAGRAPHS), threshold=DEFAULT_CLEAN.threshold)
    wrapped, spans = clean_text(unwrap(page + fmt(PARAGRAPHS, 60)), threshold=DEFAULT_CLEAN.threshold)
    assert all(p in as_written for p in PARAGRAPHS)  # the reference keeps the body
    assert wrapped.split() == as_written.split()
    # each copied piece maps to the input as written, line breaks read as spaces
    raw = page + fmt(PARAGRAPHS, 60)
    for text_start, raw_start, length in spans:
        copied = raw[raw_start : raw_start + length].replace("\n", " ")
        assert copied == wrapped[text_start : text_start + length]
