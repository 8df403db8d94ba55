"""The same statement across documents, and figures that disagree (pure).

Two claims are the same statement when they have the same canonical speaker and one
clause of each shares most of its content words with the other (words are lower-cased,
British/American spelling folded, crudely stemmed, so "Nato"/"NATO" and "defence
systems"/"defense system" meet). Translations and paraphrases mostly keep the content
words. Claims are clustered per speaker with average linkage: a claim that mentions
two statements joins the closer group instead of chaining both groups into one.

The result depends only on the set of claims, never on their arrival order: the group
id is a hash of the speaker and the smallest member key.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.document import Figure
from pipeline.search.spelling import american

THRESHOLD = 0.55
_MIN_SHARED = 3
STOP_WORDS = frozenset(
    """
a an the and or but if of to in on at for from by with as is are was were be been being am it
its this that these those there here he she they we i you his her their our my your him them us
me will would could should can may might must shall do does did has have had not no so than then
too very just also only about into over after before while because such what which who whom
whose when where how all any each other more most some said says say told according
""".split()  # noqa: SIM905 (a word list reads best as text)
) - {"not", "no"}
_SPLIT = re.compile(r"[.!?;:–—]+|,\s")


@dataclass(frozen=True, slots=True)
class ClaimRef:
    """What grouping needs to know about one claim."""

    key: str  # unique and stable: "<doc id>:<start>-<end>"
    doc_id: str
    speaker: str  # canonical speaker ("" for the outlet's own statements)
    text: str
    figures: tuple[Figure, ...] = ()
    # What grouping reads of the text (`clauses(text)`), for a claim kept without its text
    # (the registry keeps these: pipeline/redis/claim_groups.py); None: from the text.
    units: tuple[frozenset[str], ...] | None = None


@dataclass(frozen=True, slots=True)
class Grouped:
    group: str
    conflict: bool


def group_refs(refs: Iterable[ClaimRef], threshold: float = THRESHOLD) -> dict[str, Grouped]:
    """Group id and conflict flag for every claim key."""
    by_speaker: dict[str, list[ClaimRef]] = defaultdict(list)
    for ref in refs:
        by_speaker[speaker_key(ref.speaker)].append(ref)
    out: dict[str, Grouped] = {}
    for speaker, members in by_speaker.items():
        members.sort(key=lambda r: r.key)
        for cluster in _average_link(members, threshold):
            group = group_id(speaker, min(r.key for r in cluster))
            conflict = has_conflict(cluster)
            for r in cluster:
                out[r.key] = Grouped(group, conflict)
    return out


def speaker_key(speaker: str) -> str:
    return " ".join(speaker.casefold().split())


def group_id(speaker: str, first_key: str) -> str:
    return "g" + hashlib.sha1(f"{speaker}|{first_key}".encode()).hexdigest()[:12]  # noqa: S324 (an id, not security)


def words(text: str) -> list[str]:
    """Content words, spelling-folded and stemmed."""
    out = []
    for w in re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)?", text.casefold()):
        w = w.replace("’", "'").split("'")[0]
        if w in STOP_WORDS or len(w) < 2:
            continue
        out.append(_stem(american(w)))
    return out


def _stem(w: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly", "n"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            return w[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
    return w


@functools.lru_cache(maxsize=65536)
def clauses(text: str) -> tuple[frozenset[str], ...]:
    units = [frozenset(words(part)) for part in _SPLIT.split(text)]
    units = [u for u in units if u]
    whole = frozenset(words(text))
    return (*units, whole) if whole else tuple(units)


def units_of(ref: ClaimRef) -> tuple[frozenset[str], ...]:
    """The content words of each clause of the claim, then of its whole text."""
    return clauses(ref.text) if ref.units is None else ref.units


def pack_units(units: Sequence[frozenset[str]]) -> list[str]:
    """`clauses(text)` as short text: each clause's words, space-separated. The whole
    text's words are the clauses' together (the split is on punctuation, which no word
    holds); should they ever differ, they follow, marked with a leading "="."""
    if not units:
        return []
    *parts, whole = units
    packed = [" ".join(sorted(p)) for p in parts]
    if frozenset().union(*parts) != whole:
        packed.append("=" + " ".join(sorted(whole)))
    return packed


def unpack_units(packed: Sequence[str]) -> tuple[frozenset[str], ...]:
    """`pack_units` undone."""
    parts = [frozenset(p.split()) for p in packed if not p.startswith("=")]
    if not parts:
        return ()
    whole = [frozenset(p[1:].split()) for p in packed if p.startswith("=")]
    return (*parts, whole[0] if whole else frozenset().union(*parts))


def similarity(a: Sequence[frozenset[str]], b: Sequence[frozenset[str]]) -> float:
    """Best share of shared content words between a clause of one and a clause of the other."""
    best = 0.0
    for x in a:
        for y in b:
            shared = len(x & y)
            if shared >= _MIN_SHARED:
                best = max(best, shared / min(len(x), len(y)))
    return best


_EXACT_UNITS = frozenset({"USD", "GBP", "EUR", "%"})


def _same_thing(f: Figure, g: Figure) -> bool:
    """Figures that count the same thing: same currency or %, or the same counted object."""
    if f.unit in _EXACT_UNITS or g.unit in _EXACT_UNITS:
        return f.unit == g.unit
    a, b = _unit_words(f.unit), _unit_words(g.unit)
    return bool(a and b) and (a <= b or b <= a)


@functools.lru_cache(maxsize=16384)
def _unit_words(unit: str) -> frozenset[str]:
    # Asked for every pair of figures in every pair of claims: worth remembering.
    return frozenset(words(unit))


def figure_keys(figures: Iterable[Figure], *, values: bool) -> frozenset[str]:
    """Keys that two figures share whenever `_same_thing` holds for them: the currency
    or %, else each word of what they count ("air", "defens", "system"); with `values`,
    prefixed by the number, so keys meet only for the same number of the same thing."""
    keys = set()
    for f in figures:
        if values and f.value is None:
            continue
        things = {f.unit} if f.unit in _EXACT_UNITS else _unit_words(f.unit)
        prefix = f"{float(f.value)!r}|" if f.value is not None and values else ""
        keys |= {prefix + t for t in things}
    return frozenset(keys)


def match_keys(ref: ClaimRef) -> tuple[frozenset[str], int]:
    """What another claim must share with this one to score above zero, and how many of
    them: 3 content words for a speaker's claims (`similarity` needs that many in one
    clause), one figure key (same number of the same thing) for the outlets' own statements."""
    if not ref.speaker:
        return figure_keys(ref.figures, values=True), 1
    units = units_of(ref)  # the last is the whole text's words
    return (units[-1] if units else frozenset()), _MIN_SHARED


def has_conflict(cluster: Sequence[ClaimRef]) -> bool:
    """Two documents give different numbers for the same thing."""
    for i, r in enumerate(cluster):
        for s in cluster[i + 1 :]:
            if r.doc_id == s.doc_id:
                continue
            for f in r.figures:
                for g in s.figures:
                    if (
                        f.value is not None
                        and g.value is not None
                        and _same_thing(f, g)
                        and f.value != g.value
                    ):
                        return True
    return False


def _pair_score(
    r: ClaimRef, s: ClaimRef, cr: Sequence[frozenset[str]], cs: Sequence[frozenset[str]]
) -> float:
    if not r.speaker and not any(
        _same_thing(f, g) and f.value == g.value for f in r.figures for g in s.figures
    ):
        return 0.0  # the outlets' own statements group only through the same figure
    score = similarity(cr, cs)
    if any(_same_thing(f, g) for f in r.figures for g in s.figures if f.unit not in ("%",)):
        score += 0.15  # the same counted thing is strong evidence of the same statement
    return score


def _average_link(members: list[ClaimRef], threshold: float) -> list[list[ClaimRef]]:
    """Merge the closest pair of clusters while their mean pair similarity reaches `threshold`."""
    units = [units_of(r) for r in members]
    n = len(members)
    sims: dict[tuple[int, int], float] = {}
    # Only pairs that can score are compared: claims with enough `match_keys` in common,
    # and for a speaker's claims also those counting the same thing (the figure bonus).
    keyed = [match_keys(r) for r in members]
    pairs = _sharing([k for k, _ in keyed], keyed[0][1] if keyed else 1)
    if members and members[0].speaker:
        pairs |= _sharing([figure_keys(r.figures, values=False) for r in members], 1)
    for i, j in pairs:
        score = _pair_score(members[i], members[j], units[i], units[j])
        if score > 0:
            sims[(i, j)] = score
    # Cluster-pair score totals are kept up to date as clusters merge, and the best pair
    # comes from a heap (an entry whose mean has since changed is skipped: the change
    # pushed a fresh one), rather than scanning every pair for every merge: the same
    # merges, in the same order (highest mean, then lowest pair), at a fraction of the
    # cost on a speaker with hundreds of claims.
    clusters: dict[int, list[int]] = {i: [i] for i in range(n)}
    totals = dict(sims)
    links: dict[int, set[int]] = defaultdict(set)
    for x, y in sims:
        links[x].add(y)
        links[y].add(x)

    def mean(pair: tuple[int, int]) -> float:
        return totals[pair] / (len(clusters[pair[0]]) * len(clusters[pair[1]]))

    heap = [(-mean(pair), pair) for pair in totals]
    heapq.heapify(heap)
    while heap:
        best, pair = heapq.heappop(heap)
        if -best < threshold:
            break
        if pair not in totals or mean(pair) != -best:
            continue  # out of date
        a, b = pair
        clusters[a] += clusters.pop(b)
        del totals[pair]
        links[a].discard(b)
        for other in links.pop(b) - {a}:
            links[other].discard(b)
            links[other].add(a)
            links[a].add(other)
            moved = totals.pop((min(b, other), max(b, other)))
            key = (min(a, other), max(a, other))
            totals[key] = totals.get(key, 0.0) + moved
        for other in links[a]:
            key = (min(a, other), max(a, other))
            heapq.heappush(heap, (-mean(key), key))
    return [[members[i] for i in sorted(ms)] for _, ms in sorted(clusters.items())]


def _sharing(keys: Sequence[frozenset[str]], least: int) -> set[tuple[int, int]]:
    """Index pairs (i < j) whose key sets have at least `least` keys in common."""
    index: dict[str, list[int]] = defaultdict(list)
    for i, ks in enumerate(keys):
        for k in ks:
            index[k].append(i)
    pairs: set[tuple[int, int]] = set()
    for i, ks in enumerate(keys):
        shared = Counter(j for k in ks for j in index[k] if j > i)
        pairs |= {(i, j) for j, count in shared.items() if count >= least}
    return pairs
