"""The ledger and the per-outlet line counts on a real private Redis: a source's record
changes in one step, so concurrent writers never drop each other's changes, and a
Redis that goes away is a TransientError naming the store (which tasks retry and the
command line explains), never a raw client error."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import redis

from config.settings import Settings
from pipeline.errors import TransientError
from pipeline.redis.ledger import Ledger
from pipeline.redis.line_stats import LineStats
from workers.cli_problems import explain
from workers.local import PrivateRedis

pytestmark = pytest.mark.integration


def test_marking_keeps_every_field_it_does_not_set(private_redis: str) -> None:
    ledger = Ledger(redis.Redis.from_url(private_redis))
    ledger.mark("a.txt", "queued", fingerprint="10:20")
    ledger.mark("a.txt", "failed", reason="BadInput: empty", stage="clean")
    record = ledger.mark("a.txt", "processing")
    assert (record.fingerprint, record.reason, record.stage) == ("10:20", "BadInput: empty", "clean")
    done = ledger.mark("a.txt", "done", document="d1")
    assert (done.state, done.document, done.reason, done.stage) == ("done", "d1", "", "")
    assert ledger.get("a.txt") == done
    assert ledger.find(done.id) == done


def test_concurrent_retries_and_marks_lose_nothing(private_redis: str) -> None:
    """Workers note retries of one source while another marks it: every retry counts and
    the marker's fields stay (a read-then-write ledger loses some of either)."""
    url = private_redis
    Ledger(redis.Redis.from_url(url)).mark("a.txt", "queued", fingerprint="0")
    threads, retries = 4, 150

    def note() -> None:
        ledger = Ledger(redis.Redis.from_url(url))
        for _ in range(retries):
            ledger.note_retry("a.txt", reason="TransientError: the index went away")

    def mark() -> None:
        ledger = Ledger(redis.Redis.from_url(url))
        for n in range(retries):
            ledger.mark_many("processing", {"a.txt": {"fingerprint": str(n)}})

    workers = [threading.Thread(target=note) for _ in range(threads)] + [threading.Thread(target=mark)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    record = Ledger(redis.Redis.from_url(url)).get("a.txt")
    assert record is not None
    assert record.attempts == threads * retries
    assert (record.state, record.fingerprint) == ("processing", str(retries - 1))


def test_a_redis_gone_away_is_a_transient_error_naming_the_store(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path)
    url = server.start()
    client = redis.Redis.from_url(url, socket_timeout=2)
    ledger, lines = Ledger(client), LineStats(client)
    ledger.mark("a.txt", "queued")
    server.stop()
    calls = {
        "get": lambda: ledger.get("a.txt"),
        "mark": lambda: ledger.mark("a.txt", "done"),
        "note_retry": lambda: ledger.note_retry("a.txt", reason="x"),
        "counts": ledger.counts,
        "doc_sources": lambda: ledger.doc_sources(["d1"]),
    }
    for name, call in calls.items():
        with pytest.raises(TransientError, match="the ledger unavailable") as caught:
            call()
        assert isinstance(caught.value.__cause__, redis.ConnectionError), name
    with pytest.raises(TransientError, match="the line counts unavailable"):
        lines.observe("example.org", "d1", ["a line"], share=0.5, min_docs=2)

    settings = Settings(redis_url=url)
    with pytest.raises(TransientError) as caught:
        ledger.counts()
    line = explain(caught.value, settings)  # what `newsflow status` prints
    assert line.startswith(f"Redis at {url} is unreachable"), line


# ------------------------------------------------------------- files removed from the folder
def test_the_records_of_files_removed_from_the_folder_are_dropped_and_the_rest_kept(
    private_redis: str, tmp_path: Path
) -> None:
    """Redis holds what the folder holds: a file an operator removed loses its record, its
    id and its place among its document's sources; files still there, files queued or
    processing, URLs and files outside the folder keep theirs."""
    from workers.watcher import forget_gone

    client = redis.Redis.from_url(private_redis)
    ledger = Ledger(client)
    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    (inbox / "sub").mkdir(parents=True)
    elsewhere.mkdir()
    kept, removed, copy = inbox / "kept.txt", inbox / "sub" / "removed.txt", inbox / "copy.txt"
    queued, outside = inbox / "queued.txt", elsewhere / "outside.txt"
    for path in (kept, removed, copy, queued, outside):
        path.write_text("text")
    ledger.mark(str(kept), "done", document="d1")
    ledger.mark(str(removed), "done", document="d2")
    ledger.mark(str(copy), "duplicate", document="d2")
    ledger.mark(str(queued), "queued")
    ledger.mark(str(outside), "failed", reason="BadInput: empty")
    ledger.mark("https://example.org/a", "done", document="d3", kind="url")
    ledger.add_doc_sources([("d1", str(kept)), ("d2", str(removed)), ("d2", str(copy))])
    removed_id = ledger.get(str(removed)).id  # type: ignore[union-attr]
    for path in (removed, copy, queued, outside):
        path.unlink()

    assert forget_gone(ledger, [inbox]) == 2  # removed.txt and copy.txt

    assert ledger.get(str(removed)) is None
    assert ledger.get(str(copy)) is None
    assert ledger.find(removed_id) is None
    assert ledger.doc_sources(["d1", "d2"]) == [[str(kept)], []]
    assert not client.exists("newsflow:doc-sources:d2")  # nothing left behind for d2
    assert ledger.get(str(kept)).state == "done"  # type: ignore[union-attr]
    assert ledger.get(str(queued)).state == "queued"  # type: ignore[union-attr]
    assert ledger.get(str(outside)).state == "failed"  # type: ignore[union-attr]
    assert ledger.get("https://example.org/a").state == "done"  # type: ignore[union-attr]
    assert forget_gone(ledger, [inbox]) == 0


def test_only_final_records_are_dropped(private_redis: str) -> None:
    """A file put back and queued again since the folder was listed keeps its record; a
    source the ledger never saw is nothing to drop."""
    ledger = Ledger(redis.Redis.from_url(private_redis))
    ledger.mark("/in/a.txt", "done", document="d1")
    ledger.mark("/in/b.txt", "done", document="d1")
    ledger.mark("/in/a.txt", "queued")  # put back meanwhile
    assert ledger.forget(["/in/a.txt", "/in/b.txt", "/in/never-seen.txt"]) == ["/in/b.txt"]
    assert ledger.get("/in/a.txt").state == "queued"  # type: ignore[union-attr]
