"""Cross-document state for duplicates and stories, shared by all workers in Redis (does I/O).

`NearDuplicates`: a MinHash LSH whose bands live in Redis, one hash per band, with each
copy's signature and version facts (outlet, dates) so that every worker can tell which
copy search shows, and
which copy each one last resolved to (`<prefix>:shown`: copy -> the copy shown instead).
The index task reads that after writing: a copy written after the newer version that
replaced it (two workers, either order) still ends up pointing at it.

`StoryStore`: stories, placed incrementally with bounded work per arrival.
    <prefix>:f:<doc>      the document's StoryFeatures, packed (`_pack_features`: each word
                          once, with its count, not its weight, and no blocking keys, which
                          are computed again; zlib from a preset dictionary of English
                          words: a sixth of the JSON's bytes); the first packed form
                          (weights as integers), earlier versions' zlib-compressed JSON
                          and plain JSON are read too
    <prefix>:k:<key>      sorted set: the documents filed under one blocking key, scored
                          by their day (0 when undated): the inverted index of rare
                          names and words, read within the time window. A document named
                          as in the edges (`_edge_name`: 17 bytes for a 32-hex id, which
                          sort as the ids do); versions before wrote the id, still read
    <prefix>:e:<doc>      hash: neighbour -> pair score (only scores >= EDGE_FLOOR), for
                          the candidates the document scored when it was linked: each
                          pair once, in the hash of the later one (versions before kept it
                          in both: still read, and taken out of both); the documents whose
                          edges name a document are among those filed under its keys
                          (`_linkers`). The neighbour named by `_edge_name` (a 32-hex id
                          as a zero byte and its 16 bytes), the score in millionths
                          (`_edge_value`: "642243", which a listpack keeps as a 3-byte
                          integer, where "0.642243" takes 8 bytes and a longer header);
                          versions before named the neighbour by its id and wrote the score
                          with its point: both still read
    (<prefix>:day         hash: doc -> its day number, which versions before wrote to
                          note a document filed: read no more (its features say it, and
                          their date its day), and taken out with its documents)
    <prefix>:copy:<xx>    hash, split over 256 (pipeline/redis/split.py): copy -> the
                          document it copies (it follows its story); versions before kept
                          one hash, `<prefix>:copy`: still read
    <prefix>:m:<story>    the story's documents, copies included: one string of their ids'
                          16 bytes, in order (`_pack_members`); a set of the ids as text
                          when an id is of another form, and as versions before wrote
                          every story (still read, and left by a document pruned)
    <prefix>:label:<xx>   hash, split over 256 (pipeline/redis/split.py): doc (its
                          `_edge_name`) -> its generation and story id, packed
                          (`_pack_label`: the story id in 16 bytes); versions before kept
                          one hash, `<prefix>:label`, named the document by its id and
                          wrote "<gen> <story id>": still read
    <prefix>:placed       hash: doc -> what placing it changed: the other documents it
                          (re)labelled (moved to another story), and the stories whose
                          members it changed; packed, each id in 16 bytes (`_pack_placed`;
                          a JSON list [moved, changed] before, still read). Earlier
                          versions kept these under keys of their own, `<prefix>:t:<doc>`
                          (every document relabelled, it included) and `<prefix>:c:<doc>`:
                          still read, and deleted with their document. Only the index
                          writer of that document reads it, right after the placement or
                          when its task is delivered again: kept `Retention.redelivery_s`
                          (a day; `placed:arrived` notes when), not the window. A write
                          later than that rebuilds the document's own story only
    <prefix>:rebuilds     counter, one number per rebuild of story records (Elasticsearch)
    <prefix>:gen          counter, one generation per placement
    <prefix>:lock         held while a placement reads and rewrites stories
    <prefix>:arrived:<xx> sorted sets: doc -> arrival time (pipeline/redis/retention.py)
Everything above kept for one document (and the edges naming it) is pruned once it
arrived more than the window ago (`prune`, under the lock; a copy keeps its original as
long as itself): a later
document then no longer finds it as a candidate, and starts a story of its own if none
of its peers is left. The index keeps the document and its story id as they were.
A document is added in two steps (see pipeline/stories/grouping.py for the rules):
1. link, without the lock: file its features and keys, read the postings of its keys,
   score its best candidates and write the edges (in its own hash). A candidate with
   almost the same words makes it a copy instead: it is unfiled and follows that story.
2. place, under the lock: re-cluster the stories it touches (its own and its
   neighbours'), or attach it when they are too many, and write the labels with a new
   generation. Placements are serialised, so each sees every edge written before it;
   the generation lets the index writers (pipeline/sqlite/stories.py, ElasticStories) keep the
   newest label when they finish out of order.
ElasticStories rebuilds story records from the members here (`rebuild_view`, real-time,
where a search of the documents index is not): the stories each placement changed
(`changed_stories`), each under a rebuild number that versions the record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import redis
from datasketch import MinHash

from pipeline.redis.errors import unavailable
from pipeline.redis.feature_words import WORDS
from pipeline.redis.retention import REDELIVERY_PARTS, Arrivals, Retention
from pipeline.redis.split import SplitHash
from pipeline.stories import grouping, versions
from pipeline.stories.features import StoryFeatures, blocking_keys, reweigh, weight_counts

_PARSED_MAX = 1_000  # parsed features kept per process (~35 KB each): the recent candidates


# The fields of a document's features in a packed record (`_pack_features`), in order.
_PACKED = (
    "names", "years", "numbers", "dates", "published", "dated", "when", "keys",
    "who", "where", "orgs", "lede_numbers",
)  # fmt: skip
# Those a record of the second form keeps as they are (names and keys it gives otherwise).
_PACKED_V2 = tuple(k for k in _PACKED if k not in ("names", "keys"))
_V1 = b"\x01"  # the packed record's first byte (zlib's own first byte is 0x78, JSON's "{")
_V2 = b"\x02"
_SCALE = 100_000  # term weights are rounded to 5 decimals (features._normalise)


def _pack_features(data: dict[str, Any]) -> bytes:
    """Features as stored: a marker byte, then zlib, started from a preset dictionary of
    common English words (`feature_words.WORDS`), over a JSON list.

    The second form (`_V2`, written since stop 34): the words of `terms`, `lede` and
    `vocab` once, space-separated, the terms first; each term's count and each lede
    word's position and count (`features.weight_counts`: weighed again on reading, exactly);
    `vocab` as a bitmask over the words (hex); the three norms; the names and their
    counts; then the other fields in `_PACKED_V2` order. `keys` are not kept: they are
    the names' and terms' (`blocking_keys`). 400 soak articles: 1,043 bytes a
    document in the first form, 565 in this one.

    The first form (`_V1`): the same words; each of terms, lede and vocab as positions in
    that list, the two weights as integers of 1/100,000; then the fields in `_PACKED`
    order: for features whose counts cannot be recovered (no norms: written by an
    earlier version, or weighed otherwise). Features neither can give back exactly (a
    weight with more decimals, a word with a space) are kept as compressed JSON."""
    return _pack_v2(data) or _pack_v1(data)


def _compress(record: list[Any], marker: bytes) -> bytes:
    packer = zlib.compressobj(9, zdict=WORDS)
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return marker + packer.compress(body) + packer.flush()


def _pack_v2(data: dict[str, Any]) -> bytes | None:
    terms, lede, vocab = data.get("terms", {}), data.get("lede", {}), list(data.get("vocab", []))
    names, norms = data.get("names", {}), list(data.get("norms", []))
    words = list(dict.fromkeys([*terms, *lede, *vocab]))
    if (
        len(norms) != 3
        or set(data) - {"id", "terms", "lede", "vocab", "norms", *_PACKED}
        or not all(w and " " not in w for w in words)
        or vocab != sorted(set(vocab))
        or tuple(data.get("keys", ())) != blocking_keys(names, terms)
    ):
        return None
    term_counts = weight_counts(terms, norms[0])
    lede_counts = weight_counts(lede, norms[1])
    name_counts = weight_counts(names, norms[2], names=True)
    if term_counts is None or lede_counts is None or name_counts is None:
        return None
    at = {w: i for i, w in enumerate(words)}
    in_vocab = sum(1 << at[w] for w in vocab)
    record = [
        " ".join(words),
        term_counts,
        [at[w] for w in lede],
        lede_counts,
        f"{in_vocab:x}",
        norms,
        list(names),
        name_counts,
        *(data.get(k) for k in _PACKED_V2),
    ]
    return _compress(record, _V2)


def _pack_v1(data: dict[str, Any]) -> bytes:
    terms, lede, vocab = data.get("terms", {}), data.get("lede", {}), data.get("vocab", [])
    words = list(dict.fromkeys([*terms, *lede, *vocab]))
    weights = [*terms.values(), *lede.values()]
    exact = all(w and " " not in w for w in words) and all(
        isinstance(v, float | int) and round(v * _SCALE) / _SCALE == v for v in weights
    )
    if not exact or set(data) - {"id", "terms", "lede", "vocab", "norms", *_PACKED}:
        return zlib.compress(json.dumps(data, separators=(",", ":")).encode("utf-8"), 6)
    at = {w: i for i, w in enumerate(words)}
    record = [
        " ".join(words),
        [at[w] for w in terms],
        [round(v * _SCALE) for v in terms.values()],
        [at[w] for w in lede],
        [round(v * _SCALE) for v in lede.values()],
        [at[w] for w in vocab],
        *(data.get(k) for k in _PACKED),
    ]  # no norms: the weights are kept
    return _compress(record, _V1)


def _unpack_features(raw: bytes | str, doc_id: str) -> dict[str, Any]:
    """`_pack_features` undone, for the document `doc_id`; compressed JSON and plain JSON,
    as versions before stored them, as they are."""
    data = _b(raw)
    if data[:1] in (_V1, _V2):
        unpacker = zlib.decompressobj(zdict=WORDS)
        record = json.loads(unpacker.decompress(data[1:]) + unpacker.flush())
        return _from_v2(record, doc_id) if data[:1] == _V2 else _from_v1(record, doc_id)
    parsed: dict[str, Any] = json.loads(data if data[:1] == b"{" else zlib.decompress(data))
    return parsed


def _from_v2(record: list[Any], doc_id: str) -> dict[str, Any]:
    words_, term_counts, lede_at, lede_counts, in_vocab, norms, names, name_counts, *rest = record
    words = words_.split(" ") if words_ else []
    mask = int(in_vocab, 16)
    terms = reweigh(words[: len(term_counts)], term_counts, norms[0])
    named = reweigh(names, name_counts, norms[2], names=True)
    return {
        "id": doc_id,
        "terms": terms,
        "lede": reweigh([words[i] for i in lede_at], lede_counts, norms[1]),
        "vocab": sorted(w for i, w in enumerate(words) if mask >> i & 1),
        "norms": norms,
        "names": named,
        "keys": list(blocking_keys(named, terms)),
        **dict(zip(_PACKED_V2, rest, strict=True)),
    }


def _from_v1(record: list[Any], doc_id: str) -> dict[str, Any]:
    words_, terms, term_weights, lede, lede_weights, vocab, *rest = record
    words = words_.split(" ") if words_ else []
    return {
        "id": doc_id,
        "terms": {words[i]: v / _SCALE for i, v in zip(terms, term_weights, strict=True)},
        "lede": {words[i]: v / _SCALE for i, v in zip(lede, lede_weights, strict=True)},
        "vocab": [words[i] for i in vocab],
        **dict(zip(_PACKED, rest, strict=True)),
    }


def _edge_name(doc_id: str) -> bytes:
    """A document's name in an edge hash (a neighbour's field) and in the postings: an id
    of 32 hex digits (a content hash: every document's) as a zero byte and its 16 bytes,
    another id as it is. The names of 32-hex ids sort as the ids do."""
    if len(doc_id) == 32:
        with contextlib.suppress(ValueError):
            return b"\x00" + bytes.fromhex(doc_id)
    return doc_id.encode("utf-8")


def _edge_doc(field: bytes | str) -> str:
    """`_edge_name` undone (an id as versions before wrote it, as it is)."""
    raw = _b(field)
    return raw[1:].hex() if raw[:1] == b"\x00" and len(raw) == 17 else raw.decode("utf-8")


def _edge_value(score: float) -> str:
    """A pair score as an edge hash keeps it: in millionths, an integer ("0.642243" ->
    "642243"), the 6 decimals it was always written with."""
    return str(int(f"{score:.6f}".replace(".", "")))


def _edge_score(raw: bytes | str) -> float:
    """`_edge_value` undone; a score written with its point (versions before) as it is.
    The same float either way: n / 10**6 and float("0.n") are both the double nearest
    the decimal."""
    text = _s(raw)
    return float(text) if "." in text else int(text) / 1_000_000


_HEX_ID = re.compile(r"[0-9a-f]{32}")


def _pack_placed(moved: Sequence[str], changed: Sequence[str]) -> bytes:
    """What placing a document changed, as `<prefix>:placed` keeps it: a 1 byte, the number
    of documents moved (2 bytes), then the 16 bytes of each moved document's 32-hex id and
    of each changed story's ("s-" and a document's id): some 40% of the JSON list
    `[moved, changed]`, which versions before wrote and which is still written when an id
    is of another form."""
    stories = [s.removeprefix(grouping.STORY_PREFIX) for s in changed]
    if (
        len(moved) < 1 << 16
        and all(_HEX_ID.fullmatch(d) for d in [*moved, *stories])
        and all(s.startswith(grouping.STORY_PREFIX) for s in changed)
    ):
        return b"\x01" + len(moved).to_bytes(2, "big") + bytes.fromhex("".join([*moved, *stories]))
    return json.dumps([list(moved), list(changed)], separators=(",", ":")).encode()


def _unpack_placed(raw: bytes | str) -> tuple[list[str], list[str]]:
    """`_pack_placed` undone: (the documents moved, the stories changed)."""
    data = _b(raw)
    if data[:1] != b"\x01":
        moved, changed = json.loads(data)
        return moved, changed
    n, ids = int.from_bytes(data[1:3], "big"), data[3:]
    names = [ids[i : i + 16].hex() for i in range(0, len(ids), 16)]
    return names[:n], [grouping.STORY_PREFIX + s for s in names[n:]]


def _pack_members(members: Iterable[str]) -> bytes | None:
    """A story's members as `<prefix>:m:<story>` keeps them: the 16 bytes of each 32-hex
    id, in order, in one string (a set of the ids as text costs some 88 bytes a member
    in Redis 7.0, 34 in a small set of 7.2). None when an id is of another form: those
    stories are kept as sets, as versions before kept every story."""
    ids = sorted(members)
    return bytes.fromhex("".join(ids)) if all(_HEX_ID.fullmatch(d) for d in ids) else None


def _pack_label(gen: int, story: str) -> bytes | str:
    """A label as `<prefix>:label` keeps it: a zero byte, the 16 bytes of the story's id
    (its smallest member's 32-hex id after "s-"), then the generation in digits (some 21
    bytes, where "<gen> <story>" takes 40). A story id of another form: "<gen> <story>",
    as versions before wrote every label."""
    rest = story.removeprefix(grouping.STORY_PREFIX)
    if story.startswith(grouping.STORY_PREFIX) and _HEX_ID.fullmatch(rest):
        return b"\x00" + bytes.fromhex(rest) + str(gen).encode()
    return f"{gen} {story}"


def _unpack_label(raw: bytes | str) -> tuple[int, str]:
    """`_pack_label` undone: (generation, story id)."""
    data = _b(raw)
    if data[:1] == b"\x00" and len(data) > 17:
        return int(data[17:]), grouping.STORY_PREFIX + data[1:17].hex()
    gen, story = _s(raw).split(" ", 1)
    return int(gen), story


def _member_ids(found: Any) -> list[str]:
    """A member list as `_MEMBERS` reads it (a set's members, or a packed string), sorted."""
    if isinstance(found, list):
        return sorted(_s(m) for m in found)
    raw = _b(found)
    return sorted(raw[i : i + 16].hex() for i in range(0, len(raw), 16))


def _filed_under(postings: Mapping[str, Sequence[Any]], keys: Iterable[str]) -> set[str]:
    """The documents in the postings (blocking key -> its members, as read) of `keys`."""
    return {_edge_doc(m) for key in keys for m in postings[key]}


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _b(value: bytes | str) -> bytes:
    """A binary value as read (our clients never decode responses: always bytes)."""
    return value if isinstance(value, bytes) else value.encode("latin-1")


# A document is filed while its features are (`<prefix>:f:<doc>`). KEYS: the twin's
# features, the document's, its postings; ARGV: the document, the document's `_edge_name`
# (its name in the postings; its id in versions before).
_UNFILE_FOR_TWIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], ARGV[2], ARGV[1]) end
return 1
"""

# KEYS: the document's features, its edge hash, then each candidate's features; ARGV: each
# candidate's name and score. Each edge is written once, in the hash of the document that
# scored it (the later one), and only while both ends are filed: an edge naming a candidate
# pruned meanwhile would outlive it (its pruning has read who may name it already).
_EDGES = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 3, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[2 * i - 5], ARGV[2 * i - 4])
  end
end
return 1
"""

# A story's members (`<prefix>:m:<story>`): one string of their 16-byte ids (`_pack_members`),
# or a set of the ids as text (versions before; and when an id is of another form). Each
# is read as it is: a set's members as a list, a string as it is ("" when there is none).
_READ_MEMBERS = """
local function members(key)
  if redis.call('TYPE', key)['ok'] == 'set' then return redis.call('SMEMBERS', key) end
  return redis.call('GET', key) or ''
end
"""

# KEYS: the member lists to read.
_MEMBERS = (
    _READ_MEMBERS
    + """
local out = {}
for i = 1, #KEYS do out[i] = members(KEYS[i]) end
return out
"""
)

# KEYS: the rebuild counter, then the member lists to read. The counter moves on by one,
# and up to the clock (microseconds) if that is ahead.
_REBUILD_VIEW = (
    _READ_MEMBERS
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = redis.call('INCR', KEYS[1])
if n < now then n = now; redis.call('SET', KEYS[1], string.format('%d', now)) end
local out = {n}
for i = 2, #KEYS do out[i] = members(KEYS[i]) end
return out
"""
)

# KEYS: a story's member list; ARGV: documents, each then its 16 bytes ("" for an id of
# another form). The documents leave the story's members, in either form, in one pass over
# the list however many leave (an emptied list goes).
_LEAVE = """
if redis.call('TYPE', KEYS[1])['ok'] == 'set' then
  for i = 1, #ARGV, 2 do redis.call('SREM', KEYS[1], ARGV[i]) end
  return 1
end
local packed = redis.call('GET', KEYS[1])
if not packed then return 0 end
local leaving = {}
for i = 2, #ARGV, 2 do if ARGV[i] ~= '' then leaving[ARGV[i]] = true end end
local kept = {}
for j = 1, #packed, 16 do
  local other = string.sub(packed, j, j + 15)
  if not leaving[other] then kept[#kept + 1] = other end
end
if #kept == 0 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], table.concat(kept)) end
return 1
"""


# The MinHash LSH's layout in Redis. A document is named in the buckets by 8 bytes of a
# hash of its id (`_doc_key`); its record, under that name in `<prefix>:d`, holds its
# signature (the low 16 bits of each of the 128 MinHash values: 256 bytes) and then its
# id and version facts as a JSON list. Bands: datasketch's MinHashLSH choice for a 0.8
# threshold over 128 permutations (false positives and negatives weighed alike), so the
# same pairs become candidates as with its index. A band's buckets are spread over 256
# small hashes, `<prefix>:b:<band>:<xx>`, by the first byte (xx) of the bucket's hash (8
# bytes of a hash of the band's values): its other 7 bytes -> the names of the documents
# filed under it, packed. Up to some 30,000 documents in the window a hash keeps 128
# buckets or fewer, which Redis holds as a listpack (some 20 bytes a bucket, where one
# hash per band costs some 60 a bucket as a hash table); beyond, as a hash table.
# Changing any of these changes the stored format.
_BANDS, _ROWS = 9, 13
_NAME = 8  # bytes naming a document in a bucket
_SIG = versions.NUM_PERM * 2  # bytes of a stored signature

# KEYS: the records, then each band's hash; ARGV: the document's name, its record, then
# its hash in each band. Files the document once (its first record stays: the facts of
# its first sighting); returns the record kept, then each band's bucket.
_INSERT = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  for i = 2, #KEYS do
    local bucket = redis.call('HGET', KEYS[i], ARGV[i + 1]) or ''
    redis.call('HSET', KEYS[i], ARGV[i + 1], bucket .. ARGV[1])
  end
end
local out = {redis.call('HGET', KEYS[1], ARGV[1])}
for i = 2, #KEYS do out[i] = redis.call('HGET', KEYS[i], ARGV[i + 1]) or '' end
return out
"""

# KEYS: the records, then the hash of the document's bucket in each band; ARGV: its name,
# then its bucket in each band. Takes it out of its record and buckets (an emptied bucket
# goes, and an emptied hash with it).
_REMOVE = """
local name = ARGV[1]
redis.call('HDEL', KEYS[1], name)
for i = 2, #KEYS do
  local bucket = redis.call('HGET', KEYS[i], ARGV[i])
  if bucket then
    local kept = {}
    for j = 1, #bucket, 8 do
      local other = string.sub(bucket, j, j + 7)
      if other ~= name then kept[#kept + 1] = other end
    end
    if #kept == 0 then redis.call('HDEL', KEYS[i], ARGV[i])
    else redis.call('HSET', KEYS[i], ARGV[i], table.concat(kept)) end
  end
end
return 1
"""

_MIGRATE_BATCH = 5_000  # documents of the older format refiled per pruning turn


def _doc_key(doc_id: str) -> bytes:
    """The 8 bytes naming a document in the buckets and records."""
    return hashlib.blake2b(doc_id.encode(), digest_size=_NAME).digest()


def _signature(hashvalues: Any) -> bytes:
    """The stored signature: the low 16 bits of each MinHash value. Two values differing
    in their low 16 bits differ; two that differ only above them count as equal, once in
    65,536 pairs of unequal values: the similarity of two copies (1/128 per equal value)
    is off by one step in 0.04% of pairs near the threshold."""
    import numpy as np

    return (np.asarray(hashvalues, dtype=np.uint64) & 0xFFFF).astype("<u2").tobytes()


def _band_hashes(signature: bytes) -> list[bytes]:
    width = _ROWS * 2
    return [
        hashlib.blake2b(signature[i * width : (i + 1) * width], digest_size=8, person=b"band%d" % i).digest()
        for i in range(_BANDS)
    ]


def _similarity(a: bytes, b: bytes) -> float:
    """The share of equal values of two stored signatures (versions.similarity's estimate)."""
    import numpy as np

    x, y = np.frombuffer(a, dtype="<u2"), np.frombuffer(b, dtype="<u2")
    return round(float(np.count_nonzero(x == y)) / len(x), 3)


class NearDuplicates:
    """MinHash LSH over word shingles, its bands and signatures in Redis.

        <prefix>:d            hash: a document's name (8 bytes) -> its signature, id, facts
        <prefix>:b:<band>:<xx>  hash, 256 per band: bucket -> the names filed under it
        <prefix>:shown        hash: copy -> the copy search shows instead
        <prefix>:arrived:<xx> sorted sets: doc -> arrival time (pipeline/redis/retention.py)

    Earlier versions kept datasketch's Redis storage (`<prefix>:lsh…`, some ten keys per
    document) with the signatures in `<prefix>:mh` and the facts in `<prefix>:meta`: the
    pruning turns refile those documents here (`migrate`) and then delete those keys.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "newsflow:dups",
        threshold: float = versions.NEAR_DUPLICATE,
        retention: Retention | None = None,
    ) -> None:
        self.r = client
        self.prefix = prefix
        self.threshold = threshold
        self.arrivals = Arrivals(client, f"{prefix}:arrived", retention or Retention())
        self._records = f"{prefix}:d"
        self._insert = client.register_script(_INSERT)
        self._remove = client.register_script(_REMOVE)
        self._older_left = True  # until a turn finds no documents of the older format

    def close(self) -> None:
        """Nothing of its own to give back: the client is the caller's."""

    def _buckets(self, signature: bytes) -> tuple[list[str], list[bytes]]:
        """A signature's bucket in each band: the hashes that hold them, and their fields."""
        hashes = _band_hashes(signature)
        keys = [f"{self.prefix}:b:{band}:{h[0]:02x}" for band, h in enumerate(hashes)]
        return keys, [h[1:] for h in hashes]

    def match(
        self, version: versions.Version, mh: MinHash
    ) -> tuple[versions.Version, list[tuple[versions.Version, float]]]:
        """File this copy, then return it as first filed (the same text dropped again later
        is not a newer version) and the other copies at or above the threshold."""
        mine = _signature(mh.hashvalues)
        name = _doc_key(version.id)
        facts = [version.id, version.outlet, version.published, version.received_at]
        with unavailable("the near-duplicate index"):
            self._maybe_prune()  # first: a copy past the window is no match
            # Filed before the buckets are read: of two copies filed at once, the later sees both.
            pipe = self.r.pipeline()
            keys, fields = self._buckets(mine)
            self._insert(
                keys=[self._records, *keys],
                args=[name, mine + json.dumps(facts).encode(), *fields],
                client=pipe,
            )
            self.arrivals.note(pipe, version.id)
            stored, *buckets = pipe.execute()[0]
            version = _version(stored)
            others = sorted({b[i : i + _NAME] for b in buckets for i in range(0, len(b), _NAME)} - {name})
            records = self.r.hmget(self._records, others) if others else []
        out = []
        for raw in records:
            if raw is None:  # taken out meanwhile
                continue
            other = _version(raw)
            if other.id == version.id:
                continue
            sim = _similarity(mine, _b(raw)[:_SIG])
            if sim >= self.threshold:
                out.append((other, sim))
        out.sort(key=lambda vs: vs[0].id)
        if out:
            self._remember(versions.resolve([version, *(v for v, _ in out)]))
        return version, out

    def query(self, mh: MinHash) -> list[str]:
        """The filed documents sharing a band with `mh` (the candidates; not filtered by
        similarity), without filing it."""
        mine = _signature(mh.hashvalues)
        with unavailable("the near-duplicate index"):
            pipe = self.r.pipeline(transaction=False)
            for key, bucket in zip(*self._buckets(mine), strict=True):
                pipe.hget(key, bucket)
            names = sorted({b[i : i + _NAME] for b in pipe.execute() if b for i in range(0, len(b), _NAME)})
            records = self.r.hmget(self._records, names) if names else []
        return sorted(_version(raw).id for raw in records if raw is not None)

    def _remember(self, shown_of: dict[str, str]) -> None:
        copies: dict[Any, Any] = {copy: shown for copy, shown in shown_of.items() if shown}
        with unavailable("the near-duplicate index"):
            pipe = self.r.pipeline()
            # A copy search shows lives as long as the copies behind it.
            self.arrivals.note(pipe, *sorted(set(copies.values())))
            pipe.hset(f"{self.prefix}:shown", mapping=copies)
            pipe.hdel(f"{self.prefix}:shown", *(v for v, shown in shown_of.items() if not shown))
            pipe.execute()

    def _take_out(self, pipe: Any, ids: Sequence[str]) -> None:
        """Queue on `pipe`: `ids` leave their records and buckets, and the older format."""
        names = [_doc_key(d) for d in ids]
        for name, raw in zip(names, self.r.hmget(self._records, names), strict=True):
            if raw is not None:
                keys, fields = self._buckets(_b(raw)[:_SIG])
                self._remove(keys=[self._records, *keys], args=[name, *fields], client=pipe)
        if self._older_left:
            for family in ("mh", "meta"):
                pipe.hdel(f"{self.prefix}:{family}", *ids)
        pipe.hdel(f"{self.prefix}:shown", *ids)
        self.arrivals.forget(pipe, list(ids))

    def _versions(self, ids: Sequence[str]) -> list[versions.Version]:
        """The facts filed for `ids` (of the older format too, until it is refiled)."""
        raws = self.r.hmget(self._records, [_doc_key(d) for d in ids])
        missing = [d for d, raw in zip(ids, raws, strict=True) if raw is None]
        older = (
            dict(zip(missing, self.r.hmget(f"{self.prefix}:meta", missing), strict=True)) if missing else {}
        )
        out = []
        for d, raw in zip(ids, raws, strict=True):
            if raw is not None:
                out.append(_version(raw))
            else:
                meta = older.get(d)
                out.append(versions.Version(id=d, **json.loads(meta) if meta else {}))
        return out

    def forget(self, ids: Sequence[str]) -> dict[str, str]:
        """Take documents out of the near-duplicate index (replaced by a new version of their
        source): no later copy matches them, and they are no copy of anything. The copies
        that search hid behind one of them are resolved again among themselves: returns
        each such copy -> the copy shown instead now ("" when it is shown itself)."""
        if not ids:
            return {}
        gone = set(ids)
        with unavailable("the near-duplicate index"):
            behind: dict[str, list[str]] = {}  # a forgotten document -> the copies it hid
            for copy, shown in self.r.hscan_iter(f"{self.prefix}:shown", count=1000):
                if _s(shown) in gone and _s(copy) not in gone:
                    behind.setdefault(_s(shown), []).append(_s(copy))
            pipe = self.r.pipeline()
            self._take_out(pipe, list(ids))
            pipe.execute()
            resolved: dict[str, str] = {}
            for copies in behind.values():
                resolved.update(versions.resolve(self._versions(copies)))
            pipe = self.r.pipeline()
            for copy, shown in resolved.items():
                if shown:
                    pipe.hset(f"{self.prefix}:shown", copy, shown)
                else:
                    pipe.hdel(f"{self.prefix}:shown", copy)
            pipe.execute()
        return resolved

    def prune(self, limit: int | None = None) -> int:
        """Take the copies that arrived before the window out of the index (their record,
        buckets, and which copy is shown instead of them): a later copy no longer matches
        them, and is shown itself. Returns how many were pruned."""
        with unavailable("the near-duplicate index"):
            due = self.arrivals.due(limit)
            if due:
                pipe = self.r.pipeline()
                self._take_out(pipe, due)
                pipe.execute()
        return len(due)

    def migrate(self, limit: int = _MIGRATE_BATCH) -> int:
        """Refile up to `limit` documents that an earlier version filed (datasketch's LSH,
        `<prefix>:mh` and `<prefix>:meta`) in this format, from their signatures and facts;
        once none is left, delete datasketch's keys. Returns how many were refiled."""
        if not self._older_left:
            return 0
        with unavailable("the near-duplicate index"):
            # datasketch's keys: its per-band hashes (`<prefix>:lsh_bucket_` and the band
            # as 2 bytes) and `<prefix>:lsh_keys`; scanned for only if one of these is left.
            left = [f"{self.prefix}:{k}".encode() for k in ("mh", "meta", "lsh_keys")]
            if not self.r.exists(*left, f"{self.prefix}:lsh_bucket_".encode() + bytes(2)):
                self._older_left = False
                return 0
            found: Any = self.r.hscan(f"{self.prefix}:mh", 0, count=limit)[1]
            older = {_s(d): _b(raw) for d, raw in list(found.items())[:limit]}
            ids = sorted(older)
            if ids:
                metas = self.r.hmget(f"{self.prefix}:meta", ids)
                pipe = self.r.pipeline()
                for d, meta in zip(ids, metas, strict=True):
                    mine = _signature(_older_hashvalues(older[d]))
                    facts = json.loads(meta) if meta else {}
                    record = [
                        d,
                        facts.get("outlet", ""),
                        facts.get("published", ""),
                        facts.get("received_at", ""),
                    ]
                    keys, fields = self._buckets(mine)
                    self._insert(
                        keys=[self._records, *keys],
                        args=[_doc_key(d), mine + json.dumps(record).encode(), *fields],
                        client=pipe,
                    )
                pipe.hdel(f"{self.prefix}:mh", *ids)
                pipe.hdel(f"{self.prefix}:meta", *ids)
                pipe.execute()
                return len(ids)
            # None left: datasketch's keys go (its buckets, per-document lists, their index).
            pipe = self.r.pipeline(transaction=False)
            for key in self.r.scan_iter(match=f"{self.prefix}:lsh*", count=1000):
                pipe.unlink(key)
            pipe.unlink(f"{self.prefix}:meta")
            pipe.execute()
            self._older_left = False
        return 0

    def _maybe_prune(self) -> None:
        if self.arrivals.turn():
            try:
                self.prune()
                self.migrate()
            finally:
                self.arrivals.release()

    def shown_instead(self, ids: Sequence[str]) -> dict[str, str]:
        """For those of `ids` that are copies: id -> the copy search shows instead."""
        if not ids:
            return {}
        with unavailable("the near-duplicate index"):
            found = self.r.hmget(f"{self.prefix}:shown", list(ids))
        return {i: _s(shown) for i, shown in zip(ids, found, strict=True) if shown}


def _version(record: bytes | str) -> versions.Version:
    doc_id, outlet, published, received_at = json.loads(_b(record)[_SIG:])
    return versions.Version(id=doc_id, outlet=outlet, published=published, received_at=received_at)


def _older_hashvalues(raw: bytes) -> Any:
    """A signature as earlier versions stored it: the MinHash values, raw (uint64 under
    datasketch 1.x, uint32 since)."""
    import numpy as np

    dtype = np.uint32 if len(raw) == versions.NUM_PERM * 4 else np.uint64
    return np.frombuffer(raw, dtype=dtype)


class StoryStore:
    """Stories in Redis: features, an inverted index of keys, scored edges, story members."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "newsflow:stories",
        threshold: float = grouping.THRESHOLD,
        floor: float = grouping.EDGE_FLOOR,
        candidates: int = grouping.CANDIDATES,
        max_regroup: int = grouping.MAX_REGROUP,
        lock_timeout: float = 30.0,
        retention: Retention | None = None,
    ) -> None:
        self.r = client
        self.p = prefix
        self.threshold = threshold
        self.floor = floor
        self.candidates = candidates
        self.max_regroup = max_regroup
        self.lock_timeout = lock_timeout  # a placement takes milliseconds; a dead worker's lock expires
        self._unfile_script = client.register_script(_UNFILE_FOR_TWIN)  # sent once, then by its hash
        self._rebuild_script = client.register_script(_REBUILD_VIEW)
        self._edges_script = client.register_script(_EDGES)
        self._members_script = client.register_script(_MEMBERS)
        self._leave_script = client.register_script(_LEAVE)
        retention = retention or Retention()
        self.arrivals = Arrivals(client, self._k("arrived"), retention)
        self.placements = Arrivals(
            client, self._k("placed", "arrived"), retention.for_redelivery(), parts=REDELIVERY_PARTS
        )
        self._labels = SplitHash(self._k("label"))
        self._copies_of = SplitHash(self._k("copy"))
        self._parsed: dict[str, StoryFeatures] = {}

    def _k(self, *parts: str) -> str:
        return ":".join((self.p, *parts))

    # -- writing ---------------------------------------------------------------
    def add(self, features: StoryFeatures, *, copy_of: str = "") -> str:
        """File a document and place it in a story; return its story id.

        `copy_of`: a document this one is a near duplicate of (from find_duplicates);
        it then joins that document's story without being scored.
        """
        with unavailable("the story store"):
            self._maybe_prune()  # first: a document does not join peers already past the window
            if self._label_raws([features.id])[0] is not None:
                return self.story_of(features.id)  # the same text again: nothing new to place
            original = self._original(copy_of, _day(features.when)) if copy_of else ""
            if not original:
                original = self._link(features)
            pipe = self.r.pipeline()
            if original:
                self._copies_of.hset(pipe, {features.id: original})
            self.arrivals.note(pipe, features.id, *([original] if original else []))  # a copy keeps it
            pipe.execute()
            wait = 2 * self.lock_timeout
            with self.r.lock(self._k("lock"), timeout=self.lock_timeout, blocking_timeout=wait):
                return self._place(features.id, original)

    def _original(self, doc_id: str, day: int) -> str:
        """The filed document `doc_id` is or copies; "" when unknown here or out of the window
        (the same text months later, a yearly notice, is another event)."""
        [copied] = self._copies_of.hmget(self.r, [doc_id])
        original = _s(copied) if copied else doc_id
        raw = self.r.get(self._k("f", original))  # filed, and when: not from the parsed cache
        if raw is None:
            return ""
        other = _day(_unpack_features(raw, original).get("when", ""))
        return "" if day and other and abs(day - other) > grouping.WINDOW_DAYS else original

    def _link(self, f: StoryFeatures) -> str:
        """File `f`, score its best candidates, write the edges; or return the document it copies."""
        day = _day(f.when)
        pipe = self.r.pipeline()
        pipe.set(self._k("f", f.id), _pack_features(f.to_dict()))
        for key in f.keys:
            pipe.zadd(self._k("k", key), {_edge_name(f.id): day})
        pipe.execute()
        # Filed before reading: of two documents linked at once, the later read sees the other.
        pipe = self.r.pipeline()
        for key in f.keys:
            if day:  # dated: the latest within the window, and the undated
                pipe.zrevrangebyscore(
                    self._k("k", key),
                    day + grouping.WINDOW_DAYS,
                    day - grouping.WINDOW_DAYS,
                    start=0,
                    num=grouping.POSTING_READ,
                )
                pipe.zrangebyscore(self._k("k", key), 0, 0, start=0, num=grouping.POSTING_READ)
            else:
                pipe.zrevrange(self._k("k", key), 0, grouping.POSTING_READ - 1)
        hits = [_edge_doc(m) for found in pipe.execute() for m in found]
        candidates = self.features(grouping.rank_candidates(hits, f.id, self.candidates))
        while twin := grouping.twin_of(f, candidates):
            if self._unfile_for(f, twin):
                return self._original(twin, day) or twin
            candidates = [c for c in candidates if c.id != twin]  # became a copy meanwhile
        keys = [self._k("f", f.id), self._k("e", f.id)]
        args: list[str | bytes] = []
        for other in candidates:
            if (score := grouping.pair_score(f, other)) >= self.floor:
                keys.append(self._k("f", other.id))
                args += [_edge_name(other.id), _edge_value(score)]
        if args:
            self._edges_script(keys=keys, args=args)
        return ""

    def _unfile_for(self, f: StoryFeatures, twin: str) -> bool:
        """Unfile `f`, a copy of `twin` (a copy is not a candidate for anyone), if `twin` is
        still filed; atomically: of two twins linked at once, each seeing the other, the
        first to get here becomes the copy and the second stays filed."""
        keys = [self._k("f", twin), self._k("f", f.id), *(self._k("k", key) for key in f.keys)]
        if not self._unfile_script(keys=keys, args=[f.id, _edge_name(f.id)]):
            return False
        # A document that linked `f` while it was filed named it in its own edges: unfiled
        # now, nothing names it any more, so those edges go (a copy is no one's neighbour).
        linkers = self._linkers({f.id: f.keys})[f.id]
        if linkers:
            pipe = self.r.pipeline(transaction=False)
            for other in linkers:
                pipe.hdel(self._k("e", other), _edge_name(f.id), f.id)
            pipe.execute()
        return True

    def _place(self, doc_id: str, original: str) -> str:
        """Re-cluster the stories around `doc_id` (or its original) and write the labels."""
        core = original or doc_id
        # The edges `core` scored (its own hash). For a copy, those of its original: the
        # original's story is what it joins, as it is; an original not placed yet (its
        # placement waits for the lock) is clustered with these, and the later documents
        # that scored it bring it into theirs when they are placed.
        scores = {_edge_doc(k): _edge_score(v) for k, v in self.r.hgetall(self._k("e", core)).items()}
        if scores:  # neighbours pruned since the edge was read are no candidates
            pipe = self.r.pipeline(transaction=False)
            for d in sorted(scores):
                pipe.exists(self._k("f", d))
            filed = pipe.execute()
            scores = {d: v for (d, v), there in zip(sorted(scores.items()), filed, strict=True) if there}
        near = [core, *sorted(scores)]
        current = dict(zip(near, self._stories_of(near), strict=True))
        if original and current[core]:  # a copy of a placed document: that story, as it is
            stories = [current[core]]
        else:
            stories = sorted({s for s in current.values() if s})
        members = self._members(stories)
        everyone = sorted({doc_id, *near, *(m for ms in members.values() for m in ms)})
        followers = self._copies(everyone)
        if original:
            followers[doc_id] = original
        clustered = [d for d in everyone if d not in followers]
        before = {m: s for s, ms in members.items() for m in ms if m not in followers}
        if original and current[core]:
            labels = before
        elif len(clustered) <= self.max_regroup:
            copies = Counter(followers.values())  # a copy counts as its original once more
            features = {f.id: f for f in self.features(clustered)}
            labels = grouping.cluster(clustered, self._edges(clustered), self.threshold, copies, features)
        else:  # too many to re-cluster: the stories stay as they are, the document joins one
            labels = {d: before.get(d, grouping.story_id([d])) for d in clustered}
            by_story: dict[str, list[str]] = {}
            for d, story in before.items():
                by_story.setdefault(story, []).append(d)
            if core not in before:
                labels[core] = grouping.attach(scores, by_story, self.threshold) or labels[core]
        named = grouping.name_stories(labels, followers)
        after: dict[str, set[str]] = {}
        for d, story in named.items():
            after.setdefault(story, set()).add(d)
        changed = sorted(s for s in {*stories, *after} if set(members.get(s, ())) != after.get(s, set()))
        # Only the documents that move (and the one placed) get the new generation: a label
        # is a rewrite of the document in the index, and a member that stays needs none.
        # (Every labelled document near it or in its stories was read above.)
        was = {**current, **{m: s for s, ms in members.items() for m in ms}}
        moved = sorted(d for d, story in named.items() if d == doc_id or was.get(d, "") != story)
        gen = int(self.r.incr(self._k("gen")))
        pipe = self.r.pipeline(transaction=True)
        for story in sorted({*stories, *after}):  # each story's members rewritten whole
            pipe.delete(self._k("m", story))
        for story, ms in sorted(after.items()):
            if (packed := _pack_members(ms)) is not None:
                pipe.set(self._k("m", story), packed)
            else:
                pipe.sadd(self._k("m", story), *sorted(ms))
        for d in moved:
            self._labels.hset(pipe, {_edge_name(d): _pack_label(gen, named[d])})
        others = [d for d in moved if d != doc_id]
        pipe.hset(self._k("placed"), doc_id, _pack_placed(others, changed))
        self.placements.note(pipe, doc_id)
        pipe.execute()
        return named[doc_id]

    def forget(self, doc_ids: Sequence[str]) -> set[str]:
        """Take documents out (a source's previous version, replaced by its new one): their
        features, postings, edges, copy link and label go, and their stories lose them; the
        other members stay grouped as they are. Returns the stories whose members changed."""
        if not doc_ids:
            return set()
        with unavailable("the story store"):
            features = {f.id: f for f in self.features(doc_ids)}
            wait = 2 * self.lock_timeout
            with self.r.lock(self._k("lock"), timeout=self.lock_timeout, blocking_timeout=wait):
                for d in doc_ids:
                    if d in features:
                        self._promote_copy(features[d], set(doc_ids))
                keys = {d: features[d].keys if d in features else () for d in doc_ids}
                stories = self._take_out(list(doc_ids), keys)
        for d in doc_ids:
            self._parsed.pop(d, None)
        return {story for story in stories.values() if story}

    def prune(self, limit: int | None = None) -> int:
        """Take out the documents that arrived before the window: their features,
        postings, edges (theirs and those naming them), copy link, label and story
        membership, under the placements' lock, so a placement sees each document whole
        or not at all (`_take_out`). Their stories keep the members still within the
        window; the index keeps everything. Returns how many documents were pruned."""
        with unavailable("the story store"):
            wait = 2 * self.lock_timeout
            with self.r.lock(self._k("lock"), timeout=self.lock_timeout, blocking_timeout=wait):
                placed = self.placements.due(limit)  # what their placements changed: a day
                if placed:
                    pipe = self.r.pipeline(transaction=True)
                    pipe.hdel(self._k("placed"), *placed)
                    self.placements.forget(pipe, placed)
                    pipe.execute()
                due = self.arrivals.due(limit)
                if not due:
                    return 0
                raws = self.r.mget([self._k("f", d) for d in due])
                keys = {
                    d: _unpack_features(raw, d).get("keys", ()) if raw else ()
                    for d, raw in zip(due, raws, strict=True)
                }
                self._take_out(due, keys)
        for d in due:
            self._parsed.pop(d, None)
        return len(due)

    def _take_out(self, doc_ids: list[str], keys: Mapping[str, Sequence[str]]) -> dict[str, str]:
        """Take `doc_ids` (with their blocking keys) out, under the placements' lock: their
        features, postings, edges (and the edges naming them), copy link, label, story
        membership and arrivals. Returns the story each was in ("" for none).

        First they are unfiled (their features go), in one transaction with the reading of
        their postings: from then on no edge names them (`_EDGES` writes one only while
        both ends are filed), and whoever named them in its edges is in those postings
        (it was filed under a key of theirs before it read them). Then everything goes
        in a second transaction: a placement (under the lock) sees them whole or not at
        all, and a worker linking meanwhile takes them as gone already. Versions before
        kept each edge in both ends' hashes: the neighbours in their own hash are
        cleared too."""
        stories = dict(zip(doc_ids, self._stories_of(doc_ids), strict=True))
        posting_keys = sorted({key for d in doc_ids for key in keys[d]})
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(*(self._k("f", d) for d in doc_ids))
        pipe.hdel(self._k("day"), *doc_ids)  # where versions before noted them filed
        for d in doc_ids:
            pipe.hkeys(self._k("e", d))
        for key in posting_keys:
            pipe.zrange(self._k("k", key), 0, -1)
        _, _, *found = pipe.execute()
        neighbours = dict(zip(doc_ids, found[: len(doc_ids)], strict=True))
        postings = dict(zip(posting_keys, found[len(doc_ids) :], strict=True))
        gone = set(doc_ids)
        pipe = self.r.pipeline(transaction=True)
        leaving: dict[str, list[str | bytes]] = {}  # story -> its documents going, with their bytes
        for d in doc_ids:
            if stories[d]:
                leaving.setdefault(stories[d], []).extend(
                    [d, bytes.fromhex(d) if _HEX_ID.fullmatch(d) else b""]
                )
        for story, args in sorted(leaving.items()):
            self._leave_script(keys=[self._k("m", story)], args=args, client=pipe)
        for d in doc_ids:
            for key in keys[d]:
                pipe.zrem(self._k("k", key), _edge_name(d), d)
            naming = _filed_under(postings, keys[d])
            naming |= {_edge_doc(n) for n in neighbours[d]}
            for other in sorted(naming - gone):
                pipe.hdel(self._k("e", other), _edge_name(d), d)
            pipe.delete(self._k("e", d), self._k("t", d), self._k("c", d))
        self._copies_of.hdel(pipe, list(doc_ids))
        pipe.hdel(self._k("placed"), *doc_ids)
        names: list[bytes | str] = [_edge_name(d) for d in doc_ids]
        self._labels.hdel(pipe, [*names, *doc_ids])  # either form
        self.arrivals.forget(pipe, doc_ids)
        self.placements.forget(pipe, doc_ids)
        pipe.execute()
        return stories

    def _linkers(self, keys: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
        """For each document (with its blocking keys): the other documents filed under
        those keys, which are the ones whose edges may name it."""
        posting_keys = sorted({key for ks in keys.values() for key in ks})
        pipe = self.r.pipeline(transaction=False)
        for key in posting_keys:
            pipe.zrange(self._k("k", key), 0, -1)
        postings = dict(zip(posting_keys, pipe.execute(), strict=True))
        return {d: _filed_under(postings, ks) - {d} for d, ks in keys.items()}

    def _maybe_prune(self) -> None:
        if self.arrivals.turn():
            try:
                self.prune()
            finally:
                self.arrivals.release()

    def _promote_copy(self, f: StoryFeatures, leaving: set[str]) -> None:
        """Before `f`'s document leaves: its first copy not leaving too takes its place (its
        features, postings and edges; a copy has almost the same words), and the other
        copies follow that one, so they keep their story and stay candidates for others."""
        copies = sorted(
            _s(c)
            for c, original in self._copies_of.hgetall(self.r).items()
            if _s(original) == f.id and _s(c) not in leaving
        )
        if not copies:
            return
        heir, day = copies[0], _day(f.when)
        # Its edges: those it scored (its own hash; both directions, as versions before
        # wrote them) and those of the documents that scored it (theirs, under its keys).
        edges = {_edge_doc(name): _s(score) for name, score in self.r.hgetall(self._k("e", f.id)).items()}
        linkers = sorted(self._linkers({f.id: f.keys})[f.id] - {heir})
        pipe = self.r.pipeline(transaction=False)
        for other in linkers:
            pipe.hget(self._k("e", other), _edge_name(f.id))
        for other, score in zip(linkers, pipe.execute(), strict=True):
            if score is not None:
                edges[other] = _s(score)
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self._k("f", heir), _pack_features({**f.to_dict(), "id": heir}))
        for key in f.keys:
            pipe.zadd(self._k("k", key), {_edge_name(heir): day})
        for other, score in sorted(edges.items()):
            if other != heir:  # each edge once, in the heir's hash
                pipe.hset(self._k("e", heir), _edge_name(other), score)
        self._copies_of.hdel(pipe, [heir])
        self._copies_of.hset(pipe, dict.fromkeys(copies[1:], heir))
        pipe.execute()

    # -- reading ---------------------------------------------------------------
    def _label_raws(self, doc_ids: Sequence[str]) -> list[Any]:
        """Each document's label as stored (None for none): under its `_edge_name`, or
        under its id, as versions before wrote it (the newer wins while both are there)."""
        if not doc_ids:
            return []
        names: list[Any] = [_edge_name(d) for d in doc_ids]
        raws = self._labels.hmget(self.r, [*names, *doc_ids])
        n = len(doc_ids)
        return [new if new is not None else old for new, old in zip(raws[:n], raws[n:], strict=True)]

    def _stories_of(self, doc_ids: Sequence[str]) -> list[str]:
        return [_unpack_label(raw)[1] if raw else "" for raw in self._label_raws(doc_ids)]

    def _members(self, stories: Sequence[str]) -> dict[str, list[str]]:
        if not stories:
            return {}
        found = self._members_script(keys=[self._k("m", story) for story in stories])
        return {s: _member_ids(ms) for s, ms in zip(stories, found, strict=True)}

    def _copies(self, doc_ids: Sequence[str]) -> dict[str, str]:
        raws = self._copies_of.hmget(self.r, list(doc_ids))
        return {d: _s(raw) for d, raw in zip(doc_ids, raws, strict=True) if raw}

    def _edges(self, doc_ids: Sequence[str]) -> dict[tuple[str, str], float]:
        """The stored pair scores among `doc_ids`."""
        inside = set(doc_ids)
        pipe = self.r.pipeline()
        for d in doc_ids:
            pipe.hgetall(self._k("e", d))
        edges = {}
        for d, neighbours in zip(doc_ids, pipe.execute(), strict=True):
            for raw, score in neighbours.items():
                other = _edge_doc(raw)
                if other in inside:
                    edges[(min(d, other), max(d, other))] = _edge_score(score)
        return edges

    def features(self, doc_ids: Sequence[str]) -> list[StoryFeatures]:
        """The filed features of `doc_ids` (those still filed), parsed once per process:
        a document's features never change (its id is its content)."""
        found = {d: self._parsed[d] for d in doc_ids if d in self._parsed}
        missing = [d for d in doc_ids if d not in found]
        if missing:
            for d, raw in zip(missing, self.r.mget([self._k("f", d) for d in missing]), strict=True):
                if raw:
                    found[d] = StoryFeatures.from_dict(_unpack_features(raw, d))
            while len(self._parsed) + len(found) > _PARSED_MAX and self._parsed:
                self._parsed.pop(next(iter(self._parsed)))  # the oldest parsed first
            self._parsed.update(found)
        return [found[d] for d in doc_ids if d in found]

    def story_of(self, doc_id: str) -> str:
        return self._stories_of([doc_id])[0]

    def labels(self, doc_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """doc -> (generation, story id) for the documents that have a label."""
        ids = list(doc_ids)
        if not ids:
            return {}
        return {d: _unpack_label(raw) for d, raw in zip(ids, self._label_raws(ids), strict=True) if raw}

    def component_labels(self, doc_id: str) -> dict[str, tuple[int, str]]:
        """Labels of the documents placing `doc_id` relabelled (for the index writer)."""
        with unavailable("the story store"):
            placed = self.r.hget(self._k("placed"), doc_id)
            if placed:
                return self.labels([doc_id, *_unpack_placed(placed)[0]])
            raw = self.r.get(self._k("t", doc_id))  # placed by an earlier version
            return self.labels(json.loads(raw) if raw else [doc_id])

    def changed_stories(self, doc_ids: Sequence[str]) -> set[str]:
        """The stories whose members the placements of `doc_ids` changed (those they emptied
        included): the index writer rebuilds them. For a document placed before these were
        kept, the stories of its component."""
        if not doc_ids:
            return set()
        with unavailable("the story store"):
            placed = self.r.hmget(self._k("placed"), list(doc_ids))
            found = {s for raw in placed if raw for s in _unpack_placed(raw)[1]}
            earlier = [d for d, raw in zip(doc_ids, placed, strict=True) if raw is None]
            raws = self.r.mget([self._k("c", d) for d in earlier]) if earlier else []
            found |= {s for raw in raws if raw for s in json.loads(raw)}
            for d, raw in zip(earlier, raws, strict=True):
                if raw is None:
                    found |= {story for _, story in self.component_labels(d).values()}
            return found

    def rebuild_view(self, stories: Sequence[str]) -> tuple[int, dict[str, list[str]]]:
        """A new rebuild number and the members of `stories`, read with it (one script).

        The Elasticsearch writer versions each story record with that number: a rebuild
        that read the members later has a higher number and wins, whatever the order in
        which the writes land. The numbers are at least Redis's clock in microseconds, so
        they keep growing after the store is emptied (a new local Redis, the same cluster)."""
        keys = [self._k("rebuilds"), *(self._k("m", story) for story in stories)]
        with unavailable("the story store"):
            number, *found = self._rebuild_script(keys=keys)
        return int(number), {s: _member_ids(ms) for s, ms in zip(stories, found, strict=True)}

    def all_labels(self) -> dict[str, str]:
        found = sorted(self._labels.hgetall(self.r).items(), key=lambda dv: _b(dv[0])[:1] == b"\x00")
        return {_edge_doc(d): _unpack_label(v)[1] for d, v in found}  # a newer form's last: it wins


def _day(iso: str) -> int:
    """Day number of an ISO date (0 when unknown): the score of a posting."""
    try:
        return date.fromisoformat(iso[:10]).toordinal()
    except ValueError:
        return 0
