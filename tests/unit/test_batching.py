"""How files that arrive together are split into task batches, and when a batch skips the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.write import WriteBreaker
from workers.tasks import batch_sizes, split_by_bytes


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 31, 500, 2001])
def test_every_file_travels_once_and_no_batch_exceeds_the_size(n: int) -> None:
    sizes = batch_sizes(n, 8, 2)
    assert sum(sizes) == n
    assert all(1 <= s <= 8 for s in sizes)


def test_a_lone_file_is_a_batch_of_one() -> None:
    assert batch_sizes(1, 8, 2) == [1]


def test_a_big_drop_goes_in_full_batches_then_ever_smaller_ones() -> None:
    sizes = batch_sizes(500, 8, 2)
    assert sizes == sorted(sizes, reverse=True)  # never bigger after smaller
    assert sizes[:55] == [8] * 55  # most of the drop: full batches
    assert sizes[-3:] == [1, 1, 1]  # the end spreads over the pool processes


def test_more_workers_means_smaller_batches_sooner() -> None:
    few, many = batch_sizes(64, 8, 2), batch_sizes(64, 8, 8)
    assert len(many) > len(few)


def test_a_drop_queued_in_slices_shrinks_its_batches_only_at_the_end_of_the_drop() -> None:
    # The watcher checks a drop of 200 files against the ledger 64 at a time.
    slices = [
        batch_sizes(64, 8, 2, more=136),
        batch_sizes(64, 8, 2, more=72),
        batch_sizes(64, 8, 2, more=8),
        batch_sizes(8, 8, 2),
    ]
    assert slices[:2] == [[8] * 8, [8] * 8]
    assert slices[3][-1] == 1
    assert sum(map(sum, slices)) == 200
    assert batch_sizes(64, 8, 2, more=136) != batch_sizes(64, 8, 2)  # alone, 64 would shrink


def test_after_a_failed_inline_write_batches_skip_the_index_for_the_pause_then_try_again() -> None:
    now = [100.0]
    breaker = WriteBreaker(pause_s=30, clock=lambda: now[0])
    assert not breaker.is_open()
    breaker.trip()
    now[0] = 129.9
    assert breaker.is_open()
    now[0] = 130.0
    assert not breaker.is_open()
    breaker.trip()  # failed again: another pause from now
    now[0] = 159.0
    assert breaker.is_open()


def test_big_files_travel_in_batches_no_bigger_than_one_allowed_file(tmp_path: Path) -> None:
    """A drop of 1 MB files must not become one batch of 16 MB: the task time limit is
    measured for one file at the size limit, and covers the whole batch."""
    sizes = [600, 500, 100, 300, 2000, 50, 50]
    paths = []
    for i, size in enumerate(sizes):
        paths.append(tmp_path / f"f{i}.txt")
        paths[-1].write_bytes(b"x" * size)
    runs = split_by_bytes(paths, 1000)
    assert [p for run in runs for p in run] == paths  # all of them, in order
    in_bytes = [[sizes[paths.index(p)] for p in run] for run in runs]
    assert in_bytes == [[600], [500, 100, 300], [2000], [50, 50]]
    small = split_by_bytes(paths[5:], 1000)
    assert small == [paths[5:]]  # usual articles stay together
