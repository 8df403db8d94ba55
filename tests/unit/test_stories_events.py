"""What tells two look-alike events apart: the article's own date, the person it is
about (pure: story features, pair signals, the two-events rule)."""

from __future__ import annotations

import pytest

from pipeline.stories import grouping
from pipeline.stories.features import StoryFeatures, dateline, story_features
from tests.factories import make_document


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        (
            "Saints place RB Pierre Thomas on injured reserve\nJan 05, 2011\nThe New Orleans Saints",
            "2011-01-05",
        ),
        ("9 September 2013 Last updated at 14: 39 GMT\nFrance jewels thefts", "2013-09-09"),
        ("REPORT: RED SOX MAKE HUGE OFFER\non Tuesday, 16 December 2008 13: 45.", "2008-12-16"),
        ("DECEMBER 16, 2008\nHerald: Sox Make Offer", "2008-12-16"),
        ("Updated 4 / 9 / 2007 6: 04 PM\nA man suspected of shooting", "2007-04-09"),
        ("Red Sox extend offer\n12 / 16 / 08 1: 30 AM EST", "2008-12-16"),
        ("Posted 2011-01-05 by staff", "2011-01-05"),
        ("Sept. 3, 2010: a storm", "2010-09-03"),
        ("Dated February 30, 2010, then March 2, 2010", "2010-03-02"),  # no such day: the next date
        ("A magnitude 5.9 earthquake struck on Sunday in 2011", ""),  # a year alone is no date
        ("On December 12 the court ruled", ""),  # no year
    ],
)
def test_dateline_is_the_first_full_date_of_the_first_lines(text: str, iso: str) -> None:
    assert dateline(text) == iso


def test_a_date_deep_in_the_text_is_not_the_articles_date() -> None:
    assert dateline("x" * 500 + " January 5, 2011") == ""


def test_story_features_date_an_article_by_its_first_lines_unless_it_has_a_published_date() -> None:
    text = "Saints place Thomas on IR\nJan 5, 2011\nThe Saints placed Pierre Thomas on injured reserve."
    assert story_features(make_document(text=text)).dated == "2011-01-05"
    assert story_features(make_document(text=text, published="2011-01-06T10:00:00")).dated == "2011-01-06"
    # the publication date, which also sets how far apart two articles are, stays the document's own
    assert story_features(make_document(text=text)).published == ""
    f = story_features(make_document(text=text))
    assert StoryFeatures.from_dict(f.to_dict()) == f


def _signal(name: str, a: StoryFeatures, b: StoryFeatures) -> float:
    return grouping.pair_vector(a, b)[grouping.SIGNALS.index(name)]


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("2011-01-05", "2011-01-09", 1.0),
        ("2011-01-05", "2011-01-05", 1.0),
        ("2011-01-05", "2011-02-05", 0.0),
        ("2008-12-18", "2011-01-05", 0.0),
        ("2011-01-05", "", 0.0),  # one undated: nothing said
        ("", "", 0.0),
    ],
)
def test_dated_close_is_two_articles_dated_within_a_week(a: str, b: str, close: float) -> None:
    fa, fb = StoryFeatures(id="a", dated=a), StoryFeatures(id="b", dated=b)
    assert _signal("dated_close", fa, fb) == _signal("dated_close", fb, fa) == close


@pytest.mark.parametrize(
    ("who_a", "who_b", "other"),
    [
        ((("reggie", "bush"),), (("pierre", "thoma"), ("reggie", "bush")), 1.0),  # Bush named, not the lead
        ((("reggie", "bush"), ("sean", "payton")), (("bush",),), 0.0),  # a surname of the same person
        ((("reggie", "bush"),), (), 0.0),  # no person: nothing said
    ],
)
def test_other_lead_person_is_a_different_person_first(
    who_a: tuple[tuple[str, ...], ...], who_b: tuple[tuple[str, ...], ...], other: float
) -> None:
    fa, fb = StoryFeatures(id="a", who=who_a), StoryFeatures(id="b", who=who_b)
    assert _signal("other_lead_person", fa, fb) == _signal("other_lead_person", fb, fa) == other


BUSH = ("reggie", "bush")
THOMAS = ("pierre", "thoma")


def _group(prefix: str, *whos: tuple[tuple[str, ...], ...]) -> list[StoryFeatures]:
    # Every article names both players: no signature name is missing from the other side.
    return [
        StoryFeatures(id=f"{prefix}{i}", who=who, vocab=("bush", "pierre", "reggie", "saint", "thoma"))
        for i, who in enumerate(whos)
    ]


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        # each group is about its own player, and names the other: two events
        (_group("a", (BUSH,), (BUSH, THOMAS), (BUSH,)), _group("b", (THOMAS, BUSH), (THOMAS,)), True),
        # both about Bush (one article by his surname alone): one event
        (_group("a", (BUSH,), (BUSH, THOMAS)), _group("b", (("bush",), THOMAS), (BUSH,)), False),
        # one side has no lead (half its articles are about someone else): not enough to say
        (_group("a", (BUSH,), (THOMAS,)), _group("b", (THOMAS,), (THOMAS,)), False),
        # one article on a side: not enough to say
        (_group("a", (BUSH,)), _group("b", (THOMAS,), (THOMAS,)), False),
    ],
)
def test_two_events_when_each_group_is_about_a_different_person(
    a: list[StoryFeatures], b: list[StoryFeatures], apart: bool
) -> None:
    assert grouping.two_events(a, b) == grouping.two_events(b, a) == apart


def test_lead_needs_the_share_of_articles() -> None:
    group = _group("a", (BUSH,), (BUSH,), (BUSH,), (THOMAS,))  # 3 of 4 about Bush
    assert grouping.lead(group) == (BUSH if grouping.LEAD_SHARE <= 0.75 else ())
    assert grouping.lead(group[:3]) == BUSH


@pytest.mark.parametrize(("cross", "merged"), [(0.7, False), (0.89, False), (0.95, True)])
def test_two_events_give_way_only_to_very_high_scores(
    cross: float, merged: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grouping, "VETO_BELOW", 0.9)
    a = _group("a", (BUSH,), (BUSH,))
    b = _group("b", (THOMAS,), (THOMAS,))
    assert grouping.two_events(a, b)
    features = {f.id: f for f in a + b}
    ids = sorted(features)
    side = {f.id: f.id[0] for f in a + b}
    edges = {(x, y): 0.99 if side[x] == side[y] else cross for x in ids for y in ids if x < y}
    labels = grouping.cluster(ids, edges, threshold=0.5, features=features)
    assert (len(set(labels.values())) == 1) == merged
