"""The outlet a plain-text page names itself by, read from its own furniture (pure).

Text copied out of a web page carries no site name field, but the page's furniture
usually says whose page it is, in a handful of general shapes:

    © 2024 The Independent. All rights reserved.      (a copyright line)
    Follow Sky News on Facebook and X                 (a social prompt)
    Read more from Sky News:                          (a "more from" label)
    Kim Barker is a reporter for The New York Times.  (an author bio)
    The Independent is trusted by Americans…          (the site's own appeal)
    LONDON (Reuters) - Nato pledged…                  (a wire service's dateline)
    Nato pledges more aid | World News                (the title line, "Headline | Site")
    The Irish Times                                   (a footer: the page's last line)

Each shape found is a vote for the name it holds; the name with the most votes wins,
ties going to the stronger shape. No vote, no outlet: the empty string.

Only an outlet's name is evidence, and a function word ("In", "The") is no name. The
shapes with a cue of their own (a copyright sign, "Follow … on", "more from", "a
reporter for", "… is trusted by", a dateline's wire credit, a title's "|") vote for
any name. A title's tail after a dash and a page's last line vote only for a name that
reads as an outlet's (`looks_like_outlet`: "World News", "NJ.com", "Reuters") or, for
the tail, one the page also shows on a line of its own (a masthead): a dash is also a
hyphen ("Hit - and - Run, Driver Charged" in text rebuilt from tokens) and a headline's
last words ("Stars - In Rehab") are no site.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter

from pipeline.cleaning import patterns as pat

# A name as sites write their own: capitalised words ("Sky News", "The Irish Times",
# "NJ.com", "BBC"), possibly joined by "&", "of", "and" or "on" ("Dow Jones & Company").
_WORD = r"[A-Z][\w&'’-]*(?:\.\w+)*"
_NAME = rf"(?:The |the )?{_WORD}(?: (?:&|of|and|on|{_WORD})){{0,4}}"
_YEARS = r"\d{4}(?:[ \t]*[-–][ \t]*\d{4})?"  # "2024", "2019-2024"
_SOCIAL = r"(?:Facebook|Twitter|X|Instagram|YouTube|LinkedIn|TikTok|Threads|Bluesky|WhatsApp|Telegram)"
_JOBS = ("reporter", "writer", "correspondent", "editor", "contributor", "columnist", "journalist")

# (shape, substrings one of which a line must hold, pattern with the name as group
# "name", strength: breaks ties). The substrings keep the regexes off most lines.
_SHAPES: tuple[tuple[str, tuple[str, ...], re.Pattern[str], int], ...] = (
    (
        "copyright",
        ("©", "(c)", "copyright"),
        re.compile(
            rf"(?:©|\(c\)|Copyright)[ \t]*(?:(?:©|Copyright)[ \t]*)?"
            rf"(?:(?P<year>{_YEARS})[ \t]*[,.]?[ \t]*)?(?:by[ \t]+)?(?P<name>{_NAME})"
        ),
        5,
    ),
    ("social", ("follow ",), re.compile(rf"^Follow (?P<name>{_NAME}) on {_SOCIAL}\b"), 4),
    ("more from", ("ore from ",), re.compile(rf"^(?:Read )?[Mm]ore from (?P<name>{_NAME}):?$"), 3),
    (
        "bio",
        _JOBS,
        re.compile(rf"\bis an? (?:[\w-]+ ){{0,3}}(?:{'|'.join(_JOBS)}) (?:for|at|with|to) (?P<name>{_NAME})"),
        3,
    ),
    ("appeal", pat.APPEAL_STEMS, re.compile(rf"(?:^|[.!?,] )(?P<name>The {_WORD}(?: {_WORD}){{0,3}}) is "),
     2),
)  # fmt: skip
# A wire service's credit in a dateline: "LONDON (Reuters) -", "(AP) —".
_WIRES = {"AP": "Associated Press", "Reuters": "Reuters", "AFP": "AFP", "UPI": "UPI", "PA": "PA Media"}
_WIRE_DATELINE = re.compile(
    rf"^(?:[A-Z][\w.'’-]*(?:,? [A-Z][\w.'’-]*){{0,4}} )?\((?P<name>{'|'.join(_WIRES)})\) ?[-–—]"
)
_TITLE_SEPARATOR = re.compile(r"\s(?:\||-|–|—|::)\s")
_FOOTER = re.compile(rf"^The(?: {_WORD}){{1,4}}$")
# Capitalised words that start a sentence or a label, not a name.
_NOT_NAMES = frozenset(["The", "This", "That", "Our", "We", "You", "It", "Read", "More", "All", "Share"])


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that make a name an outlet's ("The Irish Times", "Sky News", "Hawaii News Now")...
_OUTLET_WORDS = _words("""news times post journal herald tribune telegraph guardian gazette daily mail
    express press magazine weekly radio tv television network broadcasting chronicle observer
    independent examiner star sun mirror standard courier dispatch inquirer enquirer monitor globe
    insider reporter record register bulletin wire media online today review week channel sentinel
    newspaper newspapers times-picayune""")
# ...and outlets known by a name without such a word.
_KNOWN_OUTLETS = _words("""reuters afp ap upi bbc cnn cnbc msnbc npr pbs abc cbs nbc itv rte espn tmz
    bloomberg politico axios techcrunch variety deadline vox slate salon huffpost buzzfeed forbes
    fortune xinhua interfax tass euronews billboard""") | frozenset(
    ["al jazeera", "associated press", "agence france-presse", "the atlantic", "the economist", "the hill",
     "the verge", "us weekly"]
)  # fmt: skip
_DOMAIN = re.compile(r"\w\.(?:com|net|org|info|news|co\.uk|co|uk|ie|ca|au|in|az|tv)$", re.IGNORECASE)


def find_outlet(raw: str) -> str:
    """The outlet the page's text names itself by, or "" when the text does not say."""
    votes: Counter[str] = Counter()
    strength: dict[str, int] = {}

    def vote(name: str, weight: int, *, cued: bool = True) -> None:
        name = _tidy(name)
        if not _is_name(name) or not (cued or looks_like_outlet(name)):
            return
        if len(name) <= 60:
            votes[name] += 1
            strength[name] = max(strength.get(name, 0), weight)

    lines = raw.split("\n")
    lowered = raw.lower()
    starts = [0, *(m.end() for m in re.finditer("\n", lowered))]  # of each line in `lowered`
    for shape, gates, pattern, weight in _SHAPES:
        for i in _lines_holding(lowered, gates, starts):
            line = lines[i].strip()
            if len(line) > 2000 or (shape == "appeal" and not pat.is_appeal(line)):
                continue  # "The X is…" names the site only in its own appeal
            for m in pattern.finditer(line):
                if shape == "copyright" and not (m.group("year") or "rights reserved" in line.lower()):
                    continue  # "(Image: © Reuters)" credits a photo, not the page
                vote(m.group("name"), weight)
    first = next((line.strip() for line in lines if line.strip()), "")
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    for line in lines[:12]:  # the dateline opens the article
        wire = _WIRE_DATELINE.match(line.strip())
        if wire:
            vote(_WIRES[wire.group("name")], 3)
            break
    site, cue = _title_site(first)
    if site:  # "Headline | Site" is how a page title names its site; a dash is also a hyphen
        masthead = re.search(rf"^[ \t]*{re.escape(site)}[ \t]*\r?$", raw, re.MULTILINE)  # a line of its own
        vote(site, 2, cued=cue == "|" or masthead is not None)
    if _FOOTER.match(last):
        vote(last, 1, cued=False)
    if not votes:
        return ""
    return max(votes, key=lambda name: (votes[name], strength[name]))


def looks_like_outlet(name: str) -> bool:
    """Whether a name reads as a news outlet's: it holds a word outlets are named with
    ("Times", "News", "Herald"), it is a web address ("NJ.com"), or it is a well-known
    outlet's ("Reuters", "BBC")."""
    words = name.lower().replace("’", "'").split()
    return (
        any(w.strip("'.,:") in _OUTLET_WORDS for w in words)
        or _DOMAIN.search(name) is not None
        or " ".join(words) in _KNOWN_OUTLETS
    )


def _is_name(name: str) -> bool:
    """A name holds a word that is not a function word: "In", "The", "In The" name nothing."""
    return bool(name) and name not in _NOT_NAMES and any(w.lower() not in pat.STOPWORDS for w in name.split())


def _lines_holding(lowered: str, gates: tuple[str, ...], starts: list[int]) -> list[int]:
    """Numbers of the lines ("\n"-separated) of `lowered` that hold one of `gates`: a few
    substring searches of the whole text instead of a regex on every line. `starts`: the
    offset of each line (a hit's line is found by bisection; counting the line breaks
    before every hit was quadratic: 50 MB did not finish)."""
    found: set[int] = set()
    for gate in gates:
        at = lowered.find(gate)
        while at != -1:
            found.add(bisect.bisect_right(starts, at) - 1)
            end = lowered.find("\n", at)  # on to the next line
            at = -1 if end == -1 else lowered.find(gate, end + 1)
    return sorted(found)


def _title_site(title: str) -> tuple[str, str]:
    """The site in a title line "Headline | Site" (or "- Site"): a short capitalised last
    part, and the separator before it."""
    found = list(_TITLE_SEPARATOR.finditer(title))
    if not found:
        return "", ""
    last = title[found[-1].end() :].strip()
    words = last.split()
    if 1 <= len(words) <= 4 and all(w[:1].isupper() or w in {"of", "and", "&", "on"} for w in words):
        return last, found[-1].group().strip()
    return "", ""


_LEGAL_TAIL = re.compile(
    r"(?:,? (?:All Rights Reserved|All rights reserved|All|Ltd|Inc|LLC|Pty|Limited|Pvt|Private|Corp|GmbH|plc)"
    r"\.?)+$"
)


def _tidy(name: str) -> str:
    """The name without the legal tail of a copyright line ("Inc", "Ltd", "All Rights Reserved")."""
    name = name.strip(" .,:;|-–—").removeprefix("Copyright ")
    return _LEGAL_TAIL.sub("", name).strip(" .,:;|-–—")
