"""The HTML path's own parts: the lean metadata step and the article chunks trafilatura leaves out."""

from __future__ import annotations

from typing import Any

import pytest
from trafilatura import bare_extraction
from trafilatura.utils import load_html

from pipeline.cleaning.html import clean_html, filter_lines
from pipeline.cleaning.html_chunks import add_continuations
from pipeline.cleaning.html_meta import DATE_PARAMS, page_meta
from pipeline.cleaning.html_standfirst import drop_standfirst


def para(n: int, topic: str = "city") -> str:
    return (
        f"Paragraph {n} of the story explains how the {topic} council voted on the new budget, "
        "and what residents said about it afterwards."
    )


def chunk(numbers: range, kind: str = "body__container article-body") -> str:
    """One run of the body between ads, as many sites lay out a long article."""
    body = "".join(f"<p>{para(n)}</p>" for n in numbers)
    return f'<div class="grid"><div class="{kind}">{body}</div><div class="ad">Advertisement</div></div>'


def page(chunks: str, after: str = "") -> str:
    return f"""<!doctype html><html><head><title>Council passes budget - Example News</title></head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<main><article><h1>Council passes budget</h1>
<div class="article__chunks">{chunks}</div></article>{after}</main>
<footer><p>© 2024 Example News. All rights reserved.</p></footer></body></html>"""


CHUNKED = page(chunk(range(1, 5)) + chunk(range(5, 9)) + chunk(range(9, 12)))


def test_trafilatura_alone_keeps_only_the_first_chunk() -> None:
    """The case the continuation search is for (if trafilatura learns it, this test says so)."""
    extracted: Any = bare_extraction(CHUNKED, include_comments=False, favor_recall=True)
    assert para(4) in extracted.text
    assert para(5) not in extracted.text


def test_html_path_keeps_every_chunk_in_page_order() -> None:
    text = clean_html(CHUNKED, threshold=0.5).text
    assert text.split("\n\n") == [para(n) for n in range(1, 12)]


def test_continuations_go_after_the_kept_paragraph_before_them() -> None:
    tree = load_html(page(chunk(range(1, 3)) + chunk(range(3, 5))))
    lines = ["Council passes budget", para(1), para(2), "Share this story"]
    assert add_continuations(tree, lines) == ["Council passes budget", para(1), para(2), para(3), para(4),
                                              "Share this story"]  # fmt: skip


def test_a_paragraph_left_out_of_the_kept_container_stays_out() -> None:
    """trafilatura dropped it from the container it read: a deliberate choice."""
    tree = load_html(page(chunk(range(1, 4))))
    assert add_continuations(tree, [para(1), para(3)]) == [para(1), para(3)]


@pytest.mark.parametrize("after", [
    # a container of another kind: reader comments
    '<section class="comments"><div class="comment-body">'
    f"<p>{para(20, 'town')}</p><p>{para(21, 'town')}</p></div></section>",
    # the same kind of container far from the article: another story further down the page
    '<div class="more"><div class="list"><div class="teasers"><div class="wrap"><div class="grid">'
    f'<div class="body__container article-body"><p>{para(30, "county")}</p></div>'
    "</div></div></div></div></div>",
    # the same kind inside the page footer
    f'<footer><div class="body__container article-body"><p>{para(40, "state")}</p></div></footer>',
])  # fmt: skip
def test_prose_elsewhere_on_the_page_is_not_taken_for_the_article(after: str) -> None:
    tree = load_html(page(chunk(range(1, 3)), after=after))
    assert add_continuations(tree, [para(1), para(2)]) == [para(1), para(2)]


def test_a_next_story_appended_below_stays_out() -> None:
    """The same layout again, below a new headline or in another <article>: the site's next story."""
    story = chunk(range(1, 3))
    next_story = '<div class="article__chunks">' + chunk(range(50, 52)) + "</div>"
    with_headline = page(story + f"<h1>Mayor resigns</h1>{next_story}")
    assert add_continuations(load_html(with_headline), [para(1), para(2)]) == [para(1), para(2)]
    stream = f'<div class="stream"><article>{story}</article><article>{chunk(range(50, 52))}</article></div>'
    in_article = f"<html><head><title>Council passes budget</title></head><body>{stream}</body></html>"
    assert add_continuations(load_html(in_article), [para(1), para(2)]) == [para(1), para(2)]


def test_containers_without_a_class_say_nothing() -> None:
    body = "".join(f"<div><p>{para(n)}</p></div>" for n in range(1, 4))
    tree = load_html(page(body))
    assert add_continuations(tree, [para(1)]) == [para(1)]


META_PAGE = """<!doctype html><html><head><title>Rutte urges more aid | The Example Times</title>
<meta name="description" content="Nato's chief asks allies for air defence.">
<link rel="canonical" href="https://www.example-times.com/world/rutte-aid">
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "Rutte urges more aid", "datePublished": "2024-12-03T10:00:00Z",
 "author": {"@type": "Person", "name": "Jane Doe"}}</script></head><body>
<nav><a href="/">Home</a></nav><article><h1>Rutte urges more aid</h1>
<p>Nato's secretary general said on Tuesday that the alliance would focus on sending more air defence
systems to Ukraine before the winter, rather than on membership talks, officials said.</p>
<p class="tags"><a href="/tag/nato" rel="tag">Nato</a></p></article></body></html>"""

BARE_PAGE = """<!doctype html><html><head><title>Local fair opens</title></head><body><div>
<p>The county fair opened on Saturday with more than forty stalls, a parade and a brass band,
and organisers said they expected ten thousand visitors over the weekend.</p></div></body></html>"""


@pytest.mark.parametrize("html", [META_PAGE, BARE_PAGE])
def test_page_meta_equals_trafilaturas_full_metadata_step(html: str) -> None:
    full: Any = bare_extraction(html, with_metadata=True, date_extraction_params=dict(DATE_PARAMS))
    found = page_meta(load_html(html))
    assert found.meta == {
        "title": full.title or "",
        "author": full.author or "",
        "published": full.date or "",
        "outlet": full.sitename or "",
    }
    assert (found.url, found.description) == (full.url, full.description or "")


def test_page_meta_reads_json_ld_the_canonical_url_and_the_description() -> None:
    found = page_meta(load_html(META_PAGE))
    assert found.meta["author"] == "Jane Doe"
    assert found.meta["published"] == "2024-12-03"
    assert found.meta["title"] == "Rutte urges more aid"
    assert found.url == "https://www.example-times.com/world/rutte-aid"
    assert found.description == "Nato's chief asks allies for air defence."


TWEET = (
    '<blockquote class="twitter-tweet"><p lang="en">The budget passed 7-2 tonight. Thanks to everyone '
    "who came to speak! https://t.co/abc123</p>— Mayor Jane Roe (@mayorroe) "
    '<a href="https://twitter.com/mayorroe/status/1">March 3, 2024</a></blockquote>'
)


def test_an_embedded_post_in_the_body_is_put_back_at_its_place() -> None:
    embed = f'<div class="embed">{TWEET}</div>'
    body = f'<div class="entry-content"><p>{para(1)}</p>{embed}<p>{para(2)}</p></div>'
    tree = load_html(page(body))
    assert add_continuations(tree, [para(1), para(2)]) == [
        para(1),
        "The budget passed 7-2 tonight. Thanks to everyone who came to speak! https://t.co/abc123",
        "— Mayor Jane Roe (@mayorroe) March 3, 2024",
        para(2),
    ]


def test_an_embedded_post_already_kept_is_not_repeated() -> None:
    body = f'<div class="entry-content"><p>{para(1)}</p>{TWEET}<p>{para(2)}</p></div>'
    lines = [para(1), "The budget passed 7-2 tonight. Thanks to everyone who came to speak!", para(2)]
    assert add_continuations(load_html(page(body)), lines) == lines


def test_an_embedded_post_outside_the_body_stays_out() -> None:
    body = f'<div class="entry-content"><p>{para(1)}</p><p>{para(2)}</p></div>'
    tree = load_html(page(body, after=f'<aside class="sidebar"><div class="feed">{TWEET}</div></aside>'))
    assert add_continuations(tree, [para(1), para(2)]) == [para(1), para(2)]
    tree = load_html(page(body, after=f'<div class="promo"><div class="feed">{TWEET}</div></div>'))
    assert add_continuations(tree, [para(1), para(2)]) == [para(1), para(2)]


DEK = "Residents had asked for more buses, and the council found the money in the parks budget."


def dek_page(top: str, body: str) -> str:
    return f"""<!doctype html><html><head><title>Council passes budget - Example News</title>
<meta name="description" content="{DEK}"></head>
<body><main><article>{top}{body}</article></main></body></html>"""


def test_a_standfirst_set_apart_from_the_body_goes_to_the_metadata() -> None:
    html = dek_page(
        f'<div class="headline-wrap"><h1>Council passes budget</h1><h2 class="dek">{DEK}</h2></div>',
        f'<div class="body">{"".join(f"<p>{para(n)}</p>" for n in range(1, 4))}</div>',
    )
    assert drop_standfirst(load_html(html), [DEK, para(1), para(2)], DEK) == [para(1), para(2)]
    assert clean_html(html, threshold=0.5).text.split("\n\n") == [para(1), para(2), para(3)]


@pytest.mark.parametrize("body", [
    # the site copied its lede into the description: the lede is the body's first paragraph
    f'<div class="body"><p>{DEK}</p>{"".join(f"<p>{para(n)}</p>" for n in range(1, 3))}</div>',
    # one container per paragraph, all of one kind
    "".join(f'<div class="card"><p>{text}</p></div>' for text in [DEK, para(1), para(2)]),
])  # fmt: skip
def test_a_lede_that_is_also_the_description_stays(body: str) -> None:
    tree = load_html(dek_page("<h1>Council passes budget</h1>", body))
    assert drop_standfirst(tree, [DEK, para(1), para(2)], DEK) == [DEK, para(1), para(2)]


def test_without_a_description_or_a_match_nothing_goes() -> None:
    html = dek_page(f'<div class="top"><h2>{DEK}</h2></div>', f'<div class="body"><p>{para(1)}</p></div>')
    assert drop_standfirst(load_html(html), [DEK, para(1)], "") == [DEK, para(1)]
    assert drop_standfirst(load_html(html), [DEK, para(1)], "Another summary of the story.") == [DEK, para(1)]


OWN_WORDS = [
    "Related talks between the parties went on for weeks.",
    "Recommended dose: 5 mg a day for adults, the agency said.",
]


@pytest.mark.parametrize(("lines", "left"), [
    # a label, then other stories' headlines, up to the article's next paragraph
    ([para(1), "You may also like...", "Who will make the Rock Hall in 2020?", "Band takes over Fan Vote",
      para(2)], [para(1), para(2)]),
    ([para(1), "DON'T MISS", "China furious at Macron [INSIGHT]", "NBA makes decision [VIDEO]"], [para(1)]),
    # one headline after a label and a colon
    ([para(1), "Related: The 15 Weirdest Galaxies in Our Universe", para(2)], [para(1), para(2)]),
    # the words of a label inside the article's own text
    ([para(1), *OWN_WORDS, para(2)], [para(1), *OWN_WORDS, para(2)]),
    # a label followed by a full sentence: the list is over (or never began)
    ([para(1), "Top stories", "The mayor said the vote was fair.", "Next steps"],
     [para(1), "The mayor said the vote was fair.", "Next steps"]),
])  # fmt: skip
def test_related_labels_go_with_the_headlines_they_introduce(lines: list[str], left: list[str]) -> None:
    assert filter_lines("\n".join(lines)).split("\n\n") == left


def test_a_metadata_step_that_fails_leaves_the_fields_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    from trafilatura import metadata

    def broken(tree: Any) -> Any:
        raise ValueError("malformed page")

    monkeypatch.setattr(metadata, "examine_meta", broken)
    found = page_meta(load_html(META_PAGE))
    assert found.meta == {"title": "", "author": "", "published": "", "outlet": ""}
    assert (found.url, found.description) == (None, "")
