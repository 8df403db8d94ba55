"""Phrase patterns that mark page furniture in plain text (pure).

Each pattern is a general signal, not a rule for one page: calls to action
(subscribe, donate, share, comment), photo credits and captions, cookie and
legal notices, "read more" link labels, author bios. They are features of the
line model and, for the strongest ones, sentence-level filters inside kept lines.
"""

from __future__ import annotations

import re
from itertools import pairwise


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _split_bar(text: str) -> list[str]:
    return text.split("|")


# Matching works on a line's lower-cased words: a word or a two-word phrase from
# these sets marks the line. Set lookups keep this cheap (it runs on every line);
# the regexes below run only on lines that pass the word gate.

# Calls to action and site furniture: a line containing one is rarely article text.
CTA_WORDS = _words("""subscribe subscribed subscriber subscribers subscription subscriptions newsletter
    newsletters advertisement advertisements advertising advertise sponsored cookie cookies
    copyright comments comment commenting trending recommended unsubscribe paywall
    premium javascript browser donate donation donations login signup
    """)
CTA_PHRASES = frozenset(
    tuple(p.split())
    for p in _split_bar("""sign up|sign in|log in|your support|support us|support our|privacy policy|
    terms of|terms and|share this|share on|share via|follow us|read more|see more|view more|
    show more|read full|see all|view all|continue reading|click here|most read|most popular|
    most viewed|related articles|related stories|related content|you may|may also|
    watch now|watch live|video player|download the|download our|skip to|email address|
    back to|tap here|photo gallery|all rights|rights reserved|please enable|please use|
    affiliate commission|affiliate links|more on|more from""")
)
CTA_PHRASE_STARTS = frozenset(first for first, _ in CTA_PHRASES)

# Photo credits and captions.
CREDIT_WORDS = _words(
    "photo photograph photos image images picture pic credit illustration caption getty "
    "reuters afp shutterstock istock alamy epa"
)
CREDIT = re.compile(
    r"\b(?:photo(?:graph)?s?|image|picture|pic|credit|illustration|caption)[ \t]*(?:by\b|:|\.\.\.|/)|"
    r"\b(?:getty images|reuters|afp|shutterstock|istock|alamy|ap photo|epa)\b"
)

# Author bios and bylines.
BYLINE_FIRST = _words("by written words reporting posted von por")
BYLINE_WORDS = _words(
    "reporter writer correspondent editor contributor columnist journalist writes covers author contributed"
)
BYLINE = re.compile(
    r"^(?:by|written by|words by|reporting by|posted by|von|por)[ \t]+\S|"
    r"\b(?:is an? (?:\w+ )?(?:reporter|writer|correspondent|editor|contributor|columnist|journalist)"
    r"|writes about|covers \w+ for|is the author of|contributed (?:to )?(?:this|reporting))\b"
)

DATE_WORDS = _words("""jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june
    july august september october november december updated published posted ago""")
DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?[ \t]+\d{1,2}\b|"
    r"\b\d{1,2}[ \t]+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|"
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|"
    r"\b(?:updated|published|posted)\b|\b\d+[ \t]+(?:min|mins|minutes|hours?|days?)[ \t]+ago\b"
)


# Reader comments: "joetoronto says:", "November 19, 2019 at 7:06 am", "Reply", "12 Likes".
COMMENT_MARKER = re.compile(
    r"^\S+(?: \S+)? (?:says|said|wrote|writes|commented|replied)[:.]?$|"
    r"\bat \d{1,2}:\d{2}(?: ?[ap]\.?m\.?)?$|"
    r"^(?:reply|report|flag|like|likes|\d+ (?:likes?|replies|points?))$|"
    r"^\d+ (?:comments?|replies)\b|\b(?:hours?|minutes?|days?) ago$",
    re.IGNORECASE,
)
# Every COMMENT_MARKER match holds one of these words whole (keep in step with it).
COMMENT_MARKER_WORDS = _words("""says said wrote writes commented replied at reply report flag like likes
    replies point points comment comments ago""")

# A teaser: a headline glued to the dateline of its lede ("…stateless WASHINGTON: Expressing…").
GLUED_DATELINE = re.compile(r"[a-z0-9’'\"”)] [A-Z]{3,}(?:[ -][A-Z]{2,})*(?: \([A-Za-z]+\))?:\s")

FIRST_PERSON = _words("we our us ours")
SECOND_PERSON = _words("you your yours")
# The vocabulary of a site's appeal for money or sign-ups, about itself.
APPEAL_WORDS = _words("""donation donations donate support journalism journalists reporters paywall paywalls
    subscribe subscription subscriptions membership contribution contribute afford trusted
    independent newsletter""")


def call_to_action_hits(lower_words: list[str]) -> int:
    """How many call-to-action words and two-word phrases the line contains."""
    hits = sum(map(CTA_WORDS.__contains__, lower_words))
    if len(lower_words) > 1:
        hits += sum(map(CTA_PHRASES.__contains__, pairwise(lower_words)))
    return hits


def is_credit(lower_line: str, lower_words: list[str]) -> bool:
    return not CREDIT_WORDS.isdisjoint(lower_words) and CREDIT.search(lower_line) is not None


def is_byline(lower_line: str, lower_words: list[str]) -> bool:
    if not lower_words:
        return False
    gate = lower_words[0] in BYLINE_FIRST or not BYLINE_WORDS.isdisjoint(lower_words)
    return gate and BYLINE.search(lower_line) is not None


def is_date(lower_line: str, lower_words: list[str]) -> bool:
    return not DATE_WORDS.isdisjoint(lower_words) and DATE.search(lower_line) is not None


URLISH = re.compile(r"https?://|www\.|\.com\b|@\w|#\w", re.IGNORECASE)

# Sentence-level boilerplate: phrases that, inside an otherwise kept line, mark one
# sentence as an appeal or notice to drop (the seed "Your support makes all the
# difference.The new secretary-general…" is two sentences glued by a scraper).
_SENTENCE_BOILERPLATE = (
    r"(?:your support\b|support (?:us|our journalism)|please (?:consider )?(?:donate|subscribe|support)|"
    r"(?:sign up|subscribe) (?:for|to|now|today)|(?:click|tap) here|read more\b|"
    r"advertisement\b|continue reading\b|"
    r"join (?:[\w-]+ ){0,2}(?:commenting|conversations?|discussions?|community|debate|forum)|"
    r"follow us\b|share this\b|this (?:article|story) (?:is|was) (?:brought|made possible)|"
    r"we use cookies|(?:photo(?:graph)?|image|pic|credit)\s*:)"
)
SENTENCE_BOILERPLATE = re.compile("^" + _SENTENCE_BOILERPLATE, re.IGNORECASE)
# Every phrase above holds one of these words whole: a line without any of them
# needs no sentence splitting (keep in step with the phrases).
SENTENCE_BOILERPLATE_WORDS = _words("""support please sign subscribe click tap read advertisement
    continue join follow share article story use photo photograph image pic credit""")
# The same phrases at a line start or right after a sentence end: a quick test that
# lets lines without any of them skip sentence splitting.
SENTENCE_BOILERPLATE_ANYWHERE = re.compile(r"(?:^|(?<=[.!?\"”’)]))\s*" + _SENTENCE_BOILERPLATE, re.IGNORECASE)

# Editorial elision markers copied from the page: "<...>", "[…]", "(...)".
ELISION = re.compile(r"\s*(?:<\s*(?:\.\.\.|…)\s*>|\[\s*(?:\.\.\.|…)\s*\])")

STOPWORDS = _words("""a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    said says would could may might must shall new one two three
    o os as um uma de do da dos das em no na que e para com por não se mais ao
    el la los las un una del y en es por con para su al lo
    и в не на что с по как это из за к но от для о же так бы
    dan yang di ke dari untuk dengan ini itu pada adalah tidak dalam akan juga
    der die das und ist nicht ein eine zu den mit von auf für sich dem""")


# -- line vetoes: furniture recognised for certain, whatever the model says ----------

_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+[\"”’)]*|$)")

# Kicker and section labels: "More on Russia", "Ukraine war: Latest updates", "Related".
LABEL = re.compile(
    r"^(?:more (?:on|from|about)\b|read more\b|related\b|see also\b|also read\b|"
    r"recommended\b|trending\b|advertisement\b|sponsored\b|share\b|comments?\b|"
    r"most (?:read|popular|viewed)\b)|\b(?:latest|live) updates?$|"
    r"^(?:exit |view |switch to )?(?:mobile|desktop|full) (?:version|site)$",
    re.IGNORECASE,
)
# Every LABEL match holds one of these words whole (keep in step with it).
LABEL_WORDS = _words("""more read related see also recommended trending advertisement sponsored share
    comment comments most update updates version site""")

# A bio line: a name, then what the person does ("Kim Barker is a reporter for…").
AUTHOR_BIO = re.compile(
    r"^(?:[A-Z][\w'’.-]+ ){1,3}(?:is an? (?:[\w-]+ ){0,3}(?:reporter|writer|correspondent|editor|"
    r"contributor|columnist|journalist|producer|author)\b|writes (?:about|on|for)\b|"
    r"covers [\w ]{1,40} for\b|is the author of\b)"
)

# Every AUTHOR_BIO match holds one of these words whole (keep in step with it).
AUTHOR_BIO_WORDS = _words(
    "reporter writer correspondent editor contributor columnist journalist producer author writes covers"
)

# A byline of names only: "Lara Jakes, Kim Barker", "Jane Doe and John Roe".
_NAME = r"[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){1,2}"
NAME_LIST = re.compile(rf"^{_NAME}(?:, {_NAME})+(?:,? (?:and|&) {_NAME})?$")
_QUOTES = frozenset('"“”«»')
_APPEAL_RULE_WORDS = APPEAL_WORDS - {"support", "independent", "trusted", "contribute", "afford"}


# A media label or player notice: the next short line is that media's title or caption.
MEDIA_LABEL = re.compile(
    r"^(?:image|photo|picture|video|watch|listen|gallery|graphic|audio)s?\s*:?$|"
    r"\b(?:video|audio|media) player\b|\bbrowser (?:does not|doesn't) support\b",
    re.IGNORECASE,
)
# Every MEDIA_LABEL match holds one of these words whole (keep in step with it).
_MEDIA = ["image", "photo", "picture", "video", "watch", "listen", "gallery", "graphic", "audio"]
MEDIA_LABEL_WORDS = frozenset([*_MEDIA, *(w + "s" for w in _MEDIA), "player", "browser"])


def _plain_words(sentence: str) -> list[str]:
    """The sentence's words, lower-cased, without the punctuation around them; "US" in
    capitals is the country, not the pronoun ("incoming US president"), and is left out."""
    words = (w.strip(".,;:!?'‘’()") for w in sentence.split())
    return [w.lower() for w in words if w != "US"]


def is_appeal_sentence(sentence: str) -> bool:
    """First or second person plus appeal vocabulary, outside quotation marks."""
    if not _QUOTES.isdisjoint(sentence):
        return False  # a quoted "we" is a source speaking, not the site
    words = _plain_words(sentence)
    person = not FIRST_PERSON.isdisjoint(words) or not SECOND_PERSON.isdisjoint(words)
    return person and not _APPEAL_RULE_WORDS.isdisjoint(words)


def speaks_as_site(line: str) -> bool:
    """First person plural outside quotation marks ("we know how important it is…")."""
    for sentence in _SENTENCE.findall(line):
        if _QUOTES.isdisjoint(sentence) and not FIRST_PERSON.isdisjoint(_plain_words(sentence)):
            return True
    return False


# A speaker's label opening a line of an interview or a transcript: "Q: ", "A: ", "SMITH: ".
SPEAKER_TAG = re.compile(r"^(?:[A-Z]{1,3}|[A-Z][A-Za-z'’-]+(?: [A-Z][A-Za-z'’-]+)?):\s")

APPEAL_STEMS = ("donat", "journalis", "reporter", "paywall", "subscri", "membership", "newsletter")


def is_appeal(line: str) -> bool:
    """A site's appeal for money or sign-ups: most of its sentences ask in the first person."""
    lower = line.lower()
    if not any(stem in lower for stem in APPEAL_STEMS):  # a cheap gate: this runs on every line
        return False
    if SPEAKER_TAG.match(line):
        return False  # an interview's answer: the "we" is the speaker's, as inside quotation marks
    sentences = [s for s in _SENTENCE.findall(line) if s.strip()]
    if not sentences:
        return False
    return sum(map(is_appeal_sentence, sentences)) * 2 >= len(sentences)


# Notices about the page rather than the story: "Follow X on Twitter…", copyright lines,
# "Write to Jane Doe at jane@example.com".
PAGE_NOTICE = re.compile(
    r"^follow\b.{0,80}\b(?:twitter|facebook|instagram|youtube|linkedin|tiktok)\b|"
    r"^(?:copyright\b|©)|\ball rights reserved\b|"
    r"\b[\w.+-]+@[\w-]+\.[\w.]+\b",
    re.IGNORECASE,
)


def is_page_notice(line: str) -> bool:
    """A social, legal or contact line (call it on short lines: a long one may quote an address)."""
    return ("@" in line or "©" in line or line[:1] in "CcFf" or "reserved" in line) and (
        PAGE_NOTICE.search(line) is not None
    )


def is_media_label(line: str) -> bool:
    return (len(line) <= 30 or "player" in line or "browser" in line) and MEDIA_LABEL.search(line) is not None


def is_vetoed(line: str, n_words: int) -> bool:
    """Whether a line is furniture by a rule that holds on any site (appeals apart)."""
    if n_words <= 6 and LABEL.search(line):
        return True
    if n_words <= 3 and is_media_label(line):
        return True
    if n_words <= 15 and SENTENCE_BOILERPLATE.search(line):
        return True
    if n_words <= 60 and AUTHOR_BIO.search(line):
        return True
    return n_words <= 12 and NAME_LIST.search(line) is not None
