"""Direct quotes and reported speech from a dependency parse (pure; the model is passed in).

One pass per paragraph:
1. a quotation takes the speech verb next to it: `"…," X said`, `"…," said X`,
   `X said: "…"`, `X warned that "…"`; the quotes that follow in the same paragraph
   with no verb of their own (`"…," she said. "…"`) and the paragraphs that carry on an
   unclosed quote belong to the same claim;
2. a speech verb with a subject and a clause (`X said (that) …`, `…, X said`,
   `A, X said, B`, `according to X, …`) is reported speech; quotes inside the clause are
   part of it;
3. a paragraph that is only a quote, right after an attributed quote, is the same
   speaker going on.
Beyond the rules, candidates the model (model.py) judges: any verb with a subject and
content, any verb next to a quote, a noun with its owner ("Trump's support for …") and
an adjective with its subject ("X is confident that …") (candidates.py).
The sections are modules: types.py (the records), paragraph.py (the parse helpers every
rule shares), labelled.py (0), quotations.py (1, 3), reported.py (2), mentions.py (the
names seen, for speakers.py).
The speaker is returned as written ("he", "who", "the statement", "Mr Rutte");
`speakers.py` resolves it.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from pipeline.claims.attribution.candidates import Candidates
from pipeline.claims.attribution.labelled import LABEL, Labelled
from pipeline.claims.attribution.mentions import Mentions
from pipeline.claims.attribution.model import Model, choose, load_model
from pipeline.claims.attribution.named import name_speakers
from pipeline.claims.attribution.quotations import Quotations
from pipeline.claims.attribution.span_model import SpanModel, load_span_model
from pipeline.claims.attribution.types import Attribution, Mention, Quoted, fields, one_per_span
from pipeline.claims.cues import SPEECH_NOUNS, SPEECH_VERBS, verb_lemma
from pipeline.claims.quotes import Quote, find_quotes, paragraphs
from pipeline.nlp import parse

__all__ = ["Attribution", "Mention", "find_attributions"]


class Paragraph(Labelled, Quotations, Candidates, Mentions):
    """One parsed paragraph with every rule: the sections are the base classes."""


Select = Callable[[Paragraph, list[Attribution]], list[Attribution]]


def find_attributions(
    text: str,
    nlp: Any,
    *,
    select: Select | None = None,
    model: Model | None = None,
    quotes: list[Quote] | None = None,
    span_model: SpanModel | None = None,
    recut: bool = True,
) -> tuple[list[Attribution], list[Mention]]:
    """Every attribution in `text`, in order, and the mentions seen on the way.

    `select` chooses among a paragraph's candidates (the rules' and the broad search's):
    by default `model`, else the shipped one (model.py), else the rules alone.
    `quotes`: `find_quotes(text)`, when the caller has it already.
    `recut`: let `span_model`, else the shipped one (span_model.py), cut the contents of
    reported speech and the broad search's candidates again (off while its own training
    data is gathered).
    """
    if recut and span_model is None:
        span_model = load_span_model()
    if select is None:
        select = partial(model_select, model=model)
    if quotes is None:
        quotes = find_quotes(text)
    quoted = Quoted([q.start for q in quotes], [q.end for q in quotes])
    paras = paragraphs(text)
    found: list[Attribution] = []
    mentions: list[Mention] = []
    previous_direct: Attribution | None = None
    labels = Counter(m.group("name") for s, e in paras if (m := LABEL.match(text, s, e)))
    transcript = {name for name, n in labels.items() if n >= 2 and name.isupper()}
    parsed = [
        Paragraph(text, p_start, p_end, sdoc, quoted)
        for (p_start, p_end), sdoc in zip(paras, parse(nlp, (text[s:e] for s, e in paras)), strict=True)
    ]
    sentence_base = 0
    for para in parsed:
        sentence_base += para.number_sentences(sentence_base)
        mentions.extend(para.mentions())
    names = transcript | {m.text for m in mentions if m.label in ("PERSON", "ORG")}
    names |= {m.text.split()[-1] for m in mentions if m.label == "PERSON"}
    announced: tuple[Paragraph, Any] | None = None  # "Caddell continued:" and its cue
    for (p_start, p_end), para in zip(paras, parsed, strict=True):
        claims = para.labelled(names, transcript)
        content_start = claims[0].start if claims else p_start
        # the quotes come in text order: this paragraph's by bisection, not by a scan of all
        p_quotes = quotes[
            bisect.bisect_left(quoted.starts, content_start) : bisect.bisect_left(quoted.starts, p_end)
        ]
        claims = [_source(a, "labelled") for a in claims]
        if announced is not None and p_quotes and p_quotes[0].start - p_start <= 2:
            # a paragraph that opens with a quotation after one that announced it
            before, cue = announced
            first = p_quotes[0]
            claims.insert(
                0,
                _source(before.make([(first.start, first.end)], "direct", before.subject(cue), cue), "quote"),
            )
        announced = (para, cue) if (cue := para.colon_cue()) is not None else None
        claims += [_source(a, "quote") for a in para.direct(p_quotes, found, previous_direct)]
        claims += [
            _whole_quote(_source(a, _reported_source(para, a)), p_quotes) for a in para.reported(claims)
        ]
        claims += para.broad({a.cue_start for a in claims})
        claims += para.broad_nominal({a.cue_start for a in claims})
        if recut and span_model is not None:
            claims = [span_model.recut(para, a) for a in claims]
        claims = select(para, claims)
        claims += [_source(a, "quote") for a in para.carried(p_quotes, claims)]
        claims.sort(key=lambda a: a.start)
        found.extend(one_per_span(claims))
        previous_direct = claims[-1] if claims and claims[-1].kind == "direct" else None
    return name_speakers(found, mentions, text), mentions


def rules_only(para: Paragraph, claims: list[Attribution]) -> list[Attribution]:
    """The rules' candidates, as they were before a model was fitted."""
    return [a for a in claims if not a.source.startswith("broad")]


def model_select(para: Paragraph, claims: list[Attribution], model: Model | None = None) -> list[Attribution]:
    """The candidates `model` (else the shipped one) keeps; the rules' alone when there is none."""
    model = model or load_model()
    if model is None:
        return rules_only(para, claims)
    return choose(para, claims, model)


def _whole_quote(a: Attribution, p_quotes: list[Any]) -> Attribution:
    """A reported claim whose content opens a quotation that runs past it ("According to X,
    “… . Because …”", "X said, “… . …”": the parse keeps one sentence) says the whole quotation."""
    first, last = a.spans[0][0], a.spans[-1][1]
    for q in p_quotes:
        if q.start - 1 <= first <= q.start + 2 and q.end > last + 2:
            return Attribution(**{**fields(a), "spans": ((q.start, q.end),), "kind": "direct"})
    return a


def _source(a: Attribution, source: str) -> Attribution:
    return a if a.source else Attribution(**{**fields(a), "source": source})


def _reported_source(para: Paragraph, a: Attribution) -> str:
    """ "speech" for a reported-speech rule's find whose cue is a speech verb or noun ("said",
    "warned", "Moscow's claim that"): the model keeps those (they beat it over train: of the
    speech-verb candidates it would drop, 105 were right and 157 wrong, a loss in F1); the
    other rule finds ("believes", "called for", "according to") the model judges."""
    tok = para.token_at(a.cue_start)
    if tok is None or a.cue == "according to":
        return "reported"
    verb = tok.pos_ in ("VERB", "AUX") and verb_lemma(tok) in SPEECH_VERBS
    return "speech" if verb or tok.lower_ in SPEECH_NOUNS else "reported"
