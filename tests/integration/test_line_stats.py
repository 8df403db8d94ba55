"""Per-outlet line counts in a private real Redis: a line repeated across an outlet's pages goes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from pipeline.redis.line_stats import LineStats
from pipeline.redis.retention import DAY_S, Retention
from pipeline.stages.clean import CleanOptions, clean_boilerplate
from tests.conftest import Clock
from tests.factories import make_document
from workers.local import PrivateRedis

pytestmark = pytest.mark.integration

FOOTER = (
    "The Daily Example depends on its readers, and every story we publish is checked "
    "by two editors before it goes online, whatever the hour."
)


def article(n: int) -> str:
    body = [
        f"Story number {n} begins here: the council met on Tuesday to discuss the budget for the "
        "coming year, and the debate went on late into the evening.",
        "Members argued over the cost of repairing the town's roads, which have been damaged by "
        f"the floods of last winter, and over {n} new buses for the routes to the station.",
        "The council's leader said that a final decision would be taken next month, after the "
        "residents had been asked for their views in a public consultation.",
    ]
    return "\n".join(["Council debates budget", body[0], FOOTER, body[1], body[2]])


@pytest.fixture
def stats(tmp_path: Path) -> Iterator[LineStats]:
    server = PrivateRedis(tmp_path)
    url = server.start()
    try:
        yield LineStats(redis.Redis.from_url(url))
    finally:
        server.stop()


def test_a_line_seen_in_earlier_documents_of_the_outlet_is_removed(stats: LineStats) -> None:
    options = CleanOptions(repeat_share=0.5, repeat_min_docs=3)
    texts = []
    for n in range(5):
        doc = make_document(raw_text=article(n), outlet="example.org")
        texts.append(clean_boilerplate(doc, options=options, line_stats=stats).text)
    assert all(FOOTER in t for t in texts[:3])  # not yet seen often enough
    assert all(FOOTER not in t for t in texts[3:])
    assert all("the council met on Tuesday" in t for t in texts)
    assert stats.documents("example.org") == 5


def test_another_outlet_and_a_redelivered_document_do_not_count(stats: LineStats) -> None:
    options = CleanOptions(repeat_share=0.5, repeat_min_docs=2)
    for n in range(3):
        doc = make_document(raw_text=article(0), outlet="example.org")  # the same document 3 times
        clean_boilerplate(doc, options=options, line_stats=stats)
        clean_boilerplate(
            make_document(raw_text=article(n), outlet="other.example"), options=options, line_stats=stats
        )
    assert stats.documents("example.org") == 1
    fresh = clean_boilerplate(
        make_document(raw_text=article(9), outlet="example.org"), options=options, line_stats=stats
    )
    assert FOOTER in fresh.text


def test_counts_cover_two_windows_and_older_ones_go(client: redis.Redis, clock: Clock) -> None:
    """Lines are counted per retention window: a footer learned in one window is still
    furniture in the next, and the counts of the window before last are deleted, with
    the all-time counts versions before kept, so they grow with two windows at most.
    Which documents were counted is kept for redelivery only: two days at most."""
    stats = LineStats(client, prefix="t:lines", retention=Retention(window_s=30 * DAY_S, clock=clock))
    options = CleanOptions(repeat_share=0.5, repeat_min_docs=3)

    def clean(n: int) -> str:
        doc = make_document(raw_text=article(n), outlet="example.org")
        return clean_boilerplate(doc, options=options, line_stats=stats).text

    client.hset("t:lines:example.org:lines", "0123456789abcdef", 7)  # a version before's
    client.sadd("t:lines:example.org:docs", "old")
    assert all(FOOTER in clean(n) for n in range(3))  # learned in the first window
    clock.now += 30 * DAY_S
    assert FOOTER not in clean(3)  # the window before still counts
    assert not client.exists("t:lines:example.org:lines", "t:lines:example.org:docs")
    first = set(client.scan_iter("t:lines:example.org:*"))
    clock.now += 30 * DAY_S
    clean(4)
    clock.now += 30 * DAY_S
    assert FOOTER in clean(5)  # two windows without it: learned again from scratch
    left = set(client.scan_iter("t:lines:example.org:*"))
    seen = {k for k in left if b":seen" in k}  # who was counted: a day's, expiring in two
    assert not (first & left) - seen
    assert all(0 < client.ttl(k) <= 60 * DAY_S for k in left - seen)
    assert all(0 < client.ttl(k) <= 2 * DAY_S for k in seen)
    assert stats.documents("example.org") == 2


def test_a_document_is_counted_once_within_a_day_not_remembered_for_the_window(
    client: redis.Redis, clock: Clock
) -> None:
    """A message delivered again within a day (`Retention.redelivery_s`) is not counted
    again; the period keeps a count of its documents, not their keys."""
    stats = LineStats(client, prefix="t:lines", retention=Retention(window_s=30 * DAY_S, clock=clock))
    lines = article(1).split("\n")
    stats.observe("example.org", "doc-1", lines, share=0.5, min_docs=3)
    clock.now += 20 * 3600
    stats.observe("example.org", "doc-1", lines, share=0.5, min_docs=3)  # delivered again
    assert stats.documents("example.org") == 1
    clock.now += 3 * DAY_S
    stats.observe("example.org", "doc-2", lines, share=0.5, min_docs=3)
    assert stats.documents("example.org") == 2
    sets = [k for k in client.scan_iter("t:lines:example.org:*") if client.type(k) == b"set"]
    assert sets == [f"t:lines:example.org:seen:{int(clock.now // DAY_S)}".encode()]  # doc-1's days went
