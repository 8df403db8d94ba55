"""The attribute table gives every token what the model's own attribute ruler gives it.

The stages load the model with its attribute ruler's rules applied by table lookup
(pipeline/attribute_table.py), for speed; the annotations must be the ruler's, token
for token, or the entity and claim rules would read other parts of speech.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.attribute_table import use_attribute_table
from pipeline.nlp import load_model

spacy = pytest.importorskip("spacy")

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "documents"
# Sentences that reach the ruler's rarer rules: rules over two tokens ("gon na", "let's",
# an expletive's "is"), a lowercase form with a tag ("gets"/VBZ), a regular expression
# ("y'all", "ain't"), whitespace tokens.
RARE = [
    "We're gonna win, y'all, and there is nothing they ain't tried. Let's go.",
    "She gets what she wants and got it twice.  C'mon,\n\nthere were   two of them.",
    "I'm gotta leave; there's no time. Ain't that so? They'd've said 'em already.",
]


def annotations(doc: Any) -> list[tuple[str, ...]]:
    return [(t.text, t.pos_, t.tag_, str(t.morph), t.lemma_, t.dep_) for t in doc]


@pytest.fixture(scope="module")
def models() -> tuple[Any, Any]:
    from config.settings import Settings

    name = Settings().spacy_model
    try:
        stock = spacy.load(name, exclude=["lemmatizer"])
    except OSError:
        pytest.skip("the configured spaCy model is not installed")
    return stock, load_model(name)


def test_the_stages_model_uses_the_table_in_the_rulers_place(models: tuple[Any, Any]) -> None:
    stock, table = models
    assert table.pipe_names == stock.pipe_names
    assert type(table.get_pipe("attribute_ruler")).__name__ == "AttributeTable"


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.stem)
def test_every_token_of_a_seed_is_annotated_as_the_ruler_does(models: tuple[Any, Any], path: Path) -> None:
    stock, table = models
    text = path.read_text(encoding="utf-8")
    assert annotations(table(text)) == annotations(stock(text))


def test_the_rulers_rarer_rules_give_the_same_annotations(models: tuple[Any, Any]) -> None:
    stock, table = models
    for text in RARE:
        assert annotations(table(text)) == annotations(stock(text)), text
    # and the rules do fire: the table is not merely leaving the tagger's output alone
    doc = table(RARE[0])
    assert doc[0].pos_ == "PRON"
    assert any(t.pos_ == "VERB" and t.lower_ == "is" for t in doc)


def test_batches_through_pipe_match_one_at_a_time(models: tuple[Any, Any]) -> None:
    _, table = models
    texts = RARE * 3
    assert [annotations(d) for d in table.pipe(texts, batch_size=4)] == [annotations(table(t)) for t in texts]


def test_a_rule_beyond_the_table_leaves_the_ruler_in_place() -> None:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "very", "OP": "+"}]], {"POS": "ADV"})
    assert use_attribute_table(nlp) is False
    assert nlp.get_pipe("attribute_ruler") is ruler
    assert [t.pos_ for t in nlp("very very good")][:2] == ["ADV", "ADV"]


def test_a_model_without_a_ruler_is_left_as_it_is() -> None:
    nlp = spacy.blank("en")
    assert use_attribute_table(nlp) is False
    assert nlp.pipe_names == []
