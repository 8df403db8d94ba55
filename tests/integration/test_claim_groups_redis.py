"""Claim groups shared through a private real Redis (pipeline/redis/claim_groups.py)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from pipeline.claims.figures import parse_figures
from pipeline.claims.grouping import group_id, match_keys, speaker_key, words
from pipeline.claims.plan import ClaimsPlan, stamped
from pipeline.claims.records import claim_key, claim_ref
from pipeline.document import Document
from pipeline.redis import claim_words
from pipeline.redis.claim_groups import PER_DOC, POSTINGS, ClaimGroups
from tests.factories import make_claim, make_document

pytestmark = pytest.mark.integration


@pytest.fixture
def clients(private_redis: str) -> Iterator[list[redis.Redis]]:
    """Two clients, as two workers would hold."""
    made = [redis.Redis.from_url(private_redis), redis.Redis.from_url(private_redis)]
    yield made
    for client in made:
        client.close()


def article(name: str, who: str, text: str) -> Document:
    claim = make_claim(text, kind="reported", speaker=who, speaker_canonical=who, figures=parse_figures(text))
    return make_document(f"article {name}", id=f"doc-{name}", claims=(claim,))


def assign(groups: ClaimGroups, doc: Document) -> tuple[Document, ClaimsPlan]:
    """The document with its claims' groups, and the plan (filed: nothing persists it here)."""
    with groups.planning([doc]) as plan:
        pass
    (stamped_doc,) = stamped([doc], plan.fields)
    return stamped_doc, plan


def test_two_workers_see_each_others_claims(clients: list[redis.Redis]) -> None:
    first, second = (ClaimGroups(c) for c in clients)
    a, _ = assign(
        first, article("a", "Andrii Sybiha", "Ukraine needed another 20 air defence systems for its grid")
    )
    c, plan = assign(
        second, article("c", "Andrii Sybiha", "Ukraine needs at least 19 air defense systems for its grid")
    )
    assert c.claims[0].group == a.claims[0].group
    assert c.claims[0].conflict  # the second sees the disagreement at once
    assert not a.claims[0].conflict  # the first could not know yet: the second's plan tells the table
    assert plan.fields[claim_key(a, a.claims[0])].conflict


def test_other_speakers_are_not_mixed_in(clients: list[redis.Redis]) -> None:
    groups = ClaimGroups(clients[0])
    a, _ = assign(
        groups, article("a", "Mark Rutte", "Putin is not interested in peace and wants more territory")
    )
    b, _ = assign(
        groups, article("b", "Vladimir Putin", "Putin is not interested in peace and wants more territory")
    )
    assert a.claims[0].group != b.claims[0].group


def file_as_older_versions_did(client: redis.Redis, doc: Document, *, whole_keys: bool = False) -> str:
    """File `doc`'s one claim as versions before the document hash did: a key of its own
    (`c:<claim key>`, a compact list, or with `whole_keys` the JSON object before it), the
    document's set (`d:`: spans, or whole claim keys), and the whole claim key in the
    speaker's set, its group and its postings. Returns the claim key."""
    (claim,) = doc.claims
    ref = claim_ref(doc, claim)
    key, speaker = ref.key, speaker_key(ref.speaker)
    group = group_id(speaker, key)
    figures = [[f.text, f.value, f.unit, f.modifier] for f in ref.figures]
    record: Any = [ref.speaker, ref.text, doc.outlet, group, 0, figures]
    if whole_keys:
        record = dict(zip(["speaker", "text", "outlet", "group", "conflict", "figures"], record, strict=True))
        record |= {"key": key, "doc": doc.id, "conflict": False}
    p = "newsflow:claims"
    client.set(f"{p}:c:{key}", json.dumps(record))
    client.sadd(f"{p}:d:{doc.id}", key if whole_keys else key.rsplit(":", 1)[1])
    client.sadd(f"{p}:m:{speaker}", key)
    client.sadd(f"{p}:g:{group}", key)
    for k in match_keys(ref)[0]:
        client.zadd(f"{p}:k:{speaker}:{k}", {key: 1})
    client.zadd(f"{p}:arrived", {doc.id: time.time()})
    return key


def pieces(client: redis.Redis, doc_id: str, o: int = 0) -> list[bytes]:
    """A claim's record as its document's hash keeps it: whole in field "<o>", or, longer
    than CHUNK bytes, in pieces "<o>" (prefixed with their count), "<o>.1", "<o>.2"..."""
    key = f"newsflow:claims:r:{doc_id}"
    first = client.hget(key, str(o))
    count = re.match(rb"\d*", first)[0]  # type: ignore[arg-type,index]
    if not count:
        return [first]
    rest = client.hmget(key, [f"{o}.{i}" for i in range(1, int(count))])
    return [first[len(count) :], *rest]


def record(client: redis.Redis, doc_id: str, o: int = 0) -> Any:
    return json.loads(b"".join(pieces(client, doc_id, o)))


def members_naming(client: redis.Redis, text: str) -> list[str]:
    """The keys, and the members of sets and sorted sets, that hold `text` (sorted)."""
    found = []
    for raw in client.scan_iter("newsflow:claims:*"):
        key, kind = raw.decode(), client.type(raw).decode()
        members = (
            client.smembers(raw) if kind == "set" else client.zrange(raw, 0, -1) if kind == "zset" else []
        )
        found += [key] if text in key else [f"{key}{{{m.decode()}}}" for m in members if text.encode() in m]
    return sorted(found)


@pytest.mark.parametrize("whole_keys", [False, True], ids=["compact records", "records with names"])
def test_claims_older_versions_filed_group_with_new_ones_and_are_filed_again(
    clients: list[redis.Redis], whole_keys: bool
) -> None:
    """Older versions filed each claim under a key of its own and named it by its whole
    claim key in the sets and postings: a registry they filled groups new claims with
    its claims, and a claim whose group changes is filed again as a ref."""
    groups, client = ClaimGroups(clients[0]), clients[0]
    a = article("a", "Andrii Sybiha", "Ukraine needed another 20 air defence systems for its grid")
    key = file_as_older_versions_did(client, a, whole_keys=whole_keys)
    c, plan = assign(
        groups, article("c", "Andrii Sybiha", "Ukraine needs at least 19 air defense systems for its grid")
    )
    assert plan.fields[key].group == c.claims[0].group  # a joined c's group...
    assert plan.fields[key].conflict  # ...with the figure they disagree on
    assert members_naming(client, key) == []  # filed again: no key of its own, no whole key
    assert record(client, "doc-a")[0] == key.rsplit(":", 1)[1]
    d, _ = assign(
        groups, article("d", "Andrii Sybiha", "Ukraine needs 19 air defense systems for its grid, he said")
    )
    assert d.claims[0].group == c.claims[0].group  # found through its refs now


def test_a_document_older_versions_filed_is_replaced_whole(clients: list[redis.Redis]) -> None:
    """A new version of a document an older version filed replaces its claims: the old
    claim leaves its key, the document's set, the speaker's set, its group and postings."""
    groups, client = ClaimGroups(clients[0]), clients[0]
    a = article("a", "Mark Rutte", "Putin is not interested in peace and wants more territory")
    key = file_as_older_versions_did(client, a, whole_keys=True)
    assign(groups, make_document("article a, again", id="doc-a", claims=()))  # a version with none
    assert members_naming(client, key) == []
    assert members_naming(client, "doc-a") == []
    assert not client.smembers("newsflow:claims:m:" + speaker_key("Mark Rutte"))


def test_claims_are_named_by_integer_refs(clients: list[redis.Redis]) -> None:
    """A document's claims live in its hash; the sets and postings name a claim by an
    integer, its document's number and its own, never by its 40-odd-byte claim key."""
    groups, client = ClaimGroups(clients[0]), clients[0]
    a, _ = assign(
        groups, article("a", "Mark Rutte", "Putin is not interested in peace and wants more territory")
    )
    key = claim_key(a, a.claims[0])
    assert members_naming(client, key) == []
    home, _ = groups.arrivals.home(a.id)
    assert members_naming(client, a.id) == [f"{home}{{doc-a}}", "newsflow:claims:r:doc-a"]
    number = client.hget("newsflow:claims:r:doc-a", "#").decode()
    assert groups.numbered.hmget(client, [number]) == [b"doc-a"]
    speaker = speaker_key("Mark Rutte")
    ref = int(number, 36) * PER_DOC + 0  # the document's first claim
    assert client.smembers(f"newsflow:claims:m:{speaker}") == {str(ref).encode()}
    assert client.object("encoding", f"newsflow:claims:m:{speaker}") == b"intset"
    assert record(client, "doc-a")[0] == key.rsplit(":", 1)[1]


def test_pruning_leaves_nothing_of_a_document(clients: list[redis.Redis]) -> None:
    """Past the window, a document's claims leave every set and posting, its hash and its
    number: what is left is the counters, and the claims of documents still within it."""
    from pipeline.redis.retention import DAY_S, Retention

    now = [1_700_000_000.0]
    groups = ClaimGroups(clients[0], retention=Retention(clock=lambda: now[0], prune_every_s=0))
    client = clients[0]
    assign(groups, article("a", "Mark Rutte", "Putin is not interested in peace and wants more territory"))
    older = article("b", "Mark Rutte", "Putin is not interested in peace and wants more land")
    file_as_older_versions_did(client, older)
    client.zadd("newsflow:claims:arrived", {older.id: now[0]})
    now[0] += 31 * DAY_S
    c, _ = assign(
        groups, article("c", "Mark Rutte", "Putin is not interested in peace and wants more territory")
    )
    assert c.claims[0].group != ""
    arrived = {k.decode() for k in client.scan_iter("newsflow:claims:arrived*")}
    left = {k.decode() for k in client.scan_iter("newsflow:claims:*")} - arrived
    left -= {"newsflow:claims:gen", "newsflow:claims:n"}
    number = client.hget("newsflow:claims:r:doc-c", "#").decode()
    assert groups.numbered.hgetall(client) == {number.encode(): b"doc-c"}
    assert [m for k in sorted(arrived) for m in client.zrange(k, 0, -1)] == [b"doc-c"]
    for k in left:  # each family holds doc-c's claim only
        kind = client.type(k).decode()
        if kind in ("set", "zset"):
            members = client.smembers(k) if kind == "set" else set(client.zrange(k, 0, -1))
            assert {int(m) // PER_DOC for m in members} == {int(number, 36)}, k
        elif not k.startswith("newsflow:claims:i:"):
            assert k == "newsflow:claims:r:doc-c"


def test_a_claim_kept_with_its_text_is_read(clients: list[redis.Redis]) -> None:
    """The document hash's first records held the claim's text (and whole figures); the
    records now hold its clauses' content words: the first kind still groups."""
    groups, client = ClaimGroups(clients[0]), clients[0]
    a, _ = assign(
        groups, article("a", "Andrii Sybiha", "Ukraine needed another 20 air defence systems for its grid")
    )
    span = claim_key(a, a.claims[0]).rsplit(":", 1)[1]
    kept, speaker, units, group, conflict, _ = record(client, "doc-a")
    assert kept == span
    assert claim_words.decode(units) == [" ".join(sorted(set(words(a.claims[0].text))))]  # not its text
    assert units[0].startswith(claim_words.MARKER)  # the common words as codes
    # as the hash's first records were: under the span, with the text, named "N.<span>"
    f = a.claims[0].figures[0]
    earlier_record = [speaker, a.claims[0].text, group, conflict, [[f.text, f.value, f.unit, f.modifier]]]
    number = client.hget("newsflow:claims:r:doc-a", "#").decode()
    client.hdel("newsflow:claims:r:doc-a", "0", *(f"0.{i}" for i in range(1, 100)))
    client.hset("newsflow:claims:r:doc-a", span, json.dumps(earlier_record))
    ref, earlier = str(int(number, 36) * PER_DOC), f"{number}.{span}"
    for raw in client.scan_iter("newsflow:claims:*"):
        if client.type(raw) == b"set" and client.srem(raw, ref):
            client.sadd(raw, earlier)
        elif client.type(raw) == b"zset" and client.zrem(raw, ref):
            client.zadd(raw, {earlier: 1})
    c, plan = assign(
        groups, article("c", "Andrii Sybiha", "Ukraine needs at least 19 air defense systems for its grid")
    )
    assert c.claims[0].group == a.claims[0].group
    assert plan.fields[claim_key(a, a.claims[0])].conflict
    assert members_naming(client, earlier) == []  # filed again, as an integer


LONG = (
    "The alliance will station another four brigades along the eastern border before the winter, "
    "with air defence, engineers and logistics units drawn from twelve member states, "
    "while shipyards on the northern coast build frigates for patrols across contested waters"
)


def test_a_long_record_is_kept_in_small_pieces_and_groups_as_a_whole(clients: list[redis.Redis]) -> None:
    """A record longer than CHUNK bytes is kept in pieces of at most CHUNK bytes, so the
    document's hash stays a listpack; the claims read back whole, through the document
    (its next version) and through the postings (another document's claim)."""
    from pipeline.redis.claim_groups import CHUNK

    groups, client = ClaimGroups(clients[0]), clients[0]
    a, _ = assign(groups, article("a", "Mark Rutte", LONG))
    parts = pieces(client, "doc-a")
    assert len(parts) > 2
    fields = client.hgetall("newsflow:claims:r:doc-a")
    assert all(len(v) <= CHUNK for v in fields.values())
    assert client.object("encoding", "newsflow:claims:r:doc-a") == b"listpack"
    assert record(client, "doc-a")[1] == "Mark Rutte"
    b, _ = assign(groups, article("b", "Mark Rutte", LONG + ", he said"))
    assert b.claims[0].group == a.claims[0].group  # a's record read whole from its pieces
    again, plan = assign(groups, article("a", "Mark Rutte", LONG))
    assert again.claims[0].group == a.claims[0].group
    assert plan.deleted == ()  # the same claim, read back from its pieces: nothing to unfile


def test_a_shorter_record_leaves_no_pieces_of_the_longer_one(clients: list[redis.Redis]) -> None:
    groups, client = ClaimGroups(clients[0]), clients[0]

    def version(text: str, start: int) -> Document:
        claim = make_claim(
            text,
            kind="reported",
            speaker="Mark Rutte",
            speaker_canonical="Mark Rutte",
            start=start,
            end=start + 9,
        )
        return make_document("article a", id="doc-a", claims=(claim,))

    for start in (0, 40):  # the same claim rewritten shorter; another claim in its place
        assign(groups, version(LONG, 0))
        assert len(client.hkeys("newsflow:claims:r:doc-a")) > 3  # "#", "@" and two pieces or more
        assign(groups, version("Putin wants peace", start))  # the document's next version
        [o] = {k.decode() for k in client.hkeys("newsflow:claims:r:doc-a")} - {"#", "@"}  # no pieces
        assert claim_words.decode(record(client, "doc-a", int(o))[2]) == [
            " ".join(sorted(set(words("Putin wants peace"))))
        ]


def postings(client: redis.Redis, speaker: str) -> set[str]:
    """The speaker's posting keys in the registry."""
    return {k.decode() for k in client.scan_iter(f"newsflow:claims:p:{speaker}:*")}


def keys_of(speaker: str, *docs: Document) -> set[str]:
    """The posting keys of these documents' first claims."""
    return {
        f"newsflow:claims:p:{speaker}:{k}" for d in docs for k in match_keys(claim_ref(d, d.claims[0]))[0]
    }


def bound_at_two(client: redis.Redis, monkeypatch: pytest.MonkeyPatch, now: list[float]) -> ClaimGroups:
    """Claim groups that post a speaker past two claims, on a clock the test moves (`now`),
    pruning at every plan."""
    import pipeline.redis.claim_groups as module
    from pipeline.redis.retention import Retention

    monkeypatch.setattr(module, "EXACT_REGROUP_MAX", 2)
    return ClaimGroups(client, retention=Retention(clock=lambda: now[0], prune_every_s=0))


def test_only_a_speaker_past_the_exact_bound_has_postings(
    clients: list[redis.Redis], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A speaker quoted in a few documents is read whole: its claims need no postings. The
    plan that takes it past EXACT_REGROUP_MAX posts every claim it has, and later claims
    are posted as they come: one filed before the crossing is still found through them.
    Once every claim of it has left, nothing of the speaker is left."""
    from pipeline.redis.retention import DAY_S

    now = [1_700_000_000.0]
    client = clients[0]
    groups = bound_at_two(client, monkeypatch, now)
    speaker = speaker_key("Mark Rutte")
    members = f"newsflow:claims:m:{speaker}"

    a, _ = assign(
        groups, article("a", "Mark Rutte", "Putin is not interested in peace and wants more territory")
    )
    b, _ = assign(groups, article("b", "Mark Rutte", "The alliance will spend more on air defence this year"))
    assert postings(client, speaker) == set()
    c, _ = assign(groups, article("c", "Mark Rutte", "Arctic patrols need more ships and more aircraft"))
    assert postings(client, speaker) == keys_of(speaker, a, b, c)
    assert b"0" in client.smembers(members)
    d, _ = assign(groups, article("d", "Mark Rutte", "Putin is not interested in peace and wants more land"))
    assert d.claims[0].group == a.claims[0].group
    assert postings(client, speaker) == keys_of(speaker, a, b, c, d)

    now[0] += 31 * DAY_S  # the next plan prunes all four first
    assign(groups, article("e", "Andrii Sybiha", "Ukraine needs at least 19 air defense systems"))
    assert postings(client, speaker) == set()
    assert not client.exists(members)


def test_a_speaker_pruning_takes_back_to_the_bound_is_unposted_and_posted_again_past_it(
    clients: list[redis.Redis], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Postings serve only a speaker past EXACT_REGROUP_MAX. When the window's end takes it
    back to the bound, its postings and its mark go (it is read whole again), and the plan
    that takes it past the bound once more posts every claim it has: a claim filed before
    is still found."""
    from pipeline.redis.retention import DAY_S

    now = [1_700_000_000.0]
    client = clients[0]
    groups = bound_at_two(client, monkeypatch, now)
    speaker = speaker_key("Mark Rutte")
    members = f"newsflow:claims:m:{speaker}"

    assign(groups, article("a", "Mark Rutte", "The alliance will spend more on air defence this year"))
    assign(groups, article("b", "Mark Rutte", "Arctic patrols need more ships and more aircraft"))
    now[0] += 10 * DAY_S
    c, _ = assign(
        groups, article("c", "Mark Rutte", "Putin is not interested in peace and wants more territory")
    )
    d, _ = assign(groups, article("d", "Mark Rutte", "Deterrence in the Baltic must be credible"))
    assert b"0" in client.smembers(members)
    assert postings(client, speaker)

    now[0] += 25 * DAY_S  # a and b leave the window; c and d, two, are read whole
    assert groups.prune() == 2
    assert postings(client, speaker) == set()
    assert b"0" not in client.smembers(members)
    assert client.scard(members) == 2

    e, _ = assign(groups, article("e", "Mark Rutte", "Putin is not interested in peace and wants more land"))
    assert e.claims[0].group == c.claims[0].group
    assert postings(client, speaker) == keys_of(speaker, c, d, e)
    assert b"0" in client.smembers(members)


def test_a_record_leaves_out_the_group_its_claim_heads_and_what_it_does_not_have(
    clients: list[redis.Redis],
) -> None:
    """A claim whose key names its group (the group's first claim: most claims stand alone)
    is filed without the group's id, nor a conflict flag or figures it does not have; the
    other members keep the id. Read back, each has its group."""
    groups, client = ClaimGroups(clients[0]), clients[0]
    a, _ = assign(
        groups, article("a", "Mark Rutte", "Putin is not interested in peace and wants more territory")
    )
    b, _ = assign(groups, article("b", "Mark Rutte", "Putin is not interested in peace and wants more land"))
    group = a.claims[0].group
    assert b.claims[0].group == group == group_id(speaker_key("Mark Rutte"), claim_key(a, a.claims[0]))
    assert len(record(client, "doc-a")) == 3  # span, speaker, clauses
    assert record(client, "doc-b")[3:] == [group]
    stored = groups.stored([claim_key(a, a.claims[0]), claim_key(b, b.claims[0])])
    assert {c.group for c in stored.values()} == {group}
    c, _ = assign(groups, article("c", "Mark Rutte", "Putin is not interested in peace and wants more land"))
    assert c.claims[0].group == group  # found through the record that left its id out


def test_a_group_of_one_has_no_set(clients: list[redis.Redis]) -> None:
    """Most claims stand alone: their group needs no set, the claim's record names it.
    The second member makes the set, with the first in it; the set goes when the group
    is down to one again."""
    from pipeline.redis.retention import DAY_S, Retention

    now = [1_700_000_000.0]
    client = clients[0]
    groups = ClaimGroups(client, retention=Retention(clock=lambda: now[0], prune_every_s=0))
    a, _ = assign(
        groups, article("a", "Mark Rutte", "Putin is not interested in peace and wants more territory")
    )
    group = f"newsflow:claims:g:{a.claims[0].group}"
    assert not client.exists(group)
    now[0] += 20 * DAY_S
    b, _ = assign(groups, article("b", "Mark Rutte", "Putin is not interested in peace and wants more land"))
    assert b.claims[0].group == a.claims[0].group
    refs = {int(m) // PER_DOC for m in client.smembers(group)}
    number = {d: int(client.hget(f"newsflow:claims:r:{d}", "#"), 36) for d in ("doc-a", "doc-b")}
    assert refs == set(number.values())
    c, _ = assign(groups, article("c", "Mark Rutte", "Putin is not interested in peace and wants more land"))
    assert c.claims[0].group == a.claims[0].group
    assert client.scard(group) == 3
    now[0] += 11 * DAY_S  # a is past the window, b and c are not
    assign(groups, article("d", "Andrii Sybiha", "Ukraine needs at least 19 air defense systems"))
    assert client.scard(group) == 2
    now[0] += 30 * DAY_S  # b and c too
    assign(groups, article("e", "Andrii Sybiha", "Ukraine needs at least 19 air defense systems"))
    assert not client.exists(group)


def test_a_full_posting_is_a_set_of_integers_in_redis_compact_form(
    clients: list[redis.Redis], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A posting holds the refs of at most POSTINGS claims, the highest (the newest
    documents'), as a set of integers that Redis keeps as an intset, 4 bytes a claim (a
    sorted set scored by generation, as versions before kept, takes some 11, and past 128
    members some 113)."""
    import pipeline.redis.claim_groups as module

    monkeypatch.setattr(module, "EXACT_REGROUP_MAX", 1)
    groups, client = ClaimGroups(clients[0]), clients[0]
    docs = [
        assign(groups, article(f"p{n}", "Mark Rutte", f"the alliance must buy {n} more shells"))[0]
        for n in range(POSTINGS + 5)
    ]
    posting = f"newsflow:claims:p:{speaker_key('Mark Rutte')}:alliance"
    numbers = {int(client.hget(f"newsflow:claims:r:{d.id}", "#"), 36) for d in docs[-POSTINGS:]}
    assert {int(m) // PER_DOC for m in client.smembers(posting)} == numbers
    assert client.object("encoding", posting) == b"intset"
    assert int(client.memory_usage(posting, samples=0) or 0) < 8 * POSTINGS


def test_a_posting_a_version_before_kept_as_a_sorted_set_is_still_read_and_emptied(
    clients: list[redis.Redis], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim an earlier version posted (in `k:`, scored by generation) is found through
    that posting, and leaves it with its document."""
    import pipeline.redis.claim_groups as module

    monkeypatch.setattr(module, "EXACT_REGROUP_MAX", 1)
    groups, client = ClaimGroups(clients[0]), clients[0]
    speaker = speaker_key("Mark Rutte")
    first, second = (
        assign(groups, article(name, "Mark Rutte", text))[0]
        for name, text in (
            ("a", "the alliance must buy more shells for Ukraine"),
            ("b", "pilots train in Romania"),
        )
    )
    ref = client.smembers(f"newsflow:claims:m:{speaker}") - {b"0"}
    older = {
        m for m in ref if int(m) // PER_DOC == int(client.hget(f"newsflow:claims:r:{first.id}", "#"), 36)
    }
    for k in match_keys(claim_ref(first, first.claims[0]))[0]:  # as versions before posted it
        client.srem(f"newsflow:claims:p:{speaker}:{k}", *older)
        client.zadd(f"newsflow:claims:k:{speaker}:{k}", dict.fromkeys(older, 1))
    again, _ = assign(groups, article("c", "Mark Rutte", "the alliance must buy more shells for Ukraine"))
    assert again.claims[0].group == first.claims[0].group != second.claims[0].group  # through `k:`
    assign(groups, make_document("article a, again", id=first.id, claims=()))  # a version with none
    assert not list(client.scan_iter(f"newsflow:claims:k:{speaker}:*"))


def test_a_posting_keeps_only_the_newest_claims_it_is_read_for(
    clients: list[redis.Redis], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lookup reads the newest POSTINGS claims of a match key; older ones are dropped as
    new ones come, so a word a speaker always uses does not grow its posting for good."""
    import pipeline.redis.claim_groups as module

    monkeypatch.setattr(module, "EXACT_REGROUP_MAX", 1)
    monkeypatch.setattr(module, "POSTINGS", 2)
    groups, client = ClaimGroups(clients[0]), clients[0]
    speaker = speaker_key("Mark Rutte")
    texts = [
        "the alliance must spend more on defence this year",
        "the alliance must send more air defence to Ukraine",
        "the alliance must train more pilots for Ukraine",
        "the alliance must build more shells in Europe",
    ]
    docs = [assign(groups, article(f"x{n}", "Mark Rutte", text))[0] for n, text in enumerate(texts)]
    posting = f"newsflow:claims:p:{speaker}:alliance"
    numbers = {int(client.hget(f"newsflow:claims:r:{d.id}", "#"), 36) for d in docs[-2:]}
    assert {int(m) // PER_DOC for m in client.smembers(posting)} == numbers  # the newest two
    last, _ = assign(groups, article("y", "Mark Rutte", "the alliance must build more shells in Europe now"))
    assert last.claims[0].group == docs[-1].claims[0].group  # found through what is kept
