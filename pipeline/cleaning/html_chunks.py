"""The rest of an article trafilatura cut short: body chunks in sibling containers and
embedded posts (pure).

Many sites split an article's body into several containers of one kind, one per
run of paragraphs between ads or embeds ("body__container" blocks side by side).
trafilatura picks the best single container and sometimes keeps only the first
chunk. A prose paragraph it left out is taken back when the page itself says it
belongs to the same body: its container is of the kind (tag and class) that holds
the paragraphs trafilatura kept, yet is another element of that kind, and the two
containers sit close together in the page (a common ancestor a few levels up).
A paragraph in the very container trafilatura read from was dropped on purpose,
and one in a far-away container of the same kind (a second article, a comment
list) is not this article's: both stay out, and so does anything past a new headline
(<h1>) or in another <article> element: a next story appended below this one.

Embedded posts (a tweet's blockquote) that the article quotes are its text too; trafilatura
drops some of them. One inside the container of the kept paragraphs, or a few levels
below it, is put back at its place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml.html import HtmlElement

_WORD = re.compile(r"\w+")
_SENT_END = re.compile(r"[.!?。！？…][\"'”’)\]]*$")
PROSE_WORDS = 15  # a paragraph of at least this many words ending like a sentence
KEY_WORDS = 8  # a paragraph is found in trafilatura's text by its first words
NEAR_LEVELS = 3  # containers whose ancestors this many levels up meet are neighbours
EMBED_LEVELS = 5  # an embedded post this many levels below a kept paragraph's container is in the body
_OUTSIDE = frozenset(("footer", "aside", "nav", "header"))
_EMBEDS = frozenset(("twitter-tweet",))  # the class of a blockquote that embeds a post


def _is_embed(element: HtmlElement) -> bool:
    return element.tag == "blockquote" and not _EMBEDS.isdisjoint((element.get("class") or "").split())


def _embed_lines(quote: HtmlElement) -> list[str]:
    """A post's paragraphs, then the rest of it (the "— Name (@handle) date" attribution) as a line."""
    paragraphs = [" ".join(p.text_content().split()) for p in quote.iter("p")]
    rest = " ".join(quote.text_content().split())
    for text in paragraphs:
        rest = rest.replace(text, "", 1)
    return [text for text in [*paragraphs, " ".join(rest.split())] if text]


def _blocks(tree: HtmlElement) -> Iterator[tuple[HtmlElement, list[str], str, bool]]:
    """(element, its lines, its key, is an embed) for each prose <p>, embedded post and
    headline (<h1>, no lines), in page order."""
    inside: HtmlElement | None = None  # the embed being walked through: its own <p>s are part of it
    for element in tree.iter("p", "blockquote", "h1"):
        if inside is not None and any(a is inside for a in element.iterancestors()):
            continue
        if element.tag == "h1":
            yield element, [], "", False
            continue
        if _is_embed(element):
            inside = element
            lines = _embed_lines(element)
            words = _WORD.findall(" ".join(lines))
            if words:
                yield element, lines, " ".join(words[:KEY_WORDS]), True
            continue
        if element.tag != "p":
            continue
        text = " ".join(element.text_content().split())
        words = _WORD.findall(text)
        if len(words) >= PROSE_WORDS and _SENT_END.search(text):
            yield element, [text], " ".join(words[:KEY_WORDS]), False


def _kind(container: HtmlElement | None) -> tuple[str, str] | None:
    if container is None:
        return None
    cls = " ".join((container.get("class") or "").split())
    return (str(container.tag), cls) if cls else None  # a bare <div> says nothing about its kind


def _ancestors(element: HtmlElement, levels: int) -> list[HtmlElement]:
    found: list[HtmlElement] = []
    node = element.getparent()
    while node is not None and len(found) < levels:
        found.append(node)
        node = node.getparent()
    return found


def _outside_body(element: HtmlElement) -> bool:
    return any(str(a.tag) in _OUTSIDE for a in element.iterancestors())


def _article(element: HtmlElement) -> HtmlElement | None:
    return next(element.iterancestors("article"), None)


def add_continuations(tree: HtmlElement, lines: list[str]) -> list[str]:
    """trafilatura's text lines with the article's missing chunks and embedded posts put back,
    after the line of the kept paragraph that precedes them in the page."""
    if not lines:
        return lines
    line_words = [" ".join(_WORD.findall(line)) for line in lines]
    everything = "\n".join(line_words)
    blocks = list(_blocks(tree))
    kept = [bool(key) and key in everything for _, _, key, _ in blocks]
    # sets of elements, not of id()s: lxml's element proxies live only while referenced
    kept_containers = {
        e.getparent() for (e, _, _, embed), k in zip(blocks, kept, strict=True) if k and not embed
    }
    kinds = {_kind(c) for c in kept_containers} - {None}
    near = {a for c in kept_containers for a in _ancestors(c, NEAR_LEVELS)}
    articles = {_article(e) for (e, _, _, _), k in zip(blocks, kept, strict=True) if k}
    inserts: dict[int, list[str]] = {}
    anchor = -1  # the output line of the last kept paragraph seen so far
    for (element, texts, key, embed), was_kept in zip(blocks, kept, strict=True):
        if was_kept:
            anchor = next((i for i, words in enumerate(line_words) if key in words), anchor)
            continue
        if anchor >= 0 and element.tag == "h1":
            break  # a new headline below the article: what follows is another story
        if anchor < 0 or not texts or _outside_body(element) or _article(element) not in articles:
            continue
        if embed:
            wanted = any(a in kept_containers for a in _ancestors(element, EMBED_LEVELS))
        else:
            container = element.getparent()
            wanted = (
                container not in kept_containers
                and _kind(container) in kinds
                and any(a in near for a in _ancestors(container, NEAR_LEVELS))
            )
        if wanted:
            inserts.setdefault(anchor, []).extend(texts)
    if not inserts:
        return lines
    merged: list[str] = []
    for i, line in enumerate(lines):
        merged.append(line)
        merged.extend(inserts.get(i, ()))
    return merged
