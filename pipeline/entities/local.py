"""One document: spaCy's entity spans -> mentions -> entities with one name each (pure).

`make_mention` trims a span and decides its name; `resolve_document` fixes labels
with the gazetteer and a vote, then groups the mentions: short person mentions
join the full name used in the same document (Rutte -> Mark Rutte, Sir Keir ->
Keir Starmer), acronyms join their expansion (ISW -> Institute for the Study of
War), and a short organisation name joins the one longer name it starts or ends
(Saints -> New Orleans Saints).
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline.entities.gazetteer import Gazetteer
from pipeline.entities.names import (
    acronym,
    fold,
    is_acronym,
    person_name,
    person_parts,
    similar,
    skeleton,
    strip_possessive,
    surname,
    thing_name,
    tidy,
    words,
)

KEEP_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT"})
# Titles included in a person's surface form when they stand before the span. "Sir"
# and "Dame" go with any name ("Sir Keir Starmer"); the others only with a single
# word ("Mr Rutte", "President Putin"), where they are how the person is referred to.
_HONOUR_BEFORE = re.compile(r"(?:^|[\s(“\"‘])((?:Sir|Dame)\s+)$")
_TITLE_BEFORE = re.compile(r"(?:^|[\s(“\"‘])((?:Mr|Mrs|Ms|Dr|Prof|President)\.?\s+)$")
# Words that name a kind of thing, not a thing: never enough alone to join two names.
_GENERIC_WORDS = (
    "center centre university college school hospital police department office ministry "
    "council committee commission court agency service institute association company group "
    "party club team network news times post street avenue road park national "
    "international united new north south east west central federal state city county "
)
GENERIC = frozenset(_GENERIC_WORDS.split())
_DEMONYM = re.compile(r"^[A-Z][a-z]+(?:ian|ean|ese|ish)s?$")
_SAME_PERSON_SIMILARITY = 0.75  # translit spellings of one surname: Sybiha/Sibiga 0.83


@dataclass(frozen=True, slots=True)
class Mention:
    surface: str  # as written, with a leading title if any
    name: str  # canonical form of this one mention
    label: str
    start: int  # offsets of `surface` in the document text
    end: int


@dataclass(slots=True)
class LocalEntity:
    """One entity of one document: its name, every surface form and name form seen."""

    name: str
    label: str
    mentions: list[Mention] = field(default_factory=list)

    @property
    def surfaces(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.surface for m in self.mentions))

    @property
    def forms(self) -> tuple[str, ...]:
        """Every name form, the canonical first."""
        return tuple(dict.fromkeys([self.name, *(m.name for m in self.mentions)]))

    @property
    def is_person(self) -> bool:
        return self.label == "PERSON"

    @property
    def full(self) -> bool:
        """A person named by first and last name (not a surname alone)."""
        return person_parts(self.name) is not None


def make_mention(text: str, start: int, end: int, label: str) -> Mention | None:
    """A mention for the span text[start:end] labelled `label`, or None to drop it."""
    if label not in KEEP_LABELS:
        return None
    surface = tidy(strip_possessive(tidy(text[start:end])))  # "Kyiv’s" names Kyiv
    if not surface:
        return None
    start, end = _written(text, start, end, surface)
    # Photo credits ("John Thys/Getty Images"), handles and addresses are not names.
    if any(c in surface for c in "/@\\|=") or not any(c.isupper() for c in surface):
        return None
    if len(surface.split()) > 8 or surface.isdigit():
        return None
    if label in ("ORG", "PERSON") and " " not in surface and _quoted(text, start, end):
        return None  # a word in quotation marks is a nickname or a thing's name (“Oreshnik”)
    if label in ("GPE", "LOC") and _DEMONYM.search(surface):  # "Ukrainian" is not a place
        label = "NORP"
    if label == "PERSON" and re.search(r"\s\S*\d", surface):  # "Klitschko 19 - 2"
        surface = tidy(re.split(r"\s\S*\d", surface, maxsplit=1)[0])
        start, end = _written(text, start, end, surface)
    if label == "PERSON":
        before = text[max(0, start - 24) : start]
        title = _HONOUR_BEFORE.search(before) or (
            _TITLE_BEFORE.search(before) if len(surface.split()) == 1 else None
        )
        if title:
            start -= len(title.group(1))
            surface = tidy(text[start:end])
        name = person_name(surface)
    else:
        name = thing_name(surface)
    if not name or not any(c.isalpha() for c in name):
        return None
    return Mention(surface=surface, name=name, label=label, start=start, end=end)


_OPEN_QUOTES, _CLOSE_QUOTES = "\"“‘«'", "\"”’»'"


def _quoted(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] stands alone between quotation marks."""
    return start > 0 and end < len(text) and text[start - 1] in _OPEN_QUOTES and text[end] in _CLOSE_QUOTES


def _written(text: str, start: int, end: int, surface: str) -> tuple[int, int]:
    """Where in text[start:end] `surface` is written, `surface` being its tidied form.

    Tidying trims the edges and reads any run of whitespace inside as one space, so
    "Mark  Rutte" and "Mark\nRutte" are "Mark Rutte": its length alone would end the
    span too early or on the wrong character.
    """
    at = text.find(surface, start, end)
    if at != -1:
        return at, at + len(surface)
    hit = re.compile(r"\s+".join(map(re.escape, surface.split(" ")))).search(text, start, end)
    return (hit.start(), hit.end()) if hit else (start, start + len(surface))


def add_repeats(text: str, mentions: list[Mention]) -> list[Mention]:
    """Mentions spaCy missed: later occurrences of a name it found once in the document.

    The small model often tags "Ellen DeGeneres" but not the "DeGeneres" that follows;
    a name means the same thing throughout one article. Repeated are: every name
    found (as written) and the surname of every full person name. Longer names go
    first; an occurrence that overlaps a mention already taken is not one.
    """
    names: dict[str, str] = {}
    for m in mentions:
        name = m.name
        if len(name) > 2 and not all(w in GENERIC for w in words(name)):
            names.setdefault(name, m.label)
        if m.label == "PERSON" and person_parts(m.name):
            last = m.name.split()[-1]
            if len(last) > 2 and last[0].isupper():
                names.setdefault(last, "PERSON")
    # One byte per character of the text, set where a mention is taken: an overlap test
    # is one search of the hit's few bytes (a test against every mention taken so far
    # made long texts quadratic: 24 s of a 500 KB text's 40 s).
    taken = bytearray(len(text))
    for m in mentions:
        taken[m.start : m.end] = b"\x01" * (m.end - m.start)
    found = list(mentions)
    hits = occurrences(text, names)
    for name, label in sorted(names.items(), key=lambda kv: -len(kv[0])):
        for start, end in hits.get(name, ()):
            if taken.find(1, start, end) != -1:
                continue
            repeat = make_mention(text, start, end, label)
            if repeat is not None:
                found.append(repeat)
                taken[repeat.start : repeat.end] = b"\x01" * (repeat.end - repeat.start)
    return sorted(found, key=lambda m: m.start)


_RUN = re.compile(r"[\w-]+")


def occurrences(text: str, names: Iterable[str]) -> dict[str, list[tuple[int, int]]]:
    """(start, end) of every occurrence of each name in `text` standing alone (no word
    character or hyphen on either side), as `re.finditer` of that name finds them.

    One pass over the text for all the names (a regex per name made the cost grow with
    the number of names times the length): an occurrence of a name that begins with a
    word character begins a maximal run of word characters and hyphens equal to the
    name's own first run, so the runs of the text are looked up in a dict of first runs.
    """
    by_run: dict[str, list[str]] = {}
    others = []
    for name in names:
        run = _RUN.match(name)
        if run is None:
            others.append(name)  # starts with punctuation: rare, searched for alone
        else:
            by_run.setdefault(run.group(), []).append(name)
    hits: dict[str, list[tuple[int, int]]] = {}
    if by_run:
        for m in _RUN.finditer(text):
            for name in by_run.get(m.group(), ()):
                start, end = m.start(), m.start() + len(name)
                if text.startswith(name, start) and not _RUN.match(text, end, end + 1):
                    hits.setdefault(name, []).append((start, end))
    for name in others:
        pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        hits[name] = [(hit.start(), hit.end()) for hit in pattern.finditer(text)]
    for name, found in hits.items():  # like finditer: an occurrence overlapping the one before is none
        kept: list[tuple[int, int]] = []
        for start, end in found:
            if not kept or start >= kept[-1][1]:
                kept.append((start, end))
        hits[name] = kept
    return hits


def trim_to_known(mentions: list[Mention]) -> list[Mention]:
    """Cut a headline span down to the person it names: "Lindsay Lohan Checks Into Rehab"."""
    names = _PersonNames(Counter(tuple(words(m.name)) for m in mentions if m.label == "PERSON"))
    out = []
    for m in mentions:
        mine = tuple(words(m.name))
        if m.label == "PERSON" and len(mine) > 1:
            for size in range(len(mine) - 1, 0, -1):
                cut = _cut(m, mine, size, names)
                if cut is not None:
                    m = cut
                    break
        out.append(m)
    return out


class _PersonNames:
    """The document's full person names (two words or more), counted once so that each
    mention can ask about the *other* names (all of them but its own, when its name is
    written only once) without building a set of them per mention (quadratic)."""

    def __init__(self, counts: Counter[tuple[str, ...]]) -> None:
        self.counts = counts
        self.full = {n for n in counts if len(n) > 1}
        self.words = Counter(w for n in self.full for w in set(n))  # names holding each word
        self.surnames = Counter(n[-1] for n in self.full)  # names ending with each word

    def others_have_word(self, w: str, mine: tuple[str, ...]) -> bool:
        return self.words[w] - (w in mine and self.counts[mine] == 1) > 0

    def others_end_with(self, w: str, mine: tuple[str, ...]) -> bool:
        return self.surnames[w] - (mine[-1] == w and self.counts[mine] == 1) > 0


def _cut(m: Mention, mine: tuple[str, ...], size: int, names: _PersonNames) -> Mention | None:
    """m cut to `size` of its words, if those are a name of the document and the rest is not.

    A full name may lose words on either side ("Hire Maurice Cheeks"); a surname only
    words after it ("Teixeira Reportedly Bumped"), since first names come before.
    The names are those of the document other than m's own (`_PersonNames`).
    """
    for i in range(len(mine) - size + 1):
        run = mine[i : i + size]
        rest = mine[:i] + mine[i + size :]
        # a run is shorter than mine, so never mine itself
        fits = run in names.full or (size == 1 and i == 0 and names.others_end_with(run[0], mine))
        if fits and not any(names.others_have_word(w, mine) for w in rest):
            pattern = r"[^\w]+".join(re.escape(w) for w in run)
            hit = re.search(pattern, fold_keep_offsets(m.surface), flags=re.IGNORECASE)
            if hit is None:
                return None
            start = m.start + hit.start()
            return Mention(
                surface=m.surface[hit.start() : hit.end()],
                name=person_name(m.surface[hit.start() : hit.end()]),
                label="PERSON",
                start=start,
                end=start + len(hit.group()),
            )
    return None


def fold_keep_offsets(text: str) -> str:
    """Lower case without accents, one character per character (offsets unchanged)."""
    import unicodedata

    return "".join((unicodedata.normalize("NFKD", c)[:1] or c).lower() for c in text)


def resolve_document(
    mentions: list[Mention], gazetteer: Gazetteer, hints: list[Mention] | None = None
) -> list[LocalEntity]:
    """Group one document's mentions (in text order) into entities.

    `hints` are mentions found outside the text (in the title): they add no entity,
    but a surname alone in the text takes the full name a hint gives it.
    """
    mentions = _fix_labels(trim_to_known(mentions), gazetteer)
    people = [m for m in mentions if m.label == "PERSON"]
    things = [m for m in mentions if m.label != "PERSON"]
    entities = _group_people(people, gazetteer) + _group_things(things, gazetteer)
    hinted = [
        LocalEntity(name=h.name, label="PERSON", mentions=[h])
        for h in hints or ()
        if h.label == "PERSON" and person_parts(h.name)
    ]
    for e in entities:
        if e.is_person and not e.full:
            full = _full_name_for(e.mentions[0], hinted)
            if full is not None:
                e.name = gazetteer.person(full.name) or full.name
    entities.sort(key=lambda e: e.mentions[0].start)
    return entities


def _fix_labels(mentions: list[Mention], gazetteer: Gazetteer) -> list[Mention]:
    """Gazetteer labels first; otherwise one label per name, by vote.

    A place is never a person ("Kyiv" is a city), unless a full person name in the
    same document has that word ("Jordan" beside "Michael Jordan").
    """
    person_words = {
        w for m in mentions if m.label == "PERSON" and person_parts(m.name) for w in words(m.name)
    }
    checked: list[tuple[Mention, bool]] = []
    for m in mentions:
        known = gazetteer.thing(m.surface)
        if known and not (m.label == "PERSON" and fold(m.name) in person_words):
            checked.append((_relabel(m, known[1], name=known[0]), True))
        else:
            checked.append((m, False))
    votes: dict[str, Counter[str]] = {}
    for m, known_thing in checked:
        if not known_thing:
            votes.setdefault(fold(m.name), Counter())[m.label] += 1
    out = []
    for m, known_thing in checked:
        if not known_thing:
            label = votes[fold(m.name)].most_common(1)[0][0]
            if fold(m.name) in person_words:  # "Klitschko" beside "Wladimir Klitschko"
                label = "PERSON"
            m = _relabel(m, label) if label != m.label else m
        out.append(m)
    return out


def _relabel(m: Mention, label: str, *, name: str = "") -> Mention:
    if not name:
        name = person_name(m.surface) if label == "PERSON" else thing_name(m.surface)
    return Mention(surface=m.surface, name=name, label=label, start=m.start, end=m.end)


def _group_people(mentions: list[Mention], gazetteer: Gazetteer) -> list[LocalEntity]:
    full: dict[tuple[str, str], LocalEntity] = {}
    short: list[Mention] = []
    for m in mentions:
        parts = person_parts(m.name)
        if parts is None:
            short.append(m)
            continue
        key = (skeleton(parts[0]), skeleton(parts[1]))
        full.setdefault(key, LocalEntity(name=m.name, label="PERSON")).mentions.append(m)
    _merge_name_suffixes(full)
    singles: dict[str, LocalEntity] = {}
    people = _FullNames(list(full.values()))
    for m in short:
        target = people.find(m)
        if target is not None:
            people.add(target, m)
        else:
            singles.setdefault(fold(m.name), LocalEntity(name=m.name, label="PERSON")).mentions.append(m)
    entities = [*full.values(), *singles.values()]
    for e in entities:
        e.mentions.sort(key=lambda m: m.start)
        if e.full:
            forms = Counter(m.name for m in e.mentions if person_parts(m.name))
            order = {f: i for i, f in enumerate(e.forms)}
            best = max(forms, key=lambda f: (not f.isupper(), forms[f], -order[f]))
            e.name = gazetteer.person(best) or best
        else:
            e.name = e.mentions[0].name
    return entities


def _merge_name_suffixes(full: dict[tuple[str, str], LocalEntity]) -> None:
    """'Boone Isaacs' joins 'Cheryl Boone Isaacs': its words end the longer name."""
    # the names each proper word suffix ends, in the dict's order (a scan of every
    # other name per name was quadratic in the people of a long text)
    ending: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for key, entity in full.items():
        theirs = tuple(words(entity.name))
        for k in range(1, len(theirs)):
            ending.setdefault(theirs[k:], []).append(key)
    for key, entity in list(full.items()):
        mine = tuple(words(entity.name))
        other_key = next((k for k in ending.get(mine, ()) if k != key and k in full), None)
        if other_key is not None:
            full[other_key].mentions.extend(entity.mentions)
            del full[key]


class _FullNames:
    """The document's fully named people, indexed by surname skeleton and first name, for
    `find`: which of them a one-word mention refers to."""

    def __init__(self, full: list[LocalEntity]) -> None:
        self.by_last: dict[str, list[LocalEntity]] = {}
        self.by_first: dict[str, list[LocalEntity]] = {}
        for e in full:
            self.by_last.setdefault(skeleton(surname(e.name)), []).append(e)
            self.by_first.setdefault(fold(e.name).split()[0], []).append(e)
        self.starts = {id(e): sorted(x.start for x in e.mentions) for e in full}

    def add(self, e: LocalEntity, m: Mention) -> None:
        e.mentions.append(m)
        bisect.insort(self.starts[id(e)], m.start)

    def last_before(self, e: LocalEntity, offset: int) -> int:
        starts = self.starts[id(e)]
        return starts[bisect.bisect_left(starts, offset) - 1]

    def find(self, m: Mention) -> LocalEntity | None:
        """By surname, else first name; of two people sharing the surname, the one named last before."""
        word = m.name
        by_last = [
            e
            for e in self.by_last.get(skeleton(word), ())
            if similar(surname(e.name), word) >= _SAME_PERSON_SIMILARITY
        ]
        if len(by_last) > 1:
            before = [e for e in by_last if e.mentions[0].start < m.start]
            by_last = [max(before, key=lambda e: self.last_before(e, m.start))] if before else by_last[:1]
        if by_last:
            return by_last[0]
        by_first = self.by_first.get(fold(word), [])
        return by_first[0] if len(by_first) == 1 else None


def _full_name_for(m: Mention, full: list[LocalEntity]) -> LocalEntity | None:
    """The full-named person a one-word mention refers to: by surname, else first name."""
    return _FullNames(full).find(m)


def _group_things(mentions: list[Mention], gazetteer: Gazetteer) -> list[LocalEntity]:
    groups: dict[tuple[str, str], LocalEntity] = {}
    for m in mentions:
        kind = "NORP" if m.label == "NORP" else "THING"
        groups.setdefault((kind, fold(m.name)), LocalEntity(name=m.name, label=m.label)).mentions.append(m)
    things = [e for (kind, _), e in groups.items() if kind == "THING"]
    longer = _LongerNames(things)
    for e in things:
        target = longer.find(e)
        if target is not None:
            target.mentions.extend(e.mentions)
            longer.remove(e)
    things = _short_for_known(things, longer, gazetteer)
    norp = [e for (kind, _), e in groups.items() if kind == "NORP"]
    for e in [*things, *norp]:
        e.mentions.sort(key=lambda m: m.start)
        labels = Counter(m.label for m in e.mentions)
        e.label = max(labels, key=lambda lab: (labels[lab], -[m.label for m in e.mentions].index(lab)))
        names = (
            [m.name for m in e.mentions if gazetteer.thing(m.name)]
            or [m.name for m in e.mentions if not is_acronym(m.name)]
            or [e.mentions[0].name]
        )
        first: dict[str, int] = {}
        for i, n in enumerate(names):
            first.setdefault(n, i)
        e.name = max(first, key=lambda n: (not n.isupper() or is_acronym(n), len(words(n)), -first[n]))
    return [*things, *norp]


def _short_for_known(
    things: list[LocalEntity], longer: _LongerNames, gazetteer: Gazetteer
) -> list[LocalEntity]:
    """A one-word name that is the last word of a known organisation's name ("the Alliance",
    "the North Atlantic Alliance") is that organisation when the document names it too."""
    kept = [e for e in things if not longer.removed(e)]
    named: dict[str, LocalEntity] = {}
    for e in kept:
        if (known := gazetteer.thing(e.name)) is not None:
            named.setdefault(known[0], e)
    out = []
    for e in kept:
        owners = [named[c] for c in sorted(gazetteer.short_for(e.name)) if c in named]
        if len(words(e.name)) == 1 and gazetteer.thing(e.name) is None and len(owners) == 1:
            owners[0].mentions.extend(e.mentions)
        else:
            out.append(e)
    return out


class _LongerNames:
    """The places and organisations of a document, indexed by acronym and by their first
    and last words, for `find`: the one other entity a short name stands for. (A scan
    of every other entity per entity was quadratic in the names of a long text.)"""

    def __init__(self, things: list[LocalEntity]) -> None:
        self.by_acronym: dict[str, list[LocalEntity]] = {}
        self.by_edge: dict[tuple[str, ...], list[LocalEntity]] = {}  # first or last k words
        self._removed: set[int] = set()
        for o in things:
            self.by_acronym.setdefault(acronym(o.name), []).append(o)
            if o.label in ("ORG", "FAC"):
                theirs = tuple(words(o.name))
                for k in range(1, len(theirs)):
                    for edge in {theirs[:k], theirs[-k:]}:
                        self.by_edge.setdefault(edge, []).append(o)

    def remove(self, e: LocalEntity) -> None:
        self._removed.add(id(e))

    def removed(self, e: LocalEntity) -> bool:
        return id(e) in self._removed

    def find(self, e: LocalEntity) -> LocalEntity | None:
        """As its acronym, or its first/last words (a generic word alone joins nothing)."""
        if is_acronym(e.name):
            letters = e.name.replace(".", "").replace(" ", "")
            candidates = self.by_acronym.get(letters, [])
        elif e.label not in ("ORG", "FAC"):
            return None
        else:
            mine = tuple(words(e.name))
            if all(w in GENERIC for w in mine):
                return None
            candidates = self.by_edge.get(mine, [])
        found = [o for o in candidates if o is not e and id(o) not in self._removed]
        return found[0] if len(found) == 1 else None
