"""Bad input through the real pipeline: each case is processed correctly or fails with a
clear reason in `newsflow failed` / `newsflow sources`; nothing is lost."""

from __future__ import annotations

import codecs
import http.server
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Newsflow, wait_for

pytestmark = pytest.mark.integration

ARTICLE = (
    "NATO Secretary General Mark Rutte said on Tuesday that Russia was not interested in peace, "
    "and that allies must send more air defence systems to Ukraine before the winter.\n\n"
    "Ukraine’s foreign minister Andrii Sybiha said his country needed “another 20 air defence "
    "systems” to protect its power grid from Russian strikes, according to officials in Brussels.\n"
)
GERMAN = (
    "Der NATO-Generalsekretär Mark Rutte sagte am Dienstag, Russland sei nicht an Frieden "
    "interessiert. Die Verbündeten müssten der Ukraine vor dem Winter mehr Luftabwehrsysteme "
    "schicken, sagte er in Brüssel vor Journalisten.\n"
)


def _on(day: str) -> str:
    return ARTICLE.replace("Tuesday", day)


def _cases(inbox: Path, outside: Path) -> dict[str, tuple[str, str]]:
    """file name -> (expected state, a word the reason must contain or the text must keep)."""
    (inbox / "empty.txt").write_bytes(b"")
    (inbox / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (inbox / "report.pdf.txt").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8)
    (inbox / "huge.txt").write_text(ARTICLE * 400, encoding="utf-8")
    (inbox / "latin1.txt").write_bytes(
        ARTICLE.replace("’", "'").replace("“", '"').replace("”", '"').replace("air", "aír").encode("latin-1")
    )
    (inbox / "cp1252.txt").write_bytes(ARTICLE.encode("cp1252"))
    # Each readable file says something different, so none is a duplicate of another.
    (inbox / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + _on("Thursday").encode("utf-16-le"))
    (inbox / "broken-utf8.txt").write_bytes(_on("Saturday").encode("utf-8") + b"\xff\xfe tail.\n")
    (inbox / "page.txt").write_text(
        "<!DOCTYPE html><html><head><title>Rutte warns</title></head><body><nav>Home | World</nav>"
        "<article><p>" + _on("Sunday").replace("\n\n", "</p><p>") + "</p></article></body></html>",
        encoding="utf-8",
    )
    (inbox / "german.txt").write_text(GERMAN * 2, encoding="utf-8")
    # A text file damaged by a stray NUL byte (a bad copy): not a binary.
    damaged = _on("Wednesday").encode("utf-8").replace(b" said", b" said\x00", 1)
    (inbox / "nul-damaged.txt").write_bytes(damaged)
    (inbox / 'Zelenskiy\'s "notes" – Київ.txt').write_text(
        ARTICLE.replace("Tuesday", "Monday"), encoding="utf-8"
    )
    (outside / "secret.txt").write_text(ARTICLE.replace("Tuesday", "Friday"), encoding="utf-8")
    os.symlink(outside / "secret.txt", inbox / "link-out.txt")
    return {
        "empty.txt": ("failed", "empty"),
        "photo.txt": ("failed", "binary"),
        "report.pdf.txt": ("failed", "binary"),
        "huge.txt": ("failed", "limit"),
        "latin1.txt": ("done", "aír defence"),
        "cp1252.txt": ("done", "“another 20"),
        "utf16.txt": ("done", "Thursday"),
        "broken-utf8.txt": ("done", "Saturday"),
        "page.txt": ("done", "Sunday"),
        "german.txt": ("done", "Luftabwehrsysteme"),
        "nul-damaged.txt": ("done", "Wednesday"),
        'Zelenskiy\'s "notes" – Київ.txt': ("done", "Monday"),
        "link-out.txt": ("failed", "symlink"),
    }


def test_every_bad_input_is_processed_or_fails_with_a_reason(newsflow: Newsflow, tmp_path: Path) -> None:
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    expected = _cases(inbox, outside)
    newsflow.env["NEWSFLOW_MAX_FILE_BYTES"] = "100000"
    result = newsflow("run", str(inbox), check=False)
    assert result.returncode == 1  # some inputs failed, and the run says so

    records = {Path(r["source"]).name: r for r in newsflow.json_lines("sources")}
    assert set(records) == set(expected)  # nothing lost, nothing extra
    failures = {Path(r["source"]).name: r for r in newsflow.json_lines("failed")}
    for name, (state, word) in expected.items():
        record = records[name]
        assert record["state"] == state, (name, record)
        if state == "failed":
            assert word in record["reason"], (name, record["reason"])
            assert {"id", "source", "stage", "reason", "attempts"} <= set(failures[name])
            assert (inbox / name).exists() or (inbox / name).is_symlink()  # kept on disk
        else:
            doc = newsflow.json_lines("show", record["document"])[0]
            assert word in doc["text"], (name, doc["text"][:300])
    page = newsflow.json_lines("show", records["page.txt"]["document"])[0]
    assert page["raw_format"] == "html"
    assert "<p>" not in page["text"]
    damaged = newsflow.json_lines("show", records["nul-damaged.txt"]["document"])[0]
    assert {"stage": "read_file", "error": "nul-bytes-removed"} in damaged["notes"]
    german = newsflow.json_lines("show", records["german.txt"]["document"])[0]
    assert german["language"] == "de"
    assert german["entities"] == []  # English NER is not run on German


def test_a_failed_input_can_be_fixed_and_retried(stack: Newsflow, tmp_path: Path) -> None:
    late = tmp_path / "late.txt"
    late.write_bytes(b"")
    stack("submit", str(late))
    [failure] = wait_for(lambda: stack.json_lines("failed"), timeout=60)
    assert failure["reason"].startswith("BadInput")
    assert failure["source"] == str(late)
    late.write_text(ARTICLE, encoding="utf-8")
    assert "retrying 1" in stack("retry", failure["id"]).stdout
    wait_for(lambda: [r["state"] for r in stack.json_lines("sources")] == ["done"], timeout=60)
    assert stack.json_lines("failed") == []
    assert "no failed" in stack("failed").stdout


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/article":
            body = (
                "<html><head><title>Rutte warns</title></head><body><article><p>"
                + ARTICLE.replace("\n\n", "</p><p>")
                + "</p></article></body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        else:
            body = b"not here"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_urls_are_fetched_when_allowed_and_refused_by_default(
    newsflow: Newsflow, site: str, tmp_path: Path
) -> None:
    urls = tmp_path / "list.urls"
    urls.write_text(f"# two pages\n{site}/article\n{site}/missing\n", encoding="utf-8")
    refused = newsflow("run", f"{site}/article", check=False)
    assert refused.returncode == 1
    assert "refused" in refused.stdout

    newsflow.env["NEWSFLOW_ALLOW_PRIVATE_URLS"] = "true"
    newsflow("run", str(urls), check=False)
    states = {r["source"]: r for r in newsflow.json_lines("sources")}
    assert states[f"{site}/article"]["state"] == "done"
    assert states[f"{site}/missing"]["state"] == "failed"
    assert "404" in states[f"{site}/missing"]["reason"]
    hit = wait_for(lambda: newsflow.json_lines("search", "Sybiha"), timeout=10)[0]
    assert hit["sources"] == [f"{site}/article"]


def test_a_file_deleted_or_rewritten_while_queued(tmp_path: Path, private_redis: str) -> None:
    from config.settings import Settings
    from workers.local import WorkerProcesses

    cli = Newsflow(tmp_path / "home", {"NEWSFLOW_REDIS_URL": private_redis})
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "deleted.txt").write_text(ARTICLE, encoding="utf-8")
    (inbox / "rewritten.txt").write_text(ARTICLE, encoding="utf-8")
    cli("submit", str(inbox))  # no worker is running yet: both wait in the queue
    (inbox / "deleted.txt").unlink()
    (inbox / "rewritten.txt").write_text(ARTICLE.replace("Tuesday", "Wednesday"), encoding="utf-8")
    pool = WorkerProcesses(
        Settings(home=cli.home, redis_url=private_redis), private_redis, concurrency=1, env=cli.env
    )
    pool.start()
    try:
        wait_for(
            lambda: {r["state"] for r in cli.json_lines("sources")} <= {"done", "skipped", "failed"},
            timeout=120,
        )
    finally:
        pool.stop()
    states = {Path(r["source"]).name: r for r in cli.json_lines("sources")}
    assert states["deleted.txt"]["state"] == "skipped"
    assert "vanished" in states["deleted.txt"]["reason"]
    assert states["rewritten.txt"]["state"] == "done"
    doc = cli.json_lines("show", states["rewritten.txt"]["document"])[0]
    assert "Wednesday" in doc["text"]  # what is read is what is on disk when its turn comes


def test_retry_on_the_embedded_default_processes_the_input_here(newsflow: Newsflow, tmp_path: Path) -> None:
    late = tmp_path / "late.txt"
    late.write_bytes(b"")
    assert newsflow("run", str(late), check=False).returncode == 1
    [failure] = newsflow.json_lines("failed")
    late.write_text(ARTICLE, encoding="utf-8")
    result = newsflow("retry", failure["id"])  # no worker runs: it must not just queue it
    assert "processed 1" in result.stdout, result.stdout + result.stderr
    [record] = newsflow.json_lines("sources")
    assert record["state"] == "done"
    assert "Sybiha" in newsflow.json_lines("show", record["document"])[0]["text"]


def test_worker_on_the_embedded_default_serves_the_private_redis(newsflow: Newsflow, tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    worker = newsflow.popen("worker")
    try:
        wait_for(lambda: (newsflow.home / "redis" / "url").exists(), timeout=60)
        newsflow("submit", str(article))
        wait_for(lambda: [r["state"] for r in newsflow.json_lines("sources")] == ["done"], timeout=120)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=60)
    assert "localhost:6379" not in output
    assert not (newsflow.home / "redis" / "url").exists()  # the Redis it started stopped with it
