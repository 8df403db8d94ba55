"""The standfirst on top of trafilatura's text, when it is the page's summary set apart (pure).

Many pages put a summary (standfirst, dek) between the headline and the article, in
a heading or a box of its own, and give the same words as the page's description in
their <meta> tags. Like the headline, it is the page's metadata rather than the
article's body. Where the summary is the article's first paragraph instead (a lede
that the site copies into its description), it sits in a container of the same kind as the
paragraphs that follow it, and it stays.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

_WORD = re.compile(r"\w+")
TOP_LINES = 3  # the standfirst, when trafilatura keeps it, comes right after the headline if at all


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text)).lower()


def _element_of(tree: HtmlElement, line: str) -> HtmlElement | None:
    """The smallest element whose text is the line, found from a text node holding one of its words."""
    key = _key(line)
    words = _WORD.findall(line)
    if not words:
        return None
    probe = max(words[:6], key=len)  # one of the first words, the longest: few text nodes hold it
    for node in tree.xpath("//text()[contains(., $probe)]", probe=probe):
        element = node.getparent()
        if element is not None and node.is_tail:
            element = element.getparent()
        while element is not None:
            found = _key(element.text_content())
            if found == key:
                return element
            if len(found) > len(key):
                break  # grown past the line
            element = element.getparent()
    return None


def _kind(element: HtmlElement) -> tuple[str, str] | None:
    """The tag and class of the element's container (some sites wrap each paragraph in its own
    container of one kind: containers of one kind are one body)."""
    parent = element.getparent()
    if parent is None:
        return None
    return str(parent.tag), " ".join((parent.get("class") or "").split())


def drop_standfirst(tree: HtmlElement, lines: list[str], description: str) -> list[str]:
    """The lines without a top line that repeats the page's description from another container
    of another kind than the next line's."""
    summary = _key(description)
    if not summary:
        return lines
    for i, line in enumerate(lines[: min(TOP_LINES, len(lines) - 1)]):
        if _key(line) != summary:
            continue
        standfirst, after = _element_of(tree, line), _element_of(tree, lines[i + 1])
        if standfirst is not None and after is not None and _kind(standfirst) != _kind(after):
            return lines[:i] + lines[i + 1 :]
        return lines
    return lines
