"""Which documents report the same event: pair scores and story clusters (pure).

Two steps, both functions of the documents alone, never of their arrival order:

1. `pair_score(a, b)`: how likely two articles report one event, a logistic function
   of a few measured signals: what they say (word and lede cosine), who and what they
   name (entity cosine), and what tells look-alike events apart: a prominent person,
   place or organisation of one article that the other never mentions (above all the
   person it is most about), years that do not overlap, different figures in the lede
   (23 pirates captured versus 26).
   `WEIGHTS` were fitted on ECB+ dev pairs within a topic (`bench/stories.py --fit`).
2. `cluster(ids, edges)`: average-link agglomerative clustering over the scored
   pairs (missing pairs count as 0), merged while the average score between two
   clusters is at least `threshold`, except two clusters that are `two_events` (each
   has a signature name, prominent in half its articles, the other never mentions, or
   each is about a different person) and score under `VETO_BELOW`; then `rescue`: a
   story of at most `SMALL_STORY` articles joins the bigger story of its best pair
   when that pair scores at least `RESCUE_LINK`.
   Ties break on ids, so the same documents and scores always give the same stories.
   A story's id is "s-" and its smallest member id.

Bounded work per arrival (what the story store in pipeline/redis/story_store.py
does with these functions):

* a new document is scored only against its `CANDIDATES` best candidates: the
  documents sharing the most blocking keys (`StoryFeatures.keys`, its rarest names
  and words) within `WINDOW_DAYS`, read from an inverted index (`rank_candidates`);
* a text that is a copy of one already filed (a near duplicate from `find_duplicates`,
  or a candidate with almost the same words, `twin_of`) joins that document's story
  directly: it is never scored or clustered itself, so syndicated copies cost nothing
  (it still counts as one more article of its original in later clusterings);
* `cluster` then runs only over the stories the new document touches (its own and its
  neighbours'), at most `MAX_REGROUP` documents; past that the document joins the
  neighbouring story with the best average link (`attach`) without re-clustering.

`group(features)` is the same thing for a whole batch at once: every document scored
against its best `CANDIDATES`, one clustering. The store approximates it (the bench
measures how closely, over random arrival orders).
"""

from __future__ import annotations

import heapq
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.stories.features import StoryFeatures

# Signal names, in the order of `pair_vector` and `WEIGHTS`.
SIGNALS = (
    "terms",
    "names",
    "lede",
    "same_year",
    "other_year",
    "same_numbers",
    "other_numbers",
    "other_who",
    "other_where",
    "other_org",
    "other_lead",
    "other_lede_numbers",
    "other_lead_person",
    "dated_close",
)


def _fitted() -> dict[str, Any]:
    """Parameters fitted on other data, replacing the shipped ones (NEWSFLOW_FITTED_PARAMS,
    a JSON file's "stories" object: set by the benches for each fold they score), else {}.
    Read once, at import, so the story store's defaults are these too."""
    from config.settings import get_settings

    path = get_settings().fitted_params
    return dict(json.loads(Path(path).read_text(encoding="utf-8")).get("stories", {})) if path else {}


_FITTED = _fitted()
# Fitted as bench/stories.py fits each fold (logistic regression over within-topic
# candidate pairs), on all ECB+ dev topics, from the documents the product exported;
# the threshold and LEAD_SHARE with them (best batch grouping). The last value is the
# intercept.
# fmt: off
SHIPPED_WEIGHTS = (
    1.33, 2.23, 1.42, 2.1, -0.9, 1.16, -0.8, -1.01, -0.33, -0.81, -0.06, -1.3, -0.81, 2.18, 0.35,
)
# fmt: on
WEIGHTS: tuple[float, ...] = tuple(_FITTED.get("weights", SHIPPED_WEIGHTS))
STORY_PREFIX = "s-"
FAR_APART_WEIGHT = -4.0  # added when both publication dates are known and 30+ days apart
THRESHOLD = float(_FITTED.get("threshold", 0.4))  # average pair score needed to join two clusters
EDGE_FLOOR = 0.3  # pairs scoring below this are not stored (they count as 0)
# Bounds on the work per arrival. On ECB+ 95% of an article's same-story partners are
# among its 20 documents sharing the most keys, 99% among 28 (stories hold up to 22).
CANDIDATES = 40
POSTING_READ = 100  # documents read per blocking key (the latest within the window)
WINDOW_DAYS = 30  # candidates are published (else received) within this many days
MAX_REGROUP = 60  # documents re-clustered at once; a bigger neighbourhood uses `attach`
SIGNATURE_SHARE = 0.5  # see `signatures`
# See `lead`. On the tuning halves of ECB+ (even/odd topics; batch grouping of the
# product's documents): 0.5 -> pairwise F1 0.854, 0.6 0.871, 0.67 0.881, 0.75 0.881,
# 0.8 0.874, 0.9 0.880, never (the rule off) 0.855. bench/stories.py fits it per fold.
LEAD_SHARE = float(_FITTED.get("lead_share", 0.9))
# Two clusters whose average pair score is at least this merge even when `two_events`
# says otherwise: one event's reports that each name different bystanders (the victims,
# the lawyers) were kept apart at 0.89-0.94. Tuning halves (batch grouping of the
# product's documents): never 0.880, 0.95 0.890, 0.9 0.890, 0.85 0.890, 0.8 0.878.
VETO_BELOW = float(_FITTED.get("veto_below", 0.9))
# Second pass (`rescue`): a story of at most SMALL_STORY articles that average link left
# apart joins the bigger story holding its best-scoring partner, when that one pair scores
# at least RESCUE_LINK. One event's odd reports (a brief, a follow-up that names other
# people) score low on average against the whole story but high against some member.
# ECB+ dev, batch grouping of the product's documents, 5 folds over topics (weights and
# threshold fitted per fold): without 0.894; 2 articles at 0.6 0.919, 3 at 0.6 0.928,
# 3 at 0.5 0.932, 4 at 0.6 0.925, 5 at 0.6 0.917. bench/stories.py fits RESCUE_LINK per fold.
SMALL_STORY = 3
RESCUE_LINK = float(_FITTED.get("rescue_link", 0.5))
TWIN_COSINE = 0.9  # word-vector cosine of a copy (reordered, one line added); ECB+'s
# own write-ups of one event reach 0.86, and two events' reports never 0.85


def story_id(members: Iterable[str]) -> str:
    """A story is named after its smallest member id, prefixed so it never reads as a document id."""
    return STORY_PREFIX + min(members)


def dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(k, 0.0) for k, v in a.items())


def _salient(numbers: Iterable[str]) -> set[str]:
    return {n for n in numbers if "." in n or (n.isdigit() and int(n) >= 10)}


def _unmentioned(names: Sequence[Sequence[str]], vocab: frozenset[str] | set[str]) -> float:
    """Share of `names` of which no word occurs in the other article."""
    if not names:
        return 0.0
    return sum(not any(w in vocab for w in name) for name in names) / len(names)


def pair_vector(a: StoryFeatures, b: StoryFeatures) -> list[float]:
    """The signals of `SIGNALS` for one pair (symmetric in a and b)."""
    ya, yb = set(a.years), set(b.years)
    na, nb = _salient(a.numbers), _salient(b.numbers)
    va, vb = set(a.vocab), set(b.vocab)
    la, lb = _salient(a.lede_numbers), _salient(b.lede_numbers)
    dated = _days(a.dated, b.dated)
    return [
        dot(a.terms, b.terms),
        dot(a.names, b.names),
        dot(a.lede, b.lede),
        float(bool(ya & yb)),
        float(bool(ya and yb and not ya & yb)),
        min(len(na & nb), 3) / 3,
        float(len(na) >= 2 and len(nb) >= 2 and not na & nb),
        max(_unmentioned(a.who, vb), _unmentioned(b.who, va)),
        max(_unmentioned(a.where, vb), _unmentioned(b.where, va)),
        max(_unmentioned(a.orgs, vb), _unmentioned(b.orgs, va)),
        (_unmentioned(a.who[:1], vb) + _unmentioned(b.who[:1], va)) / 2,
        float(bool(la and lb and not la & lb)),
        float(bool(a.who and b.who and not set(a.who[0]) & set(b.who[0]))),
        float(dated is not None and dated <= 7),
    ]


def days_apart(a: StoryFeatures, b: StoryFeatures) -> float | None:
    """Days between the two publication dates, or None when either is unknown."""
    return _days(a.published, b.published)


def _days(a: str, b: str) -> float | None:
    try:
        return abs((date.fromisoformat(a[:10]) - date.fromisoformat(b[:10])).days)
    except ValueError:
        return None


def pair_score(a: StoryFeatures, b: StoryFeatures, weights: Sequence[float] = WEIGHTS) -> float:
    """Probability-like score that `a` and `b` report the same event."""
    z = weights[-1] + sum(w * x for w, x in zip(weights[:-1], pair_vector(a, b), strict=True))
    days = days_apart(a, b)
    if days is not None:
        # ECB+ has no publication dates, so this is set by hand, not fitted: reports of one
        # event cluster within days; a month apart is another event of the same kind.
        z += FAR_APART_WEIGHT * min(1.0, max(0.0, (days - 3) / 27))
    return 1.0 / (1.0 + math.exp(-z))


def signatures(group: Sequence[StoryFeatures]) -> set[tuple[str, ...]]:
    """The names prominent in at least half of a group's articles (and in two): who and
    where the group's event is about (a boxer's opponent, the minister who announced)."""
    counts = Counter(name for f in group for name in {*f.who, *f.where, *f.orgs})
    need = max(2.0, SIGNATURE_SHARE * len(group))
    return {name for name, n in counts.items() if n >= need}


def two_events(a: Sequence[StoryFeatures], b: Sequence[StoryFeatures]) -> bool:
    """Each group has a signature name that no article of the other mentions at all, or
    each group is about one person (`lead`) and the two are different people.

    Look-alike events (two title defences of one champion, a rule made and its repeal)
    score high pair by pair, since most words are shared; what differs is who else took
    part, or whom the event happened to (two players of one team put on injured reserve).
    The signature rule is not fitted (it needs two articles on each side, and a name in
    every group); the share that makes a lead is (`LEAD_SHARE`).
    """

    def has_unmentioned(names: set[tuple[str, ...]], group: Sequence[StoryFeatures]) -> bool:
        vocab = set().union(*(f.vocab for f in group))
        return any(not any(w in vocab for w in name) for name in names)

    if len(a) < 2 or len(b) < 2:
        return False
    if has_unmentioned(signatures(a), b) and has_unmentioned(signatures(b), a):
        return True
    la, lb = lead(a), lead(b)
    return bool(la and lb and not set(la) & set(lb))


def lead(group: Sequence[StoryFeatures]) -> tuple[str, ...]:
    """The person a group is about: the lead person (`who[0]`, the most mentioned) of at
    least `LEAD_SHARE` of its articles (a surname alone counts for the full name), else ()."""
    leads = [f.who[0] for f in group if f.who]
    counts = Counter(leads)
    for name in sorted(counts, key=lambda n: (-counts[n], n)):  # ties: by name, not order
        if sum(bool(set(name) & set(other)) for other in leads) >= LEAD_SHARE * len(group):
            return name
    return ()


def cluster(
    ids: Iterable[str],
    edges: Mapping[tuple[str, str], float],
    threshold: float = THRESHOLD,
    weights: Mapping[str, int] | None = None,
    features: Mapping[str, StoryFeatures] | None = None,
) -> dict[str, str]:
    """Average-link clusters of `ids`; returns id -> story id (smallest member id).

    `edges` maps (a, b) with a < b to a score; absent pairs score 0. `weights` counts
    a document as several (itself and its copies, which share its scores); default 1.
    With `features` (id -> StoryFeatures), two clusters that are `two_events` merge only
    when their average score is at least `VETO_BELOW`.
    """
    members: dict[str, list[str]] = {i: [i] for i in sorted(set(ids))}
    size = {i: (weights or {}).get(i, 1) for i in members}
    # Sum of pair scores between two clusters, by cluster (its smallest id) and neighbour.
    sums: dict[str, dict[str, float]] = {i: {} for i in members}
    for (a, b), s in edges.items():
        if a in members and b in members and a != b:
            sums[a][b] = sums[b][a] = sums[a].get(b, 0.0) + s * size[a] * size[b]
    heap = [(-s / (size[a] * size[b]), (a, b)) for a in members for b, s in sums[a].items() if a < b]
    heapq.heapify(heap)
    while heap:
        neg, (a, b) = heapq.heappop(heap)
        if a not in members or b not in members or b not in sums[a]:
            continue  # stale: one side was merged since
        average = sums[a][b] / (size[a] * size[b])
        if -neg != average:
            continue  # stale: a newer entry for this pair is in the heap
        if average < threshold:
            break
        sides = ([features[m] for m in members[x] if m in features] for x in (a, b)) if features else None
        if sides and average < VETO_BELOW and two_events(*sides):
            continue  # this pair stays apart; a later merge of either side pushes it again
        keep, gone = a, b  # a < b: the merged cluster keeps the smaller id
        members[keep].extend(members.pop(gone))
        size[keep] += size.pop(gone)
        del sums[keep][gone]
        for other, moved in sorted(sums.pop(gone).items()):
            if other == keep:
                continue
            del sums[other][gone]
            sums[keep][other] = sums[other][keep] = sums[keep].get(other, 0.0) + moved
        for other, total in sorted(sums[keep].items()):
            pair = (keep, other) if keep < other else (other, keep)
            heapq.heappush(heap, (-total / (size[keep] * size[other]), pair))
    rescue(members, size, edges, features)
    return {m: story_id(group) for group in members.values() for m in group}


def rescue(
    members: dict[str, list[str]],
    size: Mapping[str, int],
    edges: Mapping[tuple[str, str], float],
    features: Mapping[str, StoryFeatures] | None = None,
) -> None:
    """Second pass over the clusters `members` (cluster -> its ids; `size`: cluster -> articles,
    copies counted): each cluster of at most `SMALL_STORY` articles joins the bigger cluster
    of its best pair score (ties: the smaller cluster id) when it is at least `RESCUE_LINK`,
    unless the two are `two_events` under `VETO_BELOW`. Every move is decided on the
    clusters as average link left them (a rescued cluster takes in no other), so the
    result is a function of the clusters, not of an order. Changes `members` in place."""
    small, link = SMALL_STORY, RESCUE_LINK
    owner = {m: c for c, ms in members.items() for m in ms}
    best: dict[str, dict[str, float]] = {}  # small cluster -> bigger cluster -> best pair score
    for (a, b), s in edges.items():
        if s < link or a not in owner or b not in owner:
            continue
        for x, y in ((owner[a], owner[b]), (owner[b], owner[a])):
            if x != y and size[x] <= small and size[y] > size[x]:
                best.setdefault(x, {})[y] = max(best.get(x, {}).get(y, 0.0), s)
    moves = {}
    for x, links in sorted(best.items()):
        y = min(links, key=lambda c: (-links[c], c))
        if features and links[y] < VETO_BELOW:
            sides = ([features[m] for m in members[c] if m in features] for c in (x, y))
            if two_events(*sides):
                continue
        moves[x] = y
    for x in sorted(moves, key=lambda c: (size[c], c)):  # the smallest first: a chain ends
        y = moves[x]  # in a cluster that does not move (sizes grow along it)
        while y in moves:
            y = moves[y]
        members[y].extend(members.pop(x))


def rank_candidates(hits: Iterable[str], exclude: str, k: int = CANDIDATES) -> list[str]:
    """The `k` documents met most often in the postings of a document's keys (ties: id)."""
    counts = Counter(h for h in hits if h != exclude)
    return sorted(counts, key=lambda d: (-counts[d], d))[:k]


def twin_of(f: StoryFeatures, others: Iterable[StoryFeatures]) -> str:
    """The id of a document with almost the same words as `f` (its copy), or ""."""
    best = max(((dot(f.terms, o.terms), o.id) for o in others), default=(0.0, ""))
    return best[1] if best[0] >= TWIN_COSINE else ""


def attach(
    scores: Mapping[str, float], stories: Mapping[str, Sequence[str]], threshold: float = THRESHOLD
) -> str:
    """The story a document joins without re-clustering: the best average link, or "".

    `scores` are the document's pair scores (absent: 0); `stories` maps story ids to
    their clustered members. Ties break on the story id.
    """
    links = {s: sum(scores.get(m, 0.0) for m in ms) / len(ms) for s, ms in stories.items() if ms}
    best = max(sorted(links), key=lambda s: links[s], default="")
    return best if best and links[best] >= threshold else ""


def name_stories(labels: Mapping[str, str], followers: Mapping[str, str]) -> dict[str, str]:
    """Labels for clustered documents and their copies: a copy (follower -> the document
    it copies) takes that document's story; every story is named after its smallest
    member, copies included, so the names depend on the grouping, not on who came first."""
    groups: dict[str, list[str]] = {}
    for doc, story in labels.items():
        groups.setdefault(story, []).append(doc)
    for copy, original in followers.items():
        for _ in range(len(followers)):  # a copy of a copy (bounded: no cycle can hang it)
            original = followers.get(original, original)
        groups.setdefault(labels.get(original, STORY_PREFIX + copy), []).append(copy)
    return {m: story_id(members) for members in groups.values() for m in members}


def candidate_pairs(
    features: Sequence[StoryFeatures], k: int = CANDIDATES
) -> list[tuple[StoryFeatures, StoryFeatures]]:
    """Each document with its `k` best candidates (by shared keys), each pair once, by id."""
    postings: dict[str, list[str]] = {}
    for f in features:
        for key in f.keys:
            postings.setdefault(key, []).append(f.id)
    by_id = {f.id: f for f in features}
    pairs: set[tuple[str, str]] = set()
    for f in features:
        hits = [d for key in f.keys for d in postings[key]]
        pairs.update((min(f.id, o), max(f.id, o)) for o in rank_candidates(hits, f.id, k))
    return [(by_id[a], by_id[b]) for a, b in sorted(pairs)]


def score_pairs(
    features: Sequence[StoryFeatures], floor: float = EDGE_FLOOR, weights: Sequence[float] = WEIGHTS
) -> dict[tuple[str, str], float]:
    """The candidate pairs, scored; those under `floor` are dropped (they count as 0)."""
    scored = {(a.id, b.id): pair_score(a, b, weights) for a, b in candidate_pairs(features)}
    return {pair: s for pair, s in scored.items() if s >= floor}


def group(
    features: Sequence[StoryFeatures], weights: Sequence[float] = WEIGHTS, threshold: float = THRESHOLD
) -> dict[str, str]:
    """Stories for a whole batch at once: doc id -> story id (what the store approximates)."""
    by_id = {f.id: f for f in features}
    return cluster(list(by_id), score_pairs(features, weights=weights), threshold, features=by_id)
