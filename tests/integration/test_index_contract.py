"""One storage contract: what a user sees, the same on the embedded index and on Elasticsearch.

For each back-end the real product runs once, shared by every test here: a private
Redis, `newsflow es setup` (Elasticsearch), then `newsflow run` (real worker processes,
the real model) twice, as a user would:

1. the five seeds, an exact copy of one (a second source of the same document) and a
   PDF saved as .txt (refused when read);
2. an update of seed 000 from the same outlet, one sentence rewritten, arriving later:
   the newer version is the one search shows.

Beside it, on a home (and prefix) of its own so the answers above stay the same on both,
a third run: an article quoting a 400-digit number (a float would make it infinite, and
an infinite figure made the document invalid JSON: Elasticsearch refused it, the embedded
index kept it half-written): it must be indexed like any other article.

Then the tests call the real command line (`search`, `show`, `export`, `claims` and its
options, `stories`, `entities`, `failed`, `sources`, `reindex`) on each back-end and
assert behaviour; the `test_both_*` tests compare the two back-ends' answers, normalising
only what legitimately differs (each normalisation says why). Elasticsearch works under a
per-run prefix, deleted at the end with its templates.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GOLD, SEEDS, Newsflow
from tests.kibana_fields import field_problems
from tests.live_es import client_for, drop_prefix, es_env, new_prefix
from workers.local import PrivateRedis

pytestmark = pytest.mark.integration

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("elasticsearch", id="elasticsearch", marks=pytest.mark.elasticsearch),
]
BOTH = pytest.mark.elasticsearch  # tests comparing the two need the cluster

ORIGINAL, COPY, UPDATE = "000_7b308ae5abe5466a.txt", "001_d5b6a9cfd5e8d1e9.txt", "000_update.txt"
COPY_AGAIN, UNREADABLE, REFUSED = "001_again.txt", "scan.txt", "tram.txt"
# seed 000's sentence the update rewrites, and what it says instead
OLD_SENTENCE = (
    "Mark Rutte made the remarks as foreign ministers from the alliance’s 32 members gathered "
    "in Brussels for a two-day meeting where there will be several discussions on Ukraine."
)
NEW_SENTENCE = (
    "Mark Rutte spoke as foreign ministers of the alliance’s 32 members assembled in Brussels, "
    "our correspondents reported overnight, with Ukraine first among their talks."
)
HUGE = "9" * 400  # float("9" * 400) is inf: a figure with an infinite value
REFUSED_TEXT = "\n\n".join(
    [
        "Harbour council approves record budget for new tram line",
        "The harbour council on Monday approved the budget for a new tram line through the old port "
        "district, after a debate that lasted most of the night.",
        f'"We will need {HUGE} tickets sold before this line ever pays for itself," said councillor '
        "Margot Vellinga, who voted against the plan.",
        "Supporters said the line would cut journey times across the district by half and bring new "
        "visitors to the waterfront.",
        "The first trams are expected to run in three years, the council said.",
    ]
)


@dataclass
class Product:
    """One back-end after the three runs: its command line and what the runs printed."""

    backend: str
    cli: Newsflow
    inputs: dict[str, Path]
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)
    es: Any = None
    prefix: str = ""

    def json(self, *args: str) -> list[dict[str, Any]]:
        return self.cli.json_lines(*args)

    def doc(self, name: str) -> str:
        """The document id the ledger gives the input `name`."""
        (record,) = [r for r in self.json("sources") if r["source"] == str(self.inputs[name])]
        return str(record["document"])


def _inputs(root: Path) -> dict[str, Path]:
    """Three drop folders, one per run; every path the same for both back-ends."""
    phase = [root / f"run{n}" for n in (1, 2, 3)]
    for folder in phase:
        folder.mkdir(parents=True)
    for seed in sorted(SEEDS.glob("*.txt")):
        shutil.copy(seed, phase[0] / seed.name)
    shutil.copy(SEEDS / COPY, phase[0] / COPY_AGAIN)
    (phase[0] / UNREADABLE).write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n")
    original = (SEEDS / ORIGINAL).read_text(encoding="utf-8")
    assert OLD_SENTENCE in original
    (phase[1] / UPDATE).write_text(original.replace(OLD_SENTENCE, NEW_SENTENCE), encoding="utf-8")
    (phase[2] / REFUSED).write_text(REFUSED_TEXT, encoding="utf-8")
    paths = {p.name: p.absolute() for folder in phase for p in folder.iterdir()}
    paths.update({f"run{n}": folder for n, folder in enumerate(phase, 1)})
    return paths


class Products:
    """Each back-end's product, made on first use (so a run without the cluster still
    tests the embedded index), stopped and deleted at the end of the module."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inputs = _inputs(root / "inbox")
        self.made: dict[str, Product] = {}
        self.redis: list[PrivateRedis] = []

    def get(self, request: pytest.FixtureRequest, backend: str, runs: tuple[int, ...] = (1, 2)) -> Product:
        """The product of `backend` after `newsflow run` of the drop folders `runs`, in turn."""
        key = f"{backend}-{'-'.join(map(str, runs))}"
        if key not in self.made:
            self.made[key] = self._make(request, backend, key, runs)
        return self.made[key]

    def _make(self, request: pytest.FixtureRequest, backend: str, key: str, runs: tuple[int, ...]) -> Product:
        env: dict[str, str] = {}
        product_es, prefix = None, ""
        if backend == "elasticsearch":
            url, prefix = str(request.getfixturevalue("es_url")), new_prefix()
            env = es_env(url, prefix)
            product_es = client_for(url, prefix)
        redis = PrivateRedis(self.root / key / "redis-home")
        self.redis.append(redis)
        env["NEWSFLOW_REDIS_URL"] = redis.start()
        # One worker child: the answers are compared, so they must not depend on which child
        # took which batch first (claim group ids in a document record are given in processing
        # order). Concurrent writers are the fault and race tests' business.
        env["NEWSFLOW_CONCURRENCY"] = "1"
        product = Product(
            backend, Newsflow(self.root / key / "home", env), self.inputs, es=product_es, prefix=prefix
        )
        if backend == "elasticsearch":
            product.cli("es", "setup")
        for n in runs:
            product.runs.append(
                product.cli("run", str(self.inputs[f"run{n}"]), "--timeout", "300", check=False, timeout=400)
            )
        return product

    def close(self) -> None:
        for product in self.made.values():
            if product.es is not None:
                drop_prefix(product.es, product.prefix)
                product.es.close()
        for redis in self.redis:
            redis.stop()


@pytest.fixture(scope="module")
def products(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Products]:
    made = Products(tmp_path_factory.mktemp("contract"))
    yield made
    made.close()


@pytest.fixture(scope="module", params=BACKENDS)
def product(request: pytest.FixtureRequest, products: Products) -> Product:
    return products.get(request, request.param)


@pytest.fixture(scope="module")
def both(request: pytest.FixtureRequest, products: Products) -> tuple[Product, Product]:
    return products.get(request, "sqlite"), products.get(request, "elasticsearch")


def marked(snippet: str) -> list[str]:
    """The words a JSON snippet marks (`<em>…</em>`), in order."""
    return re.findall(r"<em>(.*?)</em>", snippet)


# ------------------------------------------------------------------------ runs
def flat(text: str) -> str:
    """Output with its whitespace collapsed: rich wraps lines at 80 columns off a terminal."""
    return " ".join(text.split())


def test_each_run_summarises_its_inputs_and_names_every_failure(product: Product) -> None:
    first, update = product.runs
    assert first.returncode == 1, first.stdout  # an input failed: the exit says so
    assert "processed 5  duplicates 1  skipped 0  failed 1" in first.stdout
    assert f"failed: {product.inputs[UNREADABLE]}: BadInput: binary content" in flat(first.stdout)
    assert update.returncode == 0, update.stdout + update.stderr[-2000:]
    assert "processed 1  duplicates 0  skipped 0  failed 0" in update.stdout


# ---------------------------------------------------------------------- search
@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("testing ground experimental missiles", UPDATE),  # all in its title; 001 quotes them
        ("postpone peace talks", "003_eb258413f4bccc24.txt"),
        ("high-fiving Iran", "004_07fa454dbad26224.txt"),
    ],
)
def test_search_ranks_the_obvious_match_first(product: Product, query: str, first: str) -> None:
    hits = product.json("search", query)
    assert hits, query
    assert hits[0]["id"] == product.doc(first)


def test_search_snippets_mark_the_match(product: Product) -> None:
    hits = product.json("search", "Rutte", "--limit", "20")
    assert len(hits) == 5  # the five seeds' shown documents mention him
    for hit in hits:
        text = product.json("show", hit["id"])[0]["text"]
        if "Rutte" in text:  # "Rutte", or "Mark Rutte" marked as one name
            assert any("Rutte" in m for m in marked(hit["snippet"])), hit
        assert hit["snippet"].count("<em>") == hit["snippet"].count("</em>"), hit
        assert "\x02" not in hit["snippet"]
        assert "\x03" not in hit["snippet"]


def test_human_search_renders_every_hit_with_its_match_highlighted(product: Product) -> None:
    out = product.cli("search", "Rutte", "--limit", "20")
    hits = product.json("search", "Rutte", "--limit", "20")
    assert out.stderr == ""
    numbered = [line for line in out.stdout.splitlines() if re.match(r"\d+\. ", line)]
    assert [line.split(".")[0] for line in numbered] == [str(n) for n in range(1, len(hits) + 1)]
    assert "\x02" not in out.stdout
    assert "[/" not in out.stdout
    product.cli.env["FORCE_COLOR"] = "1"  # rich styles the marks as on a terminal
    try:
        coloured = product.cli("search", "Rutte", "--limit", "20").stdout
    finally:
        del product.cli.env["FORCE_COLOR"]
    assert coloured.count("\x1b[1;33mRutte\x1b[0m") >= sum("Rutte" in marked(h["snippet"]) for h in hits)


def test_search_lists_a_document_once_with_both_of_its_sources(product: Product) -> None:
    hits = product.json("search", "air defence systems")
    (copy,) = [h for h in hits if h["id"] == product.doc(COPY)]
    assert product.doc(COPY_AGAIN) == product.doc(COPY)
    assert sorted(copy["sources"]) == sorted(str(product.inputs[n]) for n in (COPY, COPY_AGAIN))


def test_search_shows_the_newer_version_and_hides_the_older(product: Product) -> None:
    old, new = product.doc(ORIGINAL), product.doc(UPDATE)
    assert old != new
    assert [h["id"] for h in product.json("search", "correspondents overnight")] == [new]
    assert product.json("search", "several discussions") == []  # only the older text says it
    found = {h["id"] for h in product.json("search", "Putin", "--limit", "50")}
    assert new in found
    assert old not in found
    (older,) = product.json("show", old)
    (newer,) = product.json("show", new)
    assert older["duplicate_of"] == new
    assert newer["duplicate_of"] == ""
    assert newer["versions"] == [old]


def test_search_every_word_must_match_and_punctuation_finds_nothing(product: Product) -> None:
    assert product.json("search", "Rutte", "zzzunknownword") == []
    nothing = product.cli("search", "?!", check=False)
    assert (nothing.returncode, nothing.stderr.splitlines()[-1]) == (
        2,
        "Error: nothing to search for: give at least one word or filter that is not excluded "
        "with '-' (for example: Rutte -Trump)",
    )
    assert product.cli("search", "zzzunknownword").stdout.strip() == "no hits"


# ----------------------------------------------------------------- show, export
def test_show_gives_the_whole_enriched_document(product: Product) -> None:
    doc_id = product.doc(COPY)
    (body,) = product.json("show", doc_id)
    assert body["id"] == doc_id
    assert body["outlet"] == "The Irish Times"
    assert "air defence systems" in body["text"]
    assert "Mark Rutte" in body["people"]
    assert body["claims"]
    assert body["entities"]
    assert product.json("show", doc_id[:10]) == [body]  # a unique prefix is enough
    human = flat(product.cli("show", doc_id).stdout)
    assert human.startswith(body["title"])
    assert "entities" in human
    assert "Mark Rutte" in human
    missing = product.cli("show", "zzzzzzzzzzzz", check=False)
    assert missing.returncode == 1
    assert "no document or input" in missing.stderr


def test_export_is_every_indexed_document_once_by_id_as_show_prints_it(product: Product) -> None:
    exported = [json.loads(line) for line in product.cli("export").stdout.splitlines()]
    ids = [d["id"] for d in exported]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    indexed = {r["document"] for r in product.json("sources") if r["state"] in ("done", "duplicate")}
    assert indexed <= set(ids)
    assert len(indexed) == 6  # five seeds and the update; the exact copy is one of them
    for body in exported:
        if body["id"] in indexed:
            assert product.json("show", body["id"]) == [body]


# ---------------------------------------------------------------------- claims
def test_claims_are_grouped_across_outlets_with_conflicting_figures_flagged(product: Product) -> None:
    groups = product.json("claims", "--limit", "500")
    assert groups
    assert all(g["sources"] and g["documents"] and g["text"] for g in groups)
    (conflict,) = product.json("claims", "--conflicts")
    assert conflict["conflict"] is True
    assert conflict["speaker"] == "Andrii Sybiha"
    figures = {f["text"] for f in conflict["figures"]}
    assert {"another 20 air defence systems", "at least 19 additional air defense systems"} <= figures
    assert conflict["outlets"] == ["The Irish Times", "The New York Times"]


def test_claims_speaker_and_min_sources_filter_the_groups(product: Product) -> None:
    everything = product.json("claims", "--limit", "500")
    rutte = product.json("claims", "--speaker", "rutte", "--limit", "500")
    assert rutte
    assert all("rutte" in g["speaker"].casefold() for g in rutte)
    assert rutte == [g for g in everything if "rutte" in g["speaker"].casefold()]
    wide = product.json("claims", "--min-sources", "3", "--limit", "500")
    assert wide
    assert wide == [g for g in everything if len(g["sources"]) >= 3]


def test_claims_by_a_speaker_in_any_spelling(product: Product) -> None:
    by_name = product.json("claims", "--speaker", "Andrii Sybiha", "--limit", "500")
    assert by_name
    assert {g["speaker"] for g in by_name} == {"Andrii Sybiha"}
    for spelling in ("Sibiga", "sybiha", "Mr Sybiha"):
        assert product.json("claims", "--speaker", spelling, "--limit", "500") == by_name, spelling


def test_claims_search_finds_a_name_in_any_spelling(product: Product) -> None:
    everything = product.json("claims", "--search", "Kyiv", "--limit", "500")
    kiev = product.json("claims", "--search", "Kiev", "--limit", "500")
    texts = [f"{c['speaker_canonical']} {c['text']}" for c in kiev]
    assert any("Kyiv" in t for t in texts)
    assert any("Kiev" in t for t in texts)
    assert sorted(c["id"] for c in kiev) == sorted(c["id"] for c in everything)
    assert product.json("search", "--claims", "Kiev", "--limit", "500") == kiev
    refused = product.cli("claims", "--search", "Rutte -Trump", check=False)
    assert refused.returncode == 2
    assert "a claims search takes words and names only" in refused.stderr


def test_claims_search_finds_claims_by_their_words(product: Product) -> None:
    hits = product.json("claims", "--search", "air defence systems")
    assert hits
    assert all(re.search(r"air defen[cs]e", h["text"], re.I) for h in hits)
    assert product.json("claims", "--search", "air", "--speaker", "zzznobody") == []


# ------------------------------------------------------------- search by name
GOLD_SEEDS = json.loads(GOLD.read_text(encoding="utf-8"))


def listed(product: Product) -> list[dict[str, Any]]:
    """Every document search lists (copies and older versions left out), as exported."""
    docs = (json.loads(line) for line in product.cli("export").stdout.splitlines())
    return [d for d in docs if not d["duplicate_of"]]


def shown(product: Product) -> dict[str, str]:
    """id -> title and text of every document search lists."""
    return {d["id"]: f"{d['title']}\n{d['text']}" for d in listed(product)}


def says(text: str, *phrases: str) -> bool:
    """Whether `text` holds any of `phrases` as whole words, case and UK/US spelling aside."""
    folded = re.sub(r"defen[cs]e", "defence", text.casefold())
    return any(
        re.search(rf"(?<!\w){re.escape(re.sub(r'defen[cs]e', 'defence', p.casefold()))}(?!\w)", folded)
        for p in phrases
    )


def test_any_spelling_of_a_name_finds_every_article_that_names_it(product: Product) -> None:
    """Each spelling gold.json lists for an entity (Kiev and Kyiv, Sibiga and Sybiha, Mr Rutte
    and Rutte, Zelenskiy and Zelensky, the North Atlantic Alliance and NATO) finds every
    article that names the entity in any of them, and nothing that names it in none of them
    and does not hold the words typed. Expected sets come from the texts, not the index."""
    texts = shown(product)
    problems = []
    for entity in GOLD_SEEDS["entities"]:
        naming = {i for i, t in texts.items() if says(t, *entity["variants"])}
        for variant in entity["variants"]:
            found = {h["id"] for h in product.json("search", variant, "--limit", "50")}
            words = re.findall(r"\w+", variant)
            literal = {i for i, t in texts.items() if all(says(t, w) for w in words)}
            if naming - found or found - naming - literal:
                problems.append(
                    f"{variant}: missed {len(naming - found)}, extra {len(found - naming - literal)}"
                )
    assert problems == []


def test_a_search_by_name_ranks_the_articles_that_mention_the_entity_first(product: Product) -> None:
    texts = shown(product)
    hits = [h["id"] for h in product.json("search", "Sibiga", "--limit", "50")]
    naming = {i for i, t in texts.items() if says(t, "Sibiga", "Sybiha")}
    assert set(hits[: len(naming)]) == naming
    kyiv = product.json("search", "Kiev", "--limit", "50")
    assert any(m.startswith("Kyiv") for h in kyiv for m in marked(h["snippet"]))  # as the text spells it


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # (query words, which shown documents: a predicate on the text)
        (("Rutte", "-Trump"), lambda t: says(t, "Rutte") and not says(t, "Trump")),
        (("Stoltenberg", "OR", "Sybiha"), lambda t: says(t, "Stoltenberg", "Sybiha", "Sibiga")),
        (('"air defence systems"',), lambda t: says(t, "air defence systems")),
        (("air", "defense", "systems"), lambda t: all(says(t, w) for w in ("air", "defence", "systems"))),
        (("person:Sibiga",), lambda t: says(t, "Sybiha", "Sibiga")),
        (("place:Kiev",), lambda t: says(t, "Kyiv", "Kiev")),
        (("after:2030-01-01",), lambda t: False),
        (("Rutte", "before:1990"), lambda t: False),
    ],
)
def test_the_query_language_on_both_indices(product: Product, query: tuple[str, ...], expected: Any) -> None:
    texts = shown(product)
    found = {h["id"] for h in product.json("search", *query, "--limit", "50")}
    assert found == {i for i, t in texts.items() if expected(t)}, query


def test_field_filters_use_what_was_extracted(product: Product) -> None:
    docs = listed(product)
    by_rutte = {d["id"] for d in docs if any(c["speaker_canonical"] == "Mark Rutte" for c in d["claims"])}
    assert by_rutte
    assert {h["id"] for h in product.json("search", "speaker:Rutte", "--limit", "50")} == by_rutte
    sky = {d["id"] for d in docs if d["outlet"] == "Sky News"}
    assert {h["id"] for h in product.json("search", "outlet:sky", "--limit", "50")} == sky
    (story,) = product.json("stories")
    in_story = {h["id"] for h in product.json("search", f"story:{story['id'][:8]}", "--limit", "50")}
    assert in_story == set(story["documents"]) - set(story["duplicates"])
    assert product.json("search", "person:Kyiv") == []  # a place is not a person


@BOTH
def test_kibana_counts_an_entity_under_its_canonical_name_however_it_was_written(
    both: tuple[Product, Product],
) -> None:
    """The dashboard's places, people and organisations panels aggregate the canonical
    facets (tests/unit/test_kibana_objects.py): the article that wrote "Kiev" counts
    for Kyiv, as does every article writing "Zelenskiy" for Volodymyr Zelensky."""
    elastic = both[1]
    docs = [json.loads(line) for line in elastic.cli("export").stdout.splitlines()]
    for facet, name, spellings in (
        ("places", "Kyiv", ("Kyiv", "Kiev")),
        ("people", "Volodymyr Zelensky", ("Zelensky", "Zelenskiy", "Zelenskyy")),
    ):
        response = elastic.es.search(
            index=f"{elastic.prefix}-documents",
            size=0,
            aggs={"top": {"terms": {"field": f"{facet}.keyword", "size": 100}}},
        )
        counts = {b["key"]: b["doc_count"] for b in response["aggregations"]["top"]["buckets"]}
        writing = [d for d in docs if says(f"{d['title']}\n{d['text']}", *spellings)]
        assert counts.get(name) == len(writing), (facet, name)
        assert not set(counts) & (set(spellings) - {name})  # no bucket for another spelling


@pytest.mark.parametrize(
    ("query", "says_what"),
    [
        (("after:2024-13-45",), "after:2024-13-45 is not a date: write after:YYYY-MM-DD"),
        (("-Trump",), "nothing to search for"),
        (("person:",), "person: needs a value"),
    ],
)
def test_a_query_that_cannot_run_gets_one_line_saying_what_to_type(
    product: Product,
    query: tuple[str, ...],
    says_what: str,
) -> None:
    result = product.cli("search", *query, check=False)
    assert result.returncode == 2
    assert says_what in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------- stories
def test_stories_gather_the_seeds_into_one_story_with_the_older_version_as_a_duplicate(
    product: Product,
) -> None:
    (story,) = product.json("stories")
    shown = {product.doc(p.name) for p in SEEDS.glob("*.txt") if p.name != ORIGINAL} | {product.doc(UPDATE)}
    assert shown <= set(story["documents"])
    assert product.doc(ORIGINAL) in story["duplicates"]
    assert set(story["outlets"]) >= {"Sky News", "The Irish Times", "The New York Times", "The Independent"}
    assert product.json("show", story["id"]) == [story]
    human = flat(product.cli("stories").stdout)
    assert human.startswith(f"1. {story['title']}")


# -------------------------------------------------------------------- entities
def test_entities_are_canonical_with_their_variants(product: Product) -> None:
    entities = {e["canonical"]: e for e in product.json("entities")}
    rutte = entities["Mark Rutte"]
    assert rutte["type"] == "PERSON"
    assert "Rutte" in rutte["variants"]
    assert rutte["documents"] >= 5


# -------------------------------------------------------------------- failures
def test_failed_inputs_are_listed_with_the_stage_and_reason(product: Product) -> None:
    (failed,) = product.json("failed")
    assert failed["source"] == str(product.inputs[UNREADABLE])
    assert failed["reason"].startswith("BadInput: binary content")
    assert failed["stage"]
    shown = product.cli("show", str(product.inputs[UNREADABLE])).stdout
    assert flat(shown) == flat(f"{failed['source']}: failed {failed['reason']}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_article_quoting_a_huge_number_is_indexed_searchable_and_exported_as_json(
    request: pytest.FixtureRequest, products: Products, backend: str
) -> None:
    product = products.get(request, backend, runs=(3,))
    (run,) = product.runs
    assert run.returncode == 0, run.stdout
    assert product.json("failed") == []
    (hit,) = product.json("search", "tram line budget")
    exported = [json.loads(line) for line in product.cli("export").stdout.splitlines()]  # valid JSON
    assert [d["id"] for d in exported] == [hit["id"]]
    assert "Infinity" not in product.cli("export").stdout


@BOTH
def test_both_backends_give_an_article_with_a_huge_number_the_same_outcome(
    request: pytest.FixtureRequest, products: Products
) -> None:
    embedded, elastic = (products.get(request, b, runs=(3,)) for b in ("sqlite", "elasticsearch"))
    assert [(r["source"], r["state"]) for r in embedded.json("sources")] == [
        (r["source"], r["state"]) for r in elastic.json("sources")
    ]


# ------------------------------------------------------------ both back-ends
# (query, whether one document is the obvious first hit: not "air defence systems", which
# The Irish Times writes and The New York Times spells "air defense systems")
SEARCHES = [
    ("Rutte", False),
    ("Putin peace", False),
    ("North Korean soldiers", False),
    ("testing ground experimental missiles", True),
    ("air defence systems", False),
    ("postpone peace talks", True),
    ("high-fiving Iran", True),
    ("correspondents overnight", True),
    ("several discussions", True),
]


@BOTH
def test_both_backends_find_the_same_documents(both: tuple[Product, Product]) -> None:
    """Normalised: the score and the order of hits (FTS5's bm25 with column weights and
    Lucene's BM25 over English-analysed fields are not on one scale, so documents about
    equally relevant come in either order; where one document is the obvious match, the
    first hit is compared), and the snippet's window (FTS5's snippet() is 24 tokens with
    ellipses, Elasticsearch's highlighter a sentence of up to 160 characters: which of the
    words typed fall in it differs, and a name is marked whole, "Mark Rutte" or "Mr Rutte"):
    that it marks a word typed is compared."""

    def answers(product: Product, query: str, obvious: bool) -> tuple[str | None, dict[str, Any]]:
        hits = product.json("search", query, "--limit", "50")
        typed = set(re.findall(r"\w+", query.casefold()))
        return (hits[0]["id"] if hits and obvious else None), {
            h["id"]: {
                "title": h["title"],
                "outlet": h["outlet"],
                "sources": sorted(h["sources"]),
                "story_id": h["story_id"],
                "marks_a_word_typed": bool(
                    typed & {w for m in marked(h["snippet"]) for w in re.findall(r"\w+", m.casefold())}
                ),
            }
            for h in hits
        }

    embedded, elastic = both
    for query, obvious in SEARCHES:
        assert answers(embedded, query, obvious) == answers(elastic, query, obvious), query


def _record(body: dict[str, Any]) -> dict[str, Any]:
    """A document record without what differs between two runs of the same inputs:
    received_at (the moment a worker read the file) and the history's timings; and the
    claim group ids inside the record, which the Redis claim-group store assigns at
    processing time in the order the workers happen to take the documents (two runs on
    one back-end differ too); `claims` lists the groups as the index regroups them, and
    test_both_backends_group_the_same_claims compares those exactly."""
    return {
        **body,
        "received_at": "",
        "history": [s["stage"] for s in body["history"]],
        "claims": [{**c, "group": ""} for c in body["claims"]],
    }


@BOTH
def test_both_backends_hold_the_same_records(both: tuple[Product, Product]) -> None:
    def records(product: Product) -> list[dict[str, Any]]:
        return [_record(json.loads(line)) for line in product.cli("export").stdout.splitlines()]

    embedded, elastic = both
    assert records(embedded) == records(elastic)
    assert len(records(elastic)) == 6


@BOTH
@pytest.mark.parametrize(
    "options",
    [
        (),
        ("--conflicts",),
        ("--speaker", "rutte"),
        ("--min-sources", "3"),
        ("--statements",),
        ("--search", "air defence systems"),
        ("--search", "Putin", "--speaker", "rutte"),
    ],
    ids=lambda o: " ".join(o) or "all",
)
def test_both_backends_group_the_same_claims(both: tuple[Product, Product], options: tuple[str, ...]) -> None:
    """Normalised for --search only: the order of the claims found, which each index ranks
    by its own relevance score (see test_both_backends_find_the_same_documents)."""
    embedded, elastic = (p.json("claims", *options, "--limit", "500") for p in both)
    if "--search" in options:
        embedded, elastic = (sorted(found, key=lambda c: c["id"]) for found in (embedded, elastic))
    assert embedded == elastic


@BOTH
def test_both_backends_tell_the_same_stories(both: tuple[Product, Product]) -> None:
    """Normalised: first_seen and last_seen, which for articles without a publication
    date are the moments the workers read them, and so the order of the documents (by
    that moment, to the second: two runs can fall either side of a second)."""

    def stories(product: Product) -> list[dict[str, Any]]:
        return [
            {**s, "first_seen": "", "last_seen": "", "documents": sorted(s["documents"])}
            for s in product.json("stories")
        ]

    assert stories(both[0]) == stories(both[1])


@BOTH
def test_both_backends_know_the_same_entities(both: tuple[Product, Product]) -> None:
    """Normalised: the registry's entity ids, given in the order the workers registered
    them (the registry is in Redis, not in the index)."""

    def entities(product: Product) -> list[dict[str, Any]]:
        return [{**e, "id": ""} for e in product.json("entities")]

    assert entities(both[0]) == entities(both[1])


@BOTH
def test_both_backends_report_the_same_inputs(both: tuple[Product, Product]) -> None:
    """Normalised: the times of each input's last change."""

    def inputs(product: Product) -> list[dict[str, Any]]:
        return sorted(({**r, "updated": 0} for r in product.json("sources")), key=lambda r: r["source"])

    assert inputs(both[0]) == inputs(both[1])


# --------------------------------------------------------------------- reindex
def test_reindex_switches_the_alias_and_every_answer_stays(product: Product) -> None:
    if product.backend == "sqlite":
        # The embedded index has no templates or aliases: nothing to rebuild; it says so.
        result = product.cli("reindex", check=False)
        assert result.returncode == 1
        assert "embedded index" in result.stderr
        return

    def answers() -> list[Any]:
        """What a user asks, scores left out: BM25 statistics of a freshly built index are
        not those of one that has had documents rewritten (deleted versions count)."""
        found = product.json("search", "Rutte", "--limit", "50")
        return [
            sorted(({**h, "score": 0} for h in found), key=lambda h: h["id"]),
            product.json("search", "testing ground experimental missiles")[0]["id"],
            product.json("claims", "--limit", "500"),
            product.json("stories"),
            product.json("show", product.doc(UPDATE)),
        ]

    before = answers()
    export = product.cli("export").stdout
    out = product.cli("reindex").stdout
    for kind in ("documents", "claims", "stories"):
        alias = f"{product.prefix}-{kind}"
        assert f"{alias}: {alias}-v1 -> {alias}-v2" in out
        assert sorted(product.es.indices.get_alias(name=alias).body) == [f"{alias}-v2"]
    assert answers() == before
    assert product.cli("export").stdout == export
    assert field_problems(product.es, product.prefix) == []  # Kibana's data views still find their fields


# --------------------------------------------------------------- command output
def test_no_command_prints_the_index_clients_transport_log(product: Product) -> None:
    commands = [
        ("search", "Rutte"),
        ("show", product.doc(COPY)),
        ("claims", "--conflicts"),
        ("stories",),
        ("export",),
    ]
    for args in commands:
        result = product.cli(*args)
        assert result.stderr == "", args
        assert "elastic_transport" not in result.stdout
    if product.backend == "elasticsearch":  # it is in the log at debug
        product.cli.env["NEWSFLOW_LOG_LEVEL"] = "DEBUG"
        try:
            debug = product.cli("search", "Rutte").stderr
        finally:
            del product.cli.env["NEWSFLOW_LOG_LEVEL"]
        assert "elastic_transport" in debug
        assert "/_search" in debug
