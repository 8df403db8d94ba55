"""The model's attribute rules applied by table lookup instead of spaCy's Matcher (pure).

English spaCy models set each token's coarse part of speech (`pos_`), morphology and a
few lemmas with an `attribute_ruler`: some 180 rules ("tag VBZ -> VERB, Number=Sing
…", "`gets` tagged VBZ -> lemma get", "`is` after an expletive -> VERB"). The ruler
runs them through spaCy's general Matcher, which walks every rule's state machine over
every token: measured over bench/throughput.py's corpus, that was about 14 CPU ms of
a document's ~85 ms parse, for work that is a lookup. `AttributeTable` reads the same
rules from the loaded ruler and matches them with dictionaries keyed on the first
token's tag, lowercase form or dependency (the rules that ask for no word are answered
once per tag, dependency and space: a few hundred combinations), then sets the
attributes with spaCy's own `set_token_attrs`, in the ruler's order (a later rule wins,
as in the ruler). The result is the ruler's, token for token: every token's pos, tag,
morphology, lemma and dependency over 600 documents of that corpus, and in
tests/unit/test_attribute_table.py over the seeds and sentences that reach the rarer
rules. About 2.5 CPU ms a document against the ruler's 17-20.

Rules it cannot read (an operator such as "OP", a key other than TAG, LOWER, DEP and
IS_SPACE, a condition other than a value, IN, NOT_IN or REGEX) leave the model's ruler in place
(`use_attribute_table` returns False): another model stays correct, only slower.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from spacy.attrs import DEP, IS_SPACE, LOWER, TAG
from spacy.language import Language
from spacy.tokens import Doc
from spacy.tokens._retokenize import set_token_attrs

_COLUMNS = {"TAG": 0, "LOWER": 1, "DEP": 2, "IS_SPACE": 3}  # doc.to_array's order below
_ARRAY = [TAG, LOWER, DEP, IS_SPACE]
# Which key of a pattern's first token indexes it: the most selective first.
_INDEX_KEYS = ("LOWER", "TAG", "DEP")

Row = tuple[int, int, int, int]  # a token's TAG, LOWER, DEP (string hashes), IS_SPACE
Test = Callable[[Row], bool]
Entry = tuple[int, int, list[Test]]  # rule number, which token of the match it sets, token tests


class UnsupportedRule(ValueError):
    """A ruler pattern this table cannot match exactly."""


class AttributeTable:
    """The attribute ruler's rules, matched by lookup (see the module docstring)."""

    def __init__(self, vocab: Any) -> None:
        self.vocab = vocab
        self.attrs: list[dict[int, Any]] = []
        # One-token rules that do not ask for a word (most: "tag VBZ -> VERB, …"): what they
        # give depends on the token's tag, dependency and whether it is a space alone, a few
        # hundred combinations, so each combination's answer is remembered (`_by_kind`).
        self._wordless = _Lookup()
        self._by_kind: dict[tuple[int, int, int], tuple[int, ...]] = {}
        # The rest: rules that ask for a word ("gets" tagged VBZ), looked up by the word
        # where they can be, and rules over two tokens or more ("gon na", "there is").
        self._worded = _Lookup()

    def load(self, ruler: Any) -> AttributeTable:
        """Take `ruler`'s rules (raises UnsupportedRule for one the table cannot match)."""
        self.attrs = list(ruler.attrs)
        self._wordless, self._worded, self._by_kind = _Lookup(), _Lookup(), {}
        # The ruler's Matcher key of a rule is the rule's number, as a string.
        for rule, index in enumerate(ruler.indices):
            for pattern in ruler.matcher.get(str(rule))[1]:
                tests = [self._token_test(t) for t in pattern]
                entry = (rule, index if index >= 0 else len(pattern) + index, tests)
                wordless = len(pattern) == 1 and "LOWER" not in pattern[0]
                (self._wordless if wordless else self._worded).add(entry, self._first_keys(pattern[0]))
        return self

    def __call__(self, doc: Doc) -> Doc:
        rows: list[Row] = [tuple(r) for r in doc.to_array(_ARRAY).tolist()]
        matches = []
        n = len(rows)
        for i, row in enumerate(rows):
            kind = (row[0], row[2], row[3])  # tag, dependency, space
            wordless = self._by_kind.get(kind)
            if wordless is None:
                wordless = tuple(rule for rule, _, (test,) in self._wordless.candidates(row) if test(row))
                self._by_kind[kind] = wordless
            matches += [(rule, i) for rule in wordless]
            for rule, offset, tests in self._worded.candidates(row):
                if tests[0](row) and _rest_match(tests, rows, i, n):
                    matches.append((rule, i + offset))
        # The ruler's order: by rule, so that a later rule overrides an earlier one.
        for rule, target in sorted(set(matches)):
            set_token_attrs(doc[target], self.attrs[rule])
        return doc

    def _first_keys(self, token_pattern: Mapping[str, Any]) -> list[tuple[int, int]] | None:
        """The (column, value hash) keys under which a pattern starting with
        `token_pattern` is looked up, or None when no key is a plain value or IN list."""
        for name in _INDEX_KEYS:
            cond = token_pattern.get(name)
            if isinstance(cond, str):
                return [(_COLUMNS[name], self.vocab.strings.add(cond))]
            if isinstance(cond, Mapping) and set(cond) == {"IN"}:
                return [(_COLUMNS[name], self.vocab.strings.add(v)) for v in cond["IN"]]
        return None

    def _token_test(self, token_pattern: Mapping[str, Any]) -> Test:
        """A token pattern ({"TAG": "VBZ", "LOWER": "gets"}) as a test of a token's row."""
        checks = [self._check(name, cond) for name, cond in token_pattern.items()]
        if len(checks) == 1:
            return checks[0]
        return lambda row: all(check(row) for check in checks)

    def _check(self, name: str, cond: Any) -> Test:
        if name not in _COLUMNS:
            raise UnsupportedRule(f"key {name!r}")
        column, strings = _COLUMNS[name], self.vocab.strings
        if name == "IS_SPACE" and isinstance(cond, bool):
            return _equals(column, int(cond))
        if name != "IS_SPACE" and isinstance(cond, str):
            return _equals(column, strings.add(cond))
        if name != "IS_SPACE" and isinstance(cond, Mapping) and len(cond) == 1:
            ((op, arg),) = cond.items()
            if op == "IN":
                return _member(column, frozenset(strings.add(v) for v in arg), True)
            if op == "NOT_IN":
                return _member(column, frozenset(strings.add(v) for v in arg), False)
            if op == "REGEX":
                regex = re.compile(arg)
                return lambda row: bool(regex.search(strings[row[column]]))
        raise UnsupportedRule(f"{name} {cond!r}")


def _rest_match(tests: list[Test], rows: list[Row], i: int, n: int) -> bool:
    """Whether the tokens after the i-th pass the rest of a rule's tests (its first passed)."""
    if len(tests) == 1:
        return True
    return i + len(tests) <= n and all(test(rows[i + j]) for j, test in enumerate(tests) if j)


def _equals(column: int, value: int) -> Test:
    return lambda row: row[column] == value


def _member(column: int, values: frozenset[int], inside: bool) -> Test:
    return lambda row: (row[column] in values) is inside


class _Lookup:
    """Rules by the value their first token must have (tag, lowercase form or dependency),
    and those whose first token has no such value (tested at every token)."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[int, int], list[Entry]] = defaultdict(list)
        self.everywhere: list[Entry] = []

    def add(self, entry: Entry, keys: list[tuple[int, int]] | None) -> None:
        if keys is None:
            self.everywhere.append(entry)
        for key in keys or ():
            self.by_key[key].append(entry)

    def candidates(self, row: Row) -> list[Entry]:
        """The rules that may match at a token with `row`, in no particular order."""
        found = self.everywhere
        for column in (0, 1, 2):  # TAG, LOWER, DEP
            if more := self.by_key.get((column, row[column])):
                found = found + more
        return found


@Language.factory("newsflow_attribute_table")
def _make(nlp: Language, name: str) -> AttributeTable:
    return AttributeTable(nlp.vocab)  # empty: `use_attribute_table` loads the ruler's rules


def use_attribute_table(nlp: Language, name: str = "attribute_ruler") -> bool:
    """Replace `nlp`'s attribute ruler by an `AttributeTable` of the same rules, under the
    same name. Returns False (and leaves the ruler) when there is none or its rules are
    beyond the table."""
    if name not in nlp.pipe_names:
        return False
    ruler = nlp.get_pipe(name)
    try:
        AttributeTable(nlp.vocab).load(ruler)
    except UnsupportedRule:
        return False
    table = nlp.replace_pipe(name, "newsflow_attribute_table")
    assert isinstance(table, AttributeTable)
    table.load(ruler)
    return True
