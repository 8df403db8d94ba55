"""Language identification: recorded on the document, the same answer every time."""

from __future__ import annotations

import pytest

from pipeline.stages.language import detect_language
from tests.factories import make_document


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("NATO's secretary general warned that Russia is not interested in peace talks.", "en"),
        ("Der NATO-Generalsekretär warnte, Russland sei nicht an Friedensgesprächen interessiert.", "de"),
        ("Le secrétaire général de l'OTAN a averti que la Russie ne veut pas la paix.", "fr"),
        ("Генеральный секретарь НАТО заявил, что Россия не заинтересована в мире.", "ru"),
    ],
)
def test_the_language_of_the_text_is_recorded(text: str, language: str) -> None:
    assert detect_language(make_document(text=text)).language == language


def test_text_without_letters_gets_no_language() -> None:
    assert detect_language(make_document(text="1234 5678 !!!")).language == ""
