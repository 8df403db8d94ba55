"""The folder watcher: notices complete files and only enqueues (does I/O).

No parsing or hashing happens here. A file written in place is enqueued once its writer
has closed it and its size and mtime have stayed put for `settle` seconds: a writer that
pauses with the file open (half an article, a 2 s pause, the rest) is waited for, however
long the pause (inotify reports the close; where the platform does not, the settle time
alone decides, as it did everywhere before). Temp names (`.part`, `.tmp`, dot-files) are
never picked up. A file renamed into place (`x.part` -> `x.txt`, as producers are asked
to do) is complete already: it goes at the next check (every 50 ms at most), with
whatever else arrived meanwhile. At start-up
a sweep enqueues every file that is new or changed since the ledger last saw it, so
files that arrived while the watcher was down are not missed.

The ledger keeps a record per file while the file is in the folder: at start-up and then
every FORGET_EVERY_S, the records of files an operator has removed from the folder are
dropped (`forget_gone`), so Redis holds what the folder holds (docs/OPERATIONS.md).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import structlog
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from pipeline.redis.ledger import FINAL_STATES, Ledger
from pipeline.sources.files import fingerprint, is_candidate

log = structlog.get_logger("newsflow.watcher")
OFFER_SLICE = 64  # files checked against the ledger at a time before they are enqueued
# A file written to and never closed for this long is taken all the same (a missed close
# event, say an inotify queue overflow): better late than never.
STALLED_S = 600.0
FORGET_EVERY_S = 3600.0  # how often the ledger drops the records of files no longer there
FORGET_SLICE = 500


@dataclass(frozen=True)
class _Pending:
    fingerprint: str
    changed: float  # when it last changed (monotonic)
    renamed: bool = False  # renamed into place: complete
    writing: bool = False  # written to since its writer last closed it


def _reports_closes(observer: object) -> bool:
    """Whether the observer tells when a writer closes a file (inotify's IN_CLOSE_WRITE)."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # not Linux
        return False
    return isinstance(observer, InotifyObserver)


def inside(path: Path, root: Path) -> bool:
    """Whether `path`, links followed, stays inside `root` (links out are not followed)."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def candidate_files(roots: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(file, root) for every file under `roots` the pipeline should read, sorted."""
    found: list[tuple[Path, Path]] = []
    for root in roots:
        if root.is_file():
            found.append((root, root.parent))
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and is_candidate(path) and not _in_hidden_dir(path, root):
                found.append((path, root))
    return found


def _in_hidden_dir(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts[:-1])


def forget_gone(ledger: Ledger, roots: Iterable[Path]) -> int:
    """Drop the ledger records of the files under `roots` that no longer exist and are
    final (done, duplicate, skipped, failed): a file removed from the folder is forgotten,
    and one put back later is new. URLs and files elsewhere are left alone. Returns how
    many records were dropped."""
    roots = [r.absolute() for r in roots]
    gone = [
        record.source
        for record in ledger.all()
        if record.kind == "file"
        and record.state in FINAL_STATES
        and any(Path(record.source).is_relative_to(root) for root in roots)
        and not os.path.lexists(record.source)
    ]
    return sum(len(ledger.forget(gone[at : at + FORGET_SLICE])) for at in range(0, len(gone), FORGET_SLICE))


class FolderWatcher:
    """Watch `roots`; call `enqueue(paths, more=n)` with the new or changed files that settled
    together (the start-up sweep: all it found), so they can travel in batches."""

    def __init__(
        self,
        roots: list[Path],
        *,
        ledger: Ledger,
        enqueue: Callable[..., object],
        reject: Callable[[Path, str], object],
        settle: float = 0.3,
    ) -> None:
        self.roots = [r.absolute() for r in roots]
        self.ledger = ledger
        self.enqueue = enqueue
        self.reject = reject
        self.settle = settle
        self._pending: dict[Path, _Pending] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._observer = Observer()
        self._closes = _reports_closes(self._observer)

    # -- the start-up sweep ------------------------------------------------------
    def sweep(self) -> int:
        """Enqueue files that are new or changed since the ledger last saw them."""
        return self._offer(candidate_files(self.roots))

    # -- live events ---------------------------------------------------------------
    def start(self) -> None:
        handler = _Handler(self._touch)
        for root in self.roots:
            self._observer.schedule(handler, str(root), recursive=True)
        self._observer.start()
        threading.Thread(target=self._settle_loop, name="settle", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._observer.stop()
        self._observer.join(5)

    def run_forever(self) -> None:
        self.start()
        self.sweep()
        forgotten_at = float("-inf")
        try:
            while not self._stop.wait(0.5):
                if time.monotonic() - forgotten_at >= FORGET_EVERY_S:
                    forgotten_at = time.monotonic()
                    self.forget_gone()
        finally:
            self.stop()

    def forget_gone(self) -> int:
        """Drop the ledger records of files removed from the watched folders (logged)."""
        gone = forget_gone(self.ledger, self.roots)
        if gone:
            log.info("forgot removed files", files=gone)
        return gone

    def _touch(self, path: Path, event: str) -> None:
        """Note an event on `path`: "created", "modified", "closed" (by a writer) or "moved"
        (renamed into place)."""
        if not is_candidate(path):
            return
        with self._lock:
            try:
                fp = fingerprint(path)
            except OSError:
                self._pending.pop(path, None)  # gone again (renamed or deleted)
                return
            old = self._pending.get(path)
            now = time.monotonic()
            if event == "moved":
                self._pending[path] = _Pending(fp, now, renamed=True)
            elif event == "closed":
                self._pending[path] = _Pending(fp, now)
            else:  # written to (IN_MODIFY; a chmod is another event): wait for the close
                writing = self._closes and (event == "modified" or (old is not None and old.writing))
                self._pending[path] = _Pending(fp, now, writing=writing)

    def _settle_loop(self) -> None:
        while not self._stop.wait(min(0.05, self.settle / 3)):
            now = time.monotonic()
            ready: list[Path] = []
            with self._lock:
                for path, pending in list(self._pending.items()):
                    try:
                        current = fingerprint(path)
                    except OSError:
                        del self._pending[path]
                        continue
                    quiet = now - pending.changed
                    if current != pending.fingerprint:  # still being written: wait it out
                        self._pending[path] = replace(
                            pending, fingerprint=current, changed=now, renamed=False
                        )
                    elif pending.renamed or (not pending.writing and quiet >= self.settle):
                        ready.append(path)
                        del self._pending[path]
                    elif pending.writing and quiet >= STALLED_S:
                        log.warning(
                            "taking a file still open for writing", path=str(path), quiet_s=round(quiet)
                        )
                        ready.append(path)
                        del self._pending[path]
            if ready:
                self._offer(
                    [(p, next((r for r in self.roots if p.is_relative_to(r)), p.parent)) for p in ready]
                )

    def _offer(self, found: list[tuple[Path, Path]]) -> int:
        """Enqueue those of the (file, root) pairs the ledger has not seen in this version.
        In slices: the first files are on their way to the workers while later ones are checked."""
        offered = 0
        for at in range(0, len(found), OFFER_SLICE):
            wanted = self._wanted(found[at : at + OFFER_SLICE])
            if wanted:  # the rest of the drop still to come keeps these batches full
                self.enqueue(wanted, more=max(0, len(found) - at - OFFER_SLICE))
                log.info("enqueued", files=len(wanted), first=str(wanted[0]))
            offered += len(wanted)
        return offered

    def _wanted(self, found: list[tuple[Path, Path]]) -> list[Path]:
        """The files whose exact version is neither queued nor done (failures: `newsflow retry`)."""
        versions: dict[Path, str] = {}
        for path, root in found:
            if path.is_symlink() and not inside(path, root):
                self.reject(path, "symlink pointing outside the watched folder (not followed)")
                continue
            with contextlib.suppress(OSError):  # gone again: nothing to enqueue
                versions[path] = fingerprint(path)
        records = self.ledger.get_many([str(path) for path in versions])
        return [
            path
            for (path, fp), record in zip(versions.items(), records, strict=True)
            if record is None or record.fingerprint != fp
        ]


class _Handler(FileSystemEventHandler):
    def __init__(self, touch: Callable[..., None]) -> None:
        self.touch = touch

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.touch(Path(str(event.src_path)), "created")

    def on_modified(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.touch(Path(str(event.src_path)), "modified")

    def on_moved(self, event: FileSystemEvent) -> None:
        if not event.is_directory:  # renamed into place: complete (a write after it resets this)
            self.touch(Path(str(event.dest_path)), "moved")

    def on_closed(self, event: FileSystemEvent) -> None:  # closed by a writer (IN_CLOSE_WRITE)
        if not event.is_directory:
            self.touch(Path(str(event.src_path)), "closed")
