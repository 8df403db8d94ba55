"""Reading dropped files: any common encoding, HTML by content, clear errors for the rest."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from pipeline.errors import BadInput, SkipDocument
from pipeline.sources.files import decode_bytes, is_candidate, read_dropped_file, sniff_format

TEXT = "Zelenskiy met Rutte in Kyiv – “we need more”, café."


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.encode("utf-16"),  # with BOM
        TEXT.encode("cp1252"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "windows-1252"],
)
def test_common_encodings_decode_to_the_same_text(data: bytes) -> None:
    assert decode_bytes(data) == TEXT


def test_a_few_invalid_utf8_bytes_are_replaced_and_the_rest_kept() -> None:
    text = decode_bytes(TEXT.encode("utf-8") + b" broken \xff\xfe bytes")
    assert text.startswith(TEXT)
    assert "\ufffd" in text


def test_latin1_text_decodes() -> None:
    text = "Le ministre a déclaré à Bruxelles que la paix était loin. " * 3
    assert decode_bytes(text.encode("latin-1")) == text


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"abc\x00\x00def"],
    ids=["pdf", "png", "nul-bytes"],
)
def test_binary_content_is_refused_with_a_reason(data: bytes) -> None:
    with pytest.raises(BadInput, match="binary"):
        decode_bytes(data)


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("<!DOCTYPE html><html><body><p>Hi</p></body></html>", "html"),
        ("  <html lang='en'><head><title>x</title></head></html>", "html"),
        ("<div><p>Saved fragment</p></div>", "html"),
        ("World\n\nNATO chief says <not a tag> things.", "text"),
    ],
)
def test_html_is_recognised_by_content(text: str, fmt: str) -> None:
    assert sniff_format(text) == fmt


@pytest.mark.parametrize(
    ("name", "wanted"),
    [
        ("a.txt", True),
        ("a.html", True),
        ("list.urls", True),
        ("README", True),
        ("a.txt.part", False),
        (".hidden.txt", False),
        ("a.tmp", False),
        ("photo.jpg", False),
        ("~lock.txt", False),
    ],
)
def test_the_watcher_takes_text_html_and_url_lists_but_not_temp_files(name: str, wanted: bool) -> None:
    assert is_candidate(Path(name)) is wanted


def test_reading_a_file_records_its_path_as_a_source(tmp_path: Path) -> None:
    path = tmp_path / "an article.txt"
    path.write_text(TEXT, encoding="utf-8")
    doc = read_dropped_file(path, max_bytes=10_000)
    assert doc.raw_text == TEXT
    assert doc.sources == (str(path.absolute()),)
    assert doc.raw_format == "text"


@pytest.mark.parametrize(
    ("content", "limit", "reason"),
    [(b"", 100, "empty"), (b"   \n\n ", 100, "empty"), (b"x" * 200, 100, "over the limit")],
)
def test_unusable_files_fail_with_a_reason(tmp_path: Path, content: bytes, limit: int, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(BadInput, match=reason):
        read_dropped_file(path, max_bytes=limit)


def test_a_file_deleted_before_it_is_read_is_skipped(tmp_path: Path) -> None:
    with pytest.raises(SkipDocument):
        read_dropped_file(tmp_path / "gone.txt", max_bytes=100)


@pytest.mark.parametrize(
    ("data", "kept"),
    [
        (("Rutte said on Tuesday that allies must act. " * 20).encode() + b"\x00\x00\x00", "must act."),
        (b"Damaged in the \x00middle of a line. " + b"Then the article goes on. " * 30, "the middle of a"),
        ("Zelenskiy met Rutte in Kyiv, caf\u00e9. ".encode("cp1252") * 30 + b"\x00", "caf\u00e9"),
    ],
    ids=["nuls-at-the-end", "nul-inside-lines", "nul-in-cp1252"],
)
def test_a_text_file_with_a_few_nul_bytes_keeps_its_text_and_notes_the_repair(
    tmp_path: Path, data: bytes, kept: str
) -> None:
    path = tmp_path / "damaged.txt"
    path.write_bytes(data)
    doc = read_dropped_file(path, max_bytes=100_000)
    assert kept in doc.raw_text
    assert "\x00" not in doc.raw_text
    assert [(n.stage, n.error) for n in doc.notes] == [("read_file", "nul-bytes-removed")]


def test_utf16_text_keeps_its_nul_bytes_and_gets_no_repair_note(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_bytes(TEXT.encode("utf-16"))
    doc = read_dropped_file(path, max_bytes=10_000)
    assert doc.raw_text == TEXT
    assert doc.notes == ()


def test_a_text_copied_from_a_page_source_has_its_character_references_decoded(tmp_path: Path) -> None:
    path = tmp_path / "copied.txt"
    path.write_text(
        "Rutte told reporters: &ldquo;Putin is not interested in peace.&rdquo;\n\n"
        "He added that Kyiv&#8217;s allies &amp; partners must do more.\n",
        encoding="utf-8",
    )
    doc = read_dropped_file(path, max_bytes=10_000)
    assert "“Putin is not interested in peace.”" in doc.raw_text
    assert "Kyiv’s allies & partners" in doc.raw_text
    assert doc.raw_format == "text"
    assert [(n.stage, n.error) for n in doc.notes] == [("read_file", "character-references-decoded")]


@pytest.mark.parametrize(
    "text",
    [
        "AT&T and R&D budgets rose; Q&A sessions followed. " * 5,  # ampersands, no references
        # two references, written about rather than left over
        "In HTML, write &amp; for an ampersand and &lt; for a bracket. The guide goes on to tables.",
    ],
)
def test_a_text_with_few_or_no_character_references_is_read_as_written(tmp_path: Path, text: str) -> None:
    path = tmp_path / "plain.txt"
    path.write_text(text, encoding="utf-8")
    doc = read_dropped_file(path, max_bytes=10_000)
    assert doc.raw_text == text
    assert doc.notes == ()


@pytest.mark.parametrize(
    ("name", "content"), [("page.txt", "{}"), ("page.html", "<html><body><p>{}</p></body></html>")]
)
def test_characters_that_print_as_nothing_inside_words_are_removed_with_a_note(
    tmp_path: Path, name: str, content: str
) -> None:
    sentence = "Zelen\u00adskiy met the secre\u00adtary general in Ky\u200biv on Tues\u2060day."
    path = tmp_path / name
    path.write_text(content.format(sentence), encoding="utf-8")
    doc = read_dropped_file(path, max_bytes=10_000)
    assert "Zelenskiy met the secretary general in Kyiv on Tuesday." in doc.raw_text
    assert [(n.stage, n.error) for n in doc.notes] == [("read_file", "invisible-characters-removed")]
