"""The development sets in the other shapes plain text comes in, through the product (does I/O).

    .venv/bin/python bench/shapes.py [--limit N]

Files from other outlets and tools are not all written as the benches' are. Each shape
below rewrites the same development texts and runs them as a dropped file is run:
`as_read` (as `read_dropped_file` reads a plain text), `clean_boilerplate`, and
for PolNeAR dev `extract_claims` with the configured spaCy model. One line per shape:
the cleaner's F1 on the extraction bench's plain-text pages (its score.py) and the claims'
pair F1 on PolNeAR dev (its score.py), beside the same figures as written.

Shapes: hard-wrapped at 72 columns (fmt, e-mail, wire copy); on one line (paragraph
breaks lost); quotation marks and apostrophes written as HTML character references (a
text copied out of a page's source); every quotation mark a single one, straight ones
straight (British copy typed without curly marks); a soft hyphen inside every long word
(a page's hyphenation). NEWSFLOW_BENCH_DIR overrides the bench folder.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import extraction  # noqa: E402
import quotes  # noqa: E402

from pipeline.document import Document  # noqa: E402
from pipeline.errors import SkipDocument  # noqa: E402
from pipeline.sources.files import as_read  # noqa: E402
from pipeline.stages.claims import extract_claims  # noqa: E402
from pipeline.stages.clean import clean_boilerplate  # noqa: E402


def one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text)


def char_refs(text: str) -> str:
    for mark, ref in (("&", "&amp;"), ("“", "&ldquo;"), ("”", "&rdquo;"), ("’", "&rsquo;"), ('"', "&quot;")):
        text = text.replace(mark, ref)
    return text


def single_marks(text: str) -> str:
    """Curly double marks made curly single ones, straight double marks straight single ones."""
    return text.replace("“", "‘").replace("”", "’").replace('"', "'")


def soft_hyphens(text: str) -> str:
    """A soft hyphen in the middle of every word of eight letters or more, as a page's
    hyphenation leaves them in text copied from it."""
    return re.sub(r"\b(\w{4})(?=\w{4})", "\\1\u00ad", text)


SHAPES: dict[str, Callable[[str], str]] = {
    "as written": lambda text: text,
    "hard-wrapped": extraction.hard_wrapped,
    "one line": one_line,
    "char refs": char_refs,
    "single marks": single_marks,
    "soft hyphens": soft_hyphens,
}


def read_as_dropped(text: str) -> Document:
    """The Document a dropped plain-text file holding `text` becomes, cleaned."""
    raw, _ = as_read(text, "text")
    return clean_boilerplate(Document(id="", source="bench", raw_text=raw))


def cleaned(text: str) -> str:
    try:
        return read_as_dropped(text).text
    except SkipDocument:
        return ""


def claims(articles: list[dict[str, Any]], shape: Callable[[str], str], nlp: Any) -> list[dict[str, Any]]:
    preds = []
    for art in articles:
        found: list[dict[str, Any]] = []
        try:
            doc = extract_claims(read_as_dropped(shape(art["text"])), nlp=nlp)
            found = [
                {"speaker": c.speaker, "quote": c.text, "cue": c.cue, "kind": c.kind}
                for c in doc.claims
                if c.kind != "statement"
            ]
        except SkipDocument:
            pass
        preds.append({"id": art["id"], "quotes": found})
    return preds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="only the first N PolNeAR articles")
    args = ap.parse_args()
    if (
        not (extraction.extraction_dir() / "dev").is_dir()
        or not (quotes.bench_dir() / "polnear-dev.jsonl").exists()
    ):
        sys.exit("no benchmark data under ../shared/bench (set NEWSFLOW_BENCH_DIR)")
    pages = extraction.load_inputs("dev", "text")
    articles = [
        json.loads(line)
        for line in (quotes.bench_dir() / "polnear-dev.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    if args.limit:
        articles = articles[: args.limit]

    from config.settings import get_settings
    from pipeline.nlp import load_model

    nlp = load_model(get_settings().spacy_model)  # as the workers load it
    for name, shape in SHAPES.items():
        text_f1 = extraction.score({pid: cleaned(shape(page)) for pid, page in pages.items()}, "dev")[0]["F1"]
        pair = quotes.score(quotes.bench_dir(), articles, claims(articles, shape, nlp))["pair"]
        print(
            f"{name:13} cleaning text F1 {text_f1:.3f}   "
            f"claims pair F1 {pair['f1']:.3f} (P {pair['precision']:.3f})"
        )


if __name__ == "__main__":
    main()
