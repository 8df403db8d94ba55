"""The shared parse: a paragraph parsed by one stage is not parsed again by the next."""

from __future__ import annotations

import spacy

from pipeline.nlp import CACHE_PARAGRAPHS, clear_cache, parse, parsed_together


class CountingPipe:
    """A real blank spaCy pipeline that counts the texts it is asked to parse."""

    def __init__(self) -> None:
        self.nlp = spacy.blank("en")
        self.parsed: list[str] = []

    def pipe(self, texts, batch_size: int = 64):  # type: ignore[no-untyped-def]
        for text in texts:
            self.parsed.append(text)
            yield self.nlp(text)


class BatchingPipe(CountingPipe):
    """Records the batches `nlp.pipe` is called with."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def pipe(self, texts, batch_size: int = 64):  # type: ignore[no-untyped-def]
        texts = list(texts)
        self.batches.append(texts)
        return super().pipe(texts, batch_size)


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


def test_a_batch_parsed_together_is_not_parsed_again_however_many_paragraphs() -> None:
    clear_cache()
    model = CountingPipe()
    texts = [f"Paragraph {i} of the batch." for i in range(CACHE_PARAGRAPHS + 100)]
    with parsed_together(model, texts):
        parse(model, ["Another document's paragraph."] * 3)  # the cache turns over meanwhile
        again = parse(model, texts)
    assert model.parsed == [*texts, "Another document's paragraph."]
    assert [d.text for d in again] == texts
    clear_cache()
    parse(model, texts[:1])  # released at the end of the block: parsed afresh
    assert model.parsed[-1] == texts[0]


def test_the_model_batches_a_batch_by_count_and_characters() -> None:
    clear_cache()
    model = BatchingPipe()
    texts = [f"p{i}" for i in range(71)] + ["x" * 20_000, "y" * 20_000]
    with parsed_together(model, texts):
        pass
    # 64 texts; the next 7 and a long one (under 24,000 characters); the other long one
    assert [len(b) for b in model.batches] == [64, 8, 1]
