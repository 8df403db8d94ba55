"""Language identification of the cleaned text (pure).

English NER and quote patterns are only run on English: other languages are recorded
and indexed as text, not mislabelled by a model that cannot read them.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.document import Document

SAMPLE_CHARS = 3000  # the opening of an article is enough, and keeps this stage ~1 ms


def detect_language(doc: Document) -> Document:
    """Record the language of doc.text as an ISO 639-1 code ("" when undecidable).

    Reads: text.  Adds: language.  Never: changes the text.
    """
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0  # langdetect samples at random; fix it so results repeat
    try:
        language = detect(doc.text[:SAMPLE_CHARS])
    except LangDetectException:
        language = ""
    return replace(doc, language=language)
