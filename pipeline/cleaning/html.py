"""HTML boilerplate removal: trafilatura, a line filter, and a plain-text fallback (pure).

trafilatura (recall-leaning settings, comments excluded) finds the main content, and
its metadata steps the page's title, author, date and site name (`html_meta`). Where
trafilatura kept only the first of an article's body chunks, or left out a post the
article embeds, the page's structure puts them back (`html_chunks`). The lines then
pass our general furniture rules (vetoes, short call-to-action lines without a full
stop: "SEE MORE: …", "Order Reprints"), which trafilatura sometimes lets through. Where trafilatura finds
next to nothing, the page's visible text (html-text, one block per line) goes
through our plain-text cleaner instead, so a page is not indexed with an empty body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.cleaning import patterns as pat
from pipeline.cleaning.features import SENTENCE, is_sentence_end, line_vetoes, scan_page
from pipeline.cleaning.html_chunks import add_continuations
from pipeline.cleaning.html_meta import page_meta
from pipeline.cleaning.html_standfirst import drop_standfirst
from pipeline.cleaning.text import Line, clean_text, sentence_pieces

# Below this many words trafilatura is taken to have missed the article.
MIN_WORDS = 30
FAVOR_RECALL = True
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class HtmlResult:
    text: str
    meta: dict[str, str] = field(default_factory=dict)
    fallback: bool = False  # True when the plain-text cleaner produced the text


def clean_html(
    html: str, *, threshold: float, repeated: Callable[[list[str]], list[bool]] | None = None
) -> HtmlResult:
    from trafilatura import bare_extraction
    from trafilatura.utils import load_html

    tree = load_html(html)
    meta: dict[str, str] = {}
    text = ""
    if tree is not None:
        found = page_meta(tree)
        meta = found.meta
        # a trafilatura Document (or None); typed loosely because the library types it as a union
        # (it works on a copy of the tree: ours stays whole for the continuation search)
        extracted: Any = bare_extraction(
            tree, url=found.url, include_comments=False, favor_recall=FAVOR_RECALL, with_metadata=False
        )
        if extracted is not None:
            lines = [line.strip() for line in (extracted.text or "").splitlines() if line.strip()]
            lines = drop_standfirst(tree, add_continuations(tree, lines), found.description)
            text = filter_lines("\n".join(lines), repeated, title=meta["title"])
    if len(_WORD.findall(text)) < MIN_WORDS:
        import html_text

        fallback, _ = clean_text(html_text.extract_text(html), threshold=threshold, repeated=repeated)
        if len(_WORD.findall(fallback)) > len(_WORD.findall(text)):
            return HtmlResult(fallback, {k: v for k, v in meta.items() if v}, fallback=True)
    return HtmlResult(text, {k: v for k, v in meta.items() if v})


def filter_lines(
    text: str, repeated: Callable[[list[str]], list[bool]] | None = None, *, title: str = ""
) -> str:
    """trafilatura's lines minus furniture by our general rules, paragraphs joined by a blank line.

    Beyond the plain-text vetoes: short call-to-action lines without a full stop, social
    and legal lines, contact lines, the page's headline repeated at the top (it is the
    document's title, not its body), date and byline stamps before the first paragraph
    of prose, and boilerplate sentences inside a kept paragraph.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    scan = scan_page(lines)
    vetoed = line_vetoes(scan)
    flags = repeated(lines) if repeated is not None else [False] * len(lines)
    # only lines with a boilerplate phrase's word or an elision mark can lose a sentence
    to_split = set(scan.with_word(SENTENCE)) | scan.containing("...", "…")
    kept: list[str] = []
    for i, (line, veto, seen, size) in enumerate(zip(lines, vetoed, flags, scan.sizes.tolist(), strict=True)):
        short_cta = (
            size <= 15
            and not is_sentence_end(line)
            and pat.call_to_action_hits(_WORD.findall(line.lower())) > 0
        )
        if veto or seen or short_cta or (size <= 30 and pat.is_page_notice(line)):
            continue
        if i in to_split:
            line = " ".join(piece.text for piece in sentence_pieces(Line(0, line)))
        if line:
            kept.append(line)
    return "\n\n".join(_drop_page_header(_drop_teasers(kept), title))


# A related-content label: alone on its line it heads a list of other stories' headlines;
# before a colon, it is followed by one ("Related: The 15 weirdest galaxies").
RELATED_LABEL = re.compile(
    r"^(?:you may (?:also )?like|don'?t miss|related(?: (?:articles?|stories|content|coverage|reading))?|"
    r"more (?:stories|news|headlines)|read (?:more|also|next)|also read|see also|"
    r"recommended(?: for you)?|further reading|top stories|partner news|more from [\w ]{1,30})\b",
    re.IGNORECASE,
)
LABEL_WORDS = 6  # a label line has at most this many words
TEASER_WORDS = 20  # a headline in a list of other stories has at most this many words


def _is_teaser(line: str) -> bool:
    """A headline: short, and not ending with a full stop ("Who will make the Rock Hall?" does)."""
    end = line.rstrip("\"'”’)]|").rstrip()
    return len(_WORD.findall(line)) <= TEASER_WORDS and not end.endswith((".", "。"))


def _drop_teasers(lines: list[str]) -> list[str]:
    """Lines minus related-content labels with the headlines they introduce: "Related: X", and
    "You may also like…" or "DON'T MISS" with the run of headlines below it."""
    kept: list[str] = []
    listing = False  # in the run of headlines below a label
    for line in lines:
        label = RELATED_LABEL.match(line)
        if label is not None:
            rest = line[label.end() :].strip()
            if not rest.strip(".…!:") and len(_WORD.findall(line)) <= LABEL_WORDS:
                listing = True
                continue
            if rest.startswith(":") and _is_teaser(rest[1:]):
                continue
        if listing and _is_teaser(line):
            continue
        listing = False
        kept.append(line)
    return kept


HEADER_LINES = 3  # the headline, when trafilatura repeats it, is among the first lines


def _drop_page_header(lines: list[str], title: str) -> list[str]:
    """Lines before the article's first paragraph that repeat the headline or only stamp
    a date or a byline ("August 23, 2018", "By"): page metadata, kept on the document."""
    title_key = _key(title)
    first_prose = next((i for i, line in enumerate(lines) if _is_prose(line)), len(lines))
    return [
        line
        for i, line in enumerate(lines)
        if not (i < HEADER_LINES and _repeats_title(_key(line), title_key))
        and not (i < first_prose and _is_stamp(line))
    ]


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text)).lower()


def _repeats_title(key: str, title_key: str) -> bool:
    """The line is the headline: equal to the title, a long part of it ("Headline" in
    "Headline - Site"), or the title with a little more ("Headline | Site")."""
    if not key or not title_key:
        return False
    return (
        key == title_key
        or (len(key) > 15 and key in title_key)
        or (len(title_key) > 15 and title_key in key and len(key) < 2 * len(title_key))
    )


def _is_prose(line: str) -> bool:
    return len(_WORD.findall(line)) >= 12 and is_sentence_end(line)


def _is_stamp(line: str) -> bool:
    words = _WORD.findall(line.lower())
    if len(words) > 14:
        return False
    lower = line.lower()
    return words == ["by"] or pat.is_date(lower, words) or pat.is_byline(lower, words)
