"""The shared parse: a paragraph parsed by one stage is not parsed again by the next."""

from __future__ import annotations

import spacy

from pipeline.nlp import parse


class CountingPipe:
    """A real blank spaCy pipeline that counts the texts it is asked to parse."""

    def __init__(self) -> None:
        self.nlp = spacy.blank("en")
        self.parsed: list[str] = []

    def pipe(self, texts, batch_size: int = 64):  # type: ignore[no-untyped-def]
        for text in texts:
            self.parsed.append(text)
            yield self.nlp(text)


def test_the_second_stage_reuses_the_first_stages_parse() -> None:
    model = CountingPipe()
    first = parse(model, ["Rutte spoke.", "Sybiha replied."])
    second = parse(model, ["Sybiha replied.", "Rutte spoke.", "A new paragraph."])
    assert model.parsed == ["Rutte spoke.", "Sybiha replied.", "A new paragraph."]
    assert second[0] is first[1]
    assert [d.text for d in second] == ["Sybiha replied.", "Rutte spoke.", "A new paragraph."]


def test_repeated_paragraphs_in_one_call_are_parsed_once() -> None:
    model = CountingPipe()
    docs = parse(model, ["Same line.", "Same line."])
    assert model.parsed == ["Same line."]
    assert docs[0] is docs[1]
