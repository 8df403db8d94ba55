"""Reading dropped files into Documents (does I/O).

Decodes any common encoding (BOMs first, then UTF-8, then charset detection), refuses
binary content with a reason, and tells HTML from plain text by content, not by name.
A text file damaged by a few NUL bytes (a bad copy, a crash while it was written) keeps
its text: the NULs are removed and the document carries a note saying so. A plain text
copied out of a page's source keeps its character references ("&ldquo;", "&#8217;"):
they are decoded, with a note, so that quotation marks read as marks; characters that
print as nothing inside words (soft hyphens, zero-width spaces) go, with a note (`as_read`).
"""

from __future__ import annotations

import codecs
import html
import re
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from pipeline.document import Document, Note, content_id
from pipeline.errors import BadInput, SkipDocument

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".html", ".htm", ".xhtml", ""})
URL_LIST_SUFFIX = ".urls"
_HTML_SNIFF = re.compile(rb"^\s*(?:<!doctype html|<html|<head|<body|<\?xml[^>]*>\s*<html)", re.I)
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF")


# A damaged text file holds a few NUL bytes; binary formats (and UTF-16 without a BOM)
# hold them by the hundred. Up to this share of the bytes, they are damage.
_STRAY_NUL_SHARE = 0.01
# Bytes text may hold besides printable ones (tab, newlines, form feed, escape): every
# other byte under 0x20 left after the NULs go says "binary", as NULs would.
_NOT_CONTROL = bytes([9, 10, 11, 12, 13, 27, *range(0x20, 0x100)])
NUL_REPAIR = Note(stage="read_file", error="nul-bytes-removed")
CHAR_REFS_DECODED = Note(stage="read_file", error="character-references-decoded")

# An HTML character reference, named or numbered, with its semicolon.
_CHAR_REF = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Fewer than this, and the references are more likely written about ("use &amp; in …")
# than left over from a page's source.
MIN_CHAR_REFS = 3


INVISIBLES_REMOVED = Note(stage="read_file", error="invisible-characters-removed")
# Characters that print as nothing inside a word, left by a page's hyphenation or layout:
# the soft hyphen, the zero-width space, the word joiner, the zero-width no-break space.
# "Zelen\u00adskiy" is no name a reader or a search would know.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))


def as_read(text: str, raw_format: str) -> tuple[str, tuple[Note, ...]]:
    """`text` as the stages read it, and the notes saying what changed: characters that
    print as nothing removed, and a plain text's HTML character references decoded (a
    page's are the HTML cleaner's to read)."""
    notes: list[Note] = []
    if any(chr(c) in text for c in _INVISIBLE):  # a scan for each is faster than translate
        text = text.translate(_INVISIBLE)
        notes.append(INVISIBLES_REMOVED)
    if raw_format == "text":
        text, decoded = decode_char_refs(text)
        if decoded:
            notes.append(CHAR_REFS_DECODED)
    return text, tuple(notes)


def decode_char_refs(text: str) -> tuple[str, bool]:
    """`text` with its HTML character references decoded ("&rsquo;" -> "’"), and whether
    any were; a text with fewer than MIN_CHAR_REFS is left as it is. Only references
    with their semicolon count: "AT&T" and "R&D" stay."""
    if len(list(islice(_CHAR_REF.finditer(text), MIN_CHAR_REFS))) < MIN_CHAR_REFS:
        return text, False  # (the search stops at the MIN_CHAR_REFS-th)
    decoded = _CHAR_REF.sub(lambda m: html.unescape(m.group()), text)
    return decoded, decoded != text


def strip_stray_nuls(data: bytes) -> tuple[bytes, int]:
    """`data` without the few NUL bytes a damaged text file may hold, and how many there
    were. Left as they are (0): no NULs, many NULs or other control bytes (binary, which
    `decode_bytes` refuses), and UTF-16/32 with a BOM (where NULs are text)."""
    nuls = data.count(b"\x00")
    if not nuls or data.startswith(
        (*_BINARY_MAGIC, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
    ):
        return data, 0
    rest = data.replace(b"\x00", b"")
    controls = len(rest.translate(None, delete=_NOT_CONTROL))
    if nuls > len(data) * _STRAY_NUL_SHARE or controls > len(rest) * _STRAY_NUL_SHARE:
        return data, 0
    return rest, nuls


def fingerprint(path: Path) -> str:
    """Size and modification time: a file whose fingerprint changed is a new version."""
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def is_candidate(path: Path) -> bool:
    """Whether the watcher should hand this file to a worker (by name only)."""
    name = path.name
    if name.startswith((".", "~")) or name.endswith(("~", ".part", ".tmp", ".crdownload", ".swp")):
        return False
    return path.suffix.lower() in TEXT_SUFFIXES or path.suffix.lower() == URL_LIST_SUFFIX


def decode_bytes(data: bytes) -> str:
    """Bytes to text: BOM, then strict UTF-8, then the detected charset; else BadInput."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding)
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data[:4096]:
        raise BadInput("binary content (not a text or HTML file); convert it to text first")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Mostly valid UTF-8 with a few broken bytes (a truncated copy, a bad paste): keep it
    # as UTF-8 and mark the broken bytes, rather than re-reading the whole file as cp1252.
    lenient = data.decode("utf-8", errors="replace")
    broken = lenient.count("\ufffd")
    multibyte = sum(1 for ch in lenient if ord(ch) > 127 and ch != "\ufffd")
    if multibyte and broken <= max(2, len(lenient) // 50):
        return lenient
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise BadInput("undecodable bytes: no text encoding fits; save the file as UTF-8")
    return str(best)


def sniff_format(text: str) -> str:
    """'html' when the content is an HTML page, whatever the file is called."""
    head = text[:2048].encode("utf-8", "ignore")
    if _HTML_SNIFF.search(head) or (text.lstrip().startswith("<") and "</p>" in text.lower()):
        return "html"
    return "text"


def source_for_path(path: Path) -> str:
    return str(path.absolute())


def read_dropped_file(path: Path, *, max_bytes: int) -> Document:
    """Read one dropped file into a Document with a provisional content id."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BadInput(f"file is {size} bytes, over the limit of {max_bytes} (NEWSFLOW_MAX_FILE_BYTES)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise SkipDocument("file vanished before it was read") from None
    except IsADirectoryError:
        raise BadInput("a directory, not a file") from None
    if not data.strip():
        raise BadInput("empty file")
    data, nuls = strip_stray_nuls(data)
    text = decode_bytes(data)
    raw_format = sniff_format(text)
    text, notes = as_read(text, raw_format)
    if not text.strip():
        raise BadInput("empty file")
    return Document(
        id=content_id(text),
        source=source_for_path(path),
        sources=(source_for_path(path),),
        raw_text=text,
        raw_format=raw_format,
        received_at=datetime.now(UTC).isoformat(timespec="seconds"),
        notes=((NUL_REPAIR,) if nuls else ()) + notes,
    )


def read_url_list(path: Path) -> list[str]:
    """The URLs in a `*.urls` file: one per line, blank lines and # comments ignored."""
    text = decode_bytes(path.read_bytes())
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
