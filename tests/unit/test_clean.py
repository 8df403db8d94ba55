"""The clean_boilerplate stage: plain text line by line and sentence by sentence, and HTML."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.cleaning import patterns as pat
from pipeline.cleaning.features import FEATURE_NAMES, LOCAL_NAMES, line_vetoes, scan_page
from pipeline.cleaning.html import filter_lines
from pipeline.cleaning.outlet import find_outlet
from pipeline.cleaning.text import Line, clean_text, reads_as_sentence, sentence_pieces, split_lines
from pipeline.document import content_id
from pipeline.errors import SkipDocument
from pipeline.stages.clean import clean_boilerplate
from tests.factories import make_document

BODY = [
    "Nato's secretary general said on Tuesday that the alliance would focus on sending more "
    "air defence systems to Ukraine before the winter, rather than on membership talks.",
    "Foreign ministers from the alliance's 32 members gathered in Brussels for a two-day meeting, "
    "where several discussions on Ukraine's security were planned by the hosts.",
    "The ministers were expected to agree on a new package of military aid, officials said, "
    "although the size of the package was still being discussed late on Monday evening.",
    "Ukraine's foreign minister told reporters that his country needed at least 19 more systems "
    "to protect its power grid from Russian missile and drone strikes this winter.",
]


def page(*middle: str) -> str:
    """A page: title, navigation, the body with `middle` after its second paragraph, a footer."""
    return "\n".join(
        [
            "Nato pledges more air defence for Ukraine | World News",
            "Home",
            "World",
            "Politics",
            "Business",
            "Sport",
            "Nato pledges more air defence for Ukraine",
            BODY[0],
            BODY[1],
            *middle,
            BODY[2],
            BODY[3],
            "Share this article",
            "Most read",
            "Privacy policy",
            "Cookie settings",
            "© 2024 World News. All rights reserved.",
        ]
    )


@pytest.mark.parametrize(("middle", "kept", "removed"), [
    ((), BODY[3], "Privacy policy"),
    ((), BODY[0], "Politics"),
    (("Advertisement",), BODY[2], "Advertisement"),
    (("Read more from World News:", "Markets fall as oil prices rise",
      "Celebrity chef opens new restaurant"), BODY[2], "Celebrity chef opens new restaurant"),
    (("Your support makes all the difference.The talks were closed to the press.",),
     "The talks were closed to the press.", "Your support makes all the difference"),
    (("At such a critical moment, we need reporters on the ground. Your donation allows us to "
      "keep sending journalists to speak to both sides of the story.",),
     BODY[2], "Your donation allows us"),
    (("Image:", "Ministers arrive at the meeting in Brussels"), BODY[2], "Ministers arrive"),
    (("The ministers met for three hours. <...> They agreed to meet again in the spring.",),
     "They agreed to meet again in the spring.", "<...>"),
])  # fmt: skip
def test_plain_text_keeps_the_body_and_drops_furniture(
    middle: tuple[str, ...], kept: str, removed: str
) -> None:
    doc = clean_boilerplate(make_document(raw_text=page(*middle)))
    assert kept in doc.text
    assert removed not in doc.text


@pytest.mark.parametrize("middle", [(), ("Your support makes all the difference.The talks were closed.",)])
def test_text_map_points_back_to_the_same_characters(middle: tuple[str, ...]) -> None:
    doc = clean_boilerplate(make_document(raw_text=page(*middle)))
    assert doc.text_map
    for text_start, raw_start, length in doc.text_map:
        assert doc.text[text_start : text_start + length] == doc.raw_text[raw_start : raw_start + length]
    where = doc.text.index(BODY[1])
    assert doc.raw_offset(where) == doc.raw_text.index(BODY[1])


def test_paragraphs_are_separated_by_a_blank_line_and_the_id_follows_the_text() -> None:
    doc = clean_boilerplate(make_document(raw_text=page()))
    assert doc.text.split("\n\n")[:2] == BODY[:2]
    assert doc.id == content_id(doc.text)
    assert doc.title == "Nato pledges more air defence for Ukraine | World News"


@pytest.mark.parametrize("raw", [
    "", "\n\n", "Home\nWorld\nSport\nShare this article\nPrivacy policy",
    "Home\nWorld", "May 3, 2013\nUpdated 5:40 PM",
])  # fmt: skip
def test_nothing_left_skips_the_document(raw: str) -> None:
    with pytest.raises(SkipDocument):
        clean_boilerplate(make_document(raw_text=raw))


@pytest.mark.parametrize(("line", "vetoed"), [
    ("More on Russia", True),
    ("Ukraine war: Latest updates", True),
    ("Lara Jakes, Kim Barker", True),
    ("Kim Barker is a reporter for The New York Times.", True),
    ("Daniel McLaughlin is a contributor to The Irish Times from central and eastern Europe", True),
    ("Russia's new weapon", False),
    ("Not Merely Taste and Smell Receptors", False),
    ("Mark Rutte said the alliance is a reporter's dream, laughing.", False),
])  # fmt: skip
def test_line_vetoes(line: str, vetoed: bool) -> None:
    assert pat.is_vetoed(line, len(line.split())) is vetoed


@pytest.mark.parametrize(("line", "appeal"), [
    ("The Independent is trusted by Americans. We choose not to lock Americans out of our "
     "reporting with paywalls. We believe quality journalism should be available to everyone.", True),
    ("Your donation allows us to keep sending journalists to speak to both sides.", True),
    ("“We were looking to do this later,” he said in a teleconference with reporters.", False),
    ("The newspaper's journalists went on strike over pay on Monday.", False),
    # "US" in capitals is the country, not "us"
    ("However, Mr Rutte batted aside questions about Ukraine's membership hopes, which incoming "
     "US president Donald Trump is expected to advocate.", False),
    ("Membership gives us the means to report: join us today.", True),
    # an interview's answer speaks for the person interviewed, not the site
    ("A: We are moving subscription access to the next level with our direct to consumer offering.",
     False),
])  # fmt: skip
def test_appeals(line: str, appeal: bool) -> None:
    assert pat.is_appeal(line) is appeal


@pytest.mark.parametrize(("line", "pieces"), [
    ("One sentence. Another one.", ["One sentence. Another one."]),
    ("Your support makes all the difference.The new chief spoke.", ["The new chief spoke."]),
    ("He spoke. <...> Then he left.", ["He spoke.", "Then he left."]),
    ("The U.S. Senate voted. Read more about it here.", ["The U.S. Senate voted."]),
])  # fmt: skip
def test_sentence_pieces(line: str, pieces: list[str]) -> None:
    assert [p.text for p in sentence_pieces(Line(0, line))] == pieces


@pytest.mark.parametrize(("raw", "lines"), [
    ("First block.\n\n  Second block  \n", ["First block.", "Second block"]),
    ("Your support matters.The new chief spoke.", ["Your support matters.", "The new chief spoke."]),
    ("The U.S.A. team won. See example.com now.", ["The U.S.A. team won. See example.com now."]),
])  # fmt: skip
def test_split_lines_splits_glued_blocks_and_keeps_offsets(raw: str, lines: list[str]) -> None:
    found = split_lines(raw)
    assert [ln.text for ln in found] == lines
    assert all(raw[ln.start : ln.start + len(ln.text)] == ln.text for ln in found)


HTML = (
    """<!doctype html><html><head><title>Rutte urges more aid - The Example Times</title>
<meta name="author" content="Jane Doe"><meta property="og:site_name" content="The Example Times">
<meta property="article:published_time" content="2024-12-03T10:00:00Z"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>Rutte urges more aid</h1>
"""
    + "".join(f"<p>{p}</p>\n" for p in BODY)
    + """</article>
<footer><p>Subscribe to our newsletter</p><p>© 2024 The Example Times</p></footer></body></html>"""
)


def test_html_keeps_the_article_and_the_page_metadata() -> None:
    doc = clean_boilerplate(make_document(raw_text=HTML, raw_format="html"))
    assert all(p in doc.text for p in BODY)
    assert "Subscribe" not in doc.text
    assert (doc.title, doc.author, doc.published, doc.outlet) == (
        "Rutte urges more aid",
        "Jane Doe",
        "2024-12-03",
        "The Example Times",
    )


def test_a_file_that_starts_straight_with_prose_keeps_its_first_paragraph() -> None:
    first = (
        "NATO Secretary General Mark Rutte said on Tuesday that Russia was not interested in peace, "
        "and that allies must send more air defence systems to Ukraine before the winter."
    )
    second = (
        "Ukraine's foreign minister Andrii Sybiha said his country needed another 20 air defence "
        "systems to protect its power grid from Russian strikes, according to officials."
    )
    doc = clean_boilerplate(make_document(f"{first}\n\n{second}\n"))
    assert doc.text == f"{first}\n\n{second}"


# The line features are computed for a whole page at once (features.scan_page); each
# must still say what it says of the line on its own, wherever the line sits.
@pytest.mark.parametrize(("line", "feature"), [
    ("Photo: Getty Images", "credit"),
    ("By Jane Doe and John Roe", "byline"),
    ("Updated March 3, 2024", "date"),
    ("Visit www.example.com for more", "urlish"),
    ("• Politics", "bullet"),
    ("Home | World | Sport", "bullet"),
    ("joetoronto says:", "comment_marker"),
    ("12 Likes", "comment_marker"),
    ("Hundreds flee the floods WASHINGTON: Rescuers said on Monday", "glued_dateline"),
    ("Sign up for our newsletter", "cta"),
    ("Barack Obama Michelle Obama", "name_list"),
])  # fmt: skip
def test_page_features_say_what_a_line_is(line: str, feature: str) -> None:
    prose = "The ministers met in Brussels on Tuesday to discuss the winter, officials said."
    scan = scan_page([prose, line, prose])
    column = LOCAL_NAMES.index(feature)
    assert scan.local[:, column].tolist() == [0.0, 1.0, 0.0]


def test_page_counts_are_per_line() -> None:
    lines = ["Mr Rutte met Mr Sybiha, Mr Blinken and 3 others.", "NATO", "Ukraine needs 19 systems! Now.",
             "北约秘书长说。", "Budget: ٣ billion"]  # fmt: skip
    scan = scan_page(lines)

    def col(name: str) -> list[float]:
        return scan.local[:, LOCAL_NAMES.index(name)].round(6).tolist()

    assert col("log_commas") == [round(math.log1p(k), 6) for k in (1, 0, 0, 0, 0)]
    assert col("log_sentences") == [round(math.log1p(k), 6) for k in (1, 0, 2, 1, 0)]
    assert col("all_caps") == [0, 1, 0, 0, 0]
    assert col("ends_sentence") == [1, 0, 1, 1, 0]
    assert scan.sizes.tolist() == [10, 1, 5, 3, 3]  # CJK: two characters count as a word
    assert col("digit_ratio")[4] == round(1 / len(lines[4]), 6)  # a non-ASCII digit is a digit
    assert col("title_ratio")[0] == round(6 / 9, 6)  # capitalised words / words that are not numbers


@pytest.mark.parametrize("line", [
    "More on Russia", "Ukraine war: Latest updates", "Switch to mobile version", "Advertisement",
    "Video player", "Photos:", "Continue reading the main story", "Follow us on X",
    "Kim Barker is a reporter for The New York Times.", "Lara Jakes, Kim Barker",
])  # fmt: skip
def test_page_vetoes_are_the_line_vetoes(line: str) -> None:
    assert pat.is_vetoed(line, len(line.split()))
    prose = "The ministers met in Brussels on Tuesday to discuss the winter, officials said."
    assert line_vetoes(scan_page([prose, line, prose])).tolist() == [False, True, False]


# trafilatura's text, as filter_lines receives it: the page's headline and stamps on top.
TRAFILATURA_TEXT = "\n".join(
    ["Rutte urges more aid", "August 23, 2018", "By", BODY[0],
     "June 9 -- Coral Sky Amphitheatre, West Palm Beach", BODY[1],
     "Follow World News on Twitter and Facebook.", "Write to Jane Doe at jane.doe@example.com",
     "Copyright ©2024 World News. All Rights Reserved."]
)  # fmt: skip


@pytest.mark.parametrize(("kept", "removed"), [
    (BODY[0], "Rutte urges more aid"),  # the headline is the document's title, not its body
    (BODY[1], "August 23, 2018"),  # a date stamp above the first paragraph
    ("June 9 -- Coral Sky Amphitheatre", "By\n"),  # a date inside the article stays
    (BODY[1], "Follow World News"),
    (BODY[1], "jane.doe@example.com"),
    (BODY[1], "Copyright"),
])  # fmt: skip
def test_html_text_loses_page_header_and_notices(kept: str, removed: str) -> None:
    text = filter_lines(TRAFILATURA_TEXT, title="Rutte urges more aid - World News") + "\n"
    assert kept in text
    assert removed not in text


@pytest.mark.parametrize(("lines", "outlet"), [
    (["Headline", "Body text.", "© 2024 The Independent. All rights reserved."], "The Independent"),
    (["Headline", "Copyright ©2019 Dow Jones & Company, Inc. All Rights Reserved."], "Dow Jones & Company"),
    (["Headline", "Follow Sky News on Facebook, X and YouTube"], "Sky News"),
    (["Headline", "Read more from Sky News:", "Markets fall"], "Sky News"),
    (["Headline", "Kim Barker is a reporter for The New York Times."], "The New York Times"),
    (["Nato pledges more air defence for Ukraine | World News", "Body text."], "World News"),
    (["Nato pledges more air defence for Ukraine", "Body text.", "The Irish Times"], "The Irish Times"),
    (["Headline", "A protester holds a flag. (Image: © Reuters)"], ""),  # a photo credit
    (["Headline", "More on Russia", "Body text."], ""),  # a topic label, not a site
    (["Headline", "The ministers met in Brussels."], ""),
    (["Quake kills eight", "LOS ANGELES (Reuters) - An earthquake struck on Monday."], "Reuters"),
    (["Bridge reopens - NJ.com", "Body text."], "NJ.com"),
    (["Universe simulated - Live Science", "Live Science", "Body text."], "Live Science"),  # its masthead
    # a headline's tail after a hyphen or a dash is no site, nor is a sentence's first word
    (["Hit - and - Run, Driver Charged", "A driver was charged on Saturday."], ""),
    (["Lindsay Lohan Checks Into Court - Ordered Rehab", "She checked in on Friday."], ""),
    (["Stars - In Rehab", "In a statement, her publicist said she had entered rehab."], ""),
    (["In brief", "In a statement, the police said two men were held.", "© 2013 In"], ""),
    (["Headline | In", "Body text."], ""),
    (["Headline", "The ministers met in Brussels.", "The End"], ""),
])  # fmt: skip
def test_plain_text_names_its_outlet(lines: list[str], outlet: str) -> None:
    assert find_outlet("\n".join(lines)) == outlet


def test_a_found_outlet_is_set_and_a_given_one_kept() -> None:
    raw = page() + "\nFollow World News on Twitter"
    assert clean_boilerplate(make_document(raw)).outlet == "World News"
    assert clean_boilerplate(make_document(raw, outlet="example.org")).outlet == "example.org"


def test_a_plain_text_article_is_given_no_outlet_its_text_does_not_name() -> None:
    raw = "Hit - and - Run, Driver Charged\nIn Brooklyn, a driver was charged on Saturday after a crash.\n"
    assert clean_boilerplate(make_document(raw)).outlet == ""


# A text that is an article as written, with no page around it: a headline, a date
# stamp, one sentence a line (ECB+ articles come so). Nothing in it is furniture.
ARTICLE = [
    "Lindsay Lohan Checks Into Rehab at Betty Ford Center",
    "Fri., May. 3, 2013 11: 45 AM PDT",
    "Early Friday morning, the 26 - year - old actress checked into Betty Ford Center in Rancho Mirage.",
    "It's the same place the troubled starlet sought help in 2010.",
    "Her lawyer said: “She is where she needs to be. “",
]


@pytest.mark.parametrize("raw", [
    "The parliament election is over in Turkmenistan.",
    "PHILADELPHIA 76ERS Fired Jim O'Brien, coach. Named Maurice Cheeks coach.",
    "Dr Mark Vinar, 43, is presumed dead after disappearing off Zurbriggens Ridge on Thursday.\n",
])  # fmt: skip
def test_a_one_sentence_report_is_an_article(raw: str) -> None:
    doc = clean_boilerplate(make_document(raw))
    assert doc.text == raw.strip()


def test_a_headline_and_its_date_are_a_report() -> None:
    doc = clean_boilerplate(make_document("June 06, 2013\nEsther Williams, swimming star, dies at 91\n"))
    assert doc.text == "June 06, 2013\n\nEsther Williams, swimming star, dies at 91"
    assert doc.title == "Esther Williams, swimming star, dies at 91"


def test_an_article_one_sentence_a_line_is_kept_whole() -> None:
    raw = "\n".join(ARTICLE)
    doc = clean_boilerplate(make_document(raw))
    assert doc.text.split("\n\n") == ARTICLE
    assert doc.title == ARTICLE[0]
    for text_start, raw_start, length in doc.text_map:
        assert doc.text[text_start : text_start + length] == raw[raw_start : raw_start + length]


def test_an_article_with_a_short_list_is_kept_whole() -> None:
    lines = [
        "'The Hunger Games' sequel is in negotiations.",
        "04 / 04 / 2012",
        "Director Gary Ross is currently in the negotiation stages to direct the sequel.",
        "In terms of figures, the film has already brought in over $363 million.",
        "Lionsgate would like a November 2013 release date for the sequel.",
        "The main cast;",
        "- Jennifer Lawrence",
        "- Liam Hemsworth",
        "- and Josh Hutcherson will all be returning for the sequel!",
    ]
    assert clean_boilerplate(make_document("\n".join(lines))).text.split("\n\n") == lines


@pytest.mark.parametrize(("extra", "removed"), [
    ("Share this article", "Share this article"),  # furniture by rule
    ("Visit www.example.com for more", "www.example.com"),  # no sentence, and a web address
    ("Sign up for our newsletter", "newsletter"),
])  # fmt: skip
def test_a_short_text_with_furniture_is_read_as_a_page(extra: str, removed: str) -> None:
    doc = clean_boilerplate(make_document("\n".join([*ARTICLE, extra])))
    assert ARTICLE[2] in doc.text
    assert removed not in doc.text


@pytest.mark.parametrize(("line", "sentence"), [
    ("The fire chief says the fire is definitely suspicious.", True),
    ("No one was hurt.", True),
    ('"We are providing consular assistance at this time. “', True),  # a closing quote turned the wrong way
    ("Pensioner Bayram-aga, a voter in Ashgabat, said:", True),  # a lead-in
    ("Early Friday morning, around 1: 30 a. m., the 26 - year - old actress checked into "
     "Betty Ford Center in Rancho Mirage, Calif,", True),  # prose cut short
    ("Lindsay Lohan Checks Into Rehab at Betty Ford Center", False),  # a headline
    ("PUBLISHED: THURSDAY, MAY 2, 2013, 1: 32 PM", False),  # a date stamp
    ("FIRED IN PHILLY!!", False),  # capitals
    ("Extreme caution", False),  # a subheading
])  # fmt: skip
def test_reads_as_sentence(line: str, sentence: bool) -> None:
    assert reads_as_sentence(line) is sentence


@pytest.mark.parametrize(("lines", "vetoed"), [
    # a media label over its caption: both go
    (["Image:", "Ministers arrive at the meeting in Brussels"], [True, True]),
    (["Photos", "Ministers arrive at the meeting in Brussels"], [True, True]),
    # hard-wrapped text: "Photos" opens a sentence that the next line carries on
    (["Photos", "which were released online and are making the rounds on social media,"],
     [False, False]),
])  # fmt: skip
def test_a_media_label_or_a_sentence_broken_at_the_line_end(lines: list[str], vetoed: list[bool]) -> None:
    prose = "The ministers met in Brussels on Tuesday to discuss the winter, officials said."
    assert line_vetoes(scan_page([prose, *lines, prose])).tolist() == [False, *vetoed, False]


def test_the_country_us_is_not_the_first_person() -> None:
    lines = ["The US president met the allies.", "Tell us what you think."]
    first = scan_page(lines).local[:, LOCAL_NAMES.index("first_person")]
    assert first[0] == 0.0
    assert first[1] > 0.0


class SentenceEndModel:
    """A stand-in for the line model: a line is body when it ends like a sentence."""

    def predict(self, features: np.ndarray) -> np.ndarray:
        return features[:, FEATURE_NAMES.index("ends_sentence")]


def test_a_standfirst_above_the_body_is_kept() -> None:
    # right under the headline, set apart without a full stop, parted from the body by an
    # appeal (furniture by rule): a line model that reads it as furniture does not drop it
    standfirst = (
        "Mark Rutte called on allies to step up military aid to strengthen Kyiv's hand should it "
        "enter negotiations with Moscow, as he warned Russia is 'not interested in peace'"
    )
    teaser = "Markets fall as oil prices rise"  # short: a teaser, not a standfirst
    appeal = "Your donation allows us to keep sending journalists to speak to both sides."
    lines = ["Nato chief warns allies over Ukraine deal", standfirst, appeal, *BODY]
    text, _ = clean_text("\n".join(lines), threshold=0.5, model=SentenceEndModel())  # type: ignore[arg-type]
    assert standfirst in text
    assert BODY[0] in text
    assert "Your donation" not in text
    lines[1] = teaser
    text, _ = clean_text("\n".join(lines), threshold=0.5, model=SentenceEndModel())  # type: ignore[arg-type]
    assert teaser not in text
