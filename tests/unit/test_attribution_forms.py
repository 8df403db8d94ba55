"""Direct quotes in the said-comma-quote forms that news outlets write (issue 19.1).

The real parser (the configured spaCy model) and the real stage: a quotation gets its
speaker from a cue next to it, and a second quotation with no attribution of its own
("“…,” he said. “…”") goes on with the same speaker.
"""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.stages.claims import extract_claims
from tests.factories import make_document, make_entity

ENTITIES = (
    make_entity("Jane Smith", variants=("Jane Smith", "Smith", "Mayor Jane Smith")),
    make_entity("Tom Green", variants=("Tom Green", "Green")),
    make_entity("Ann Sinclair", variants=("Ann Sinclair", "Sinclair")),
    make_entity("Paul Hughes", variants=("Paul Hughes", "Mr. Hughes", "Hughes")),
)


def direct(nlp: Any, text: str) -> list[tuple[str, str, str]]:
    """(speaker as written, canonical speaker, text) of each direct claim, in order."""
    doc = extract_claims(make_document(text, text=text, entities=ENTITIES), nlp=nlp)
    return [(c.speaker, c.speaker_canonical, c.text) for c in doc.claims if c.kind == "direct"]


def who_said(claims: list[tuple[str, str, str]], words: str) -> str | None:
    """The canonical speaker (else as written) of the claim holding `words`; None if no claim does."""
    return next((canonical or speaker for speaker, canonical, text in claims if words in text), None)


@pytest.mark.parametrize(
    ("text", "speaker", "first", "second"),
    [
        # the second quotation of a pair carries the first one's speaker
        (
            "Tom Green spoke first.\n\n"
            '"We will not back down," he said. "The people of this town deserve better."',
            "Tom Green",
            "We will not back down",
            "The people of this town deserve better",
        ),
        (
            '"The budget is balanced for the first time in a decade," Sinclair states. '
            '"That is no small thing."',
            "Ann Sinclair",
            "The budget is balanced",
            "That is no small thing",
        ),
        (
            "Mayor Jane Smith opened the plant in March.\n\n"
            '"We expect the plant to reopen by spring," she was quoted as saying in the press release. '
            '"Nobody will lose their job."',
            "Jane Smith",
            "We expect the plant to reopen by spring",
            "Nobody will lose their job",
        ),
        # the quote ends on an inner quotation and a space before its closing mark
        (
            "\"It's not just me saying, 'Oh, yes, vote for the plan,' \" Green told reporters on Sunday. "
            '"It is the whole town standing up."',
            "Tom Green",
            "It's not just me saying",
            "It is the whole town standing up",
        ),
        # a cue inside the attribution's own sentence is not another speaker
        (
            '"We will make sure it does not happen again," Green noted in an interview, '
            'as reported by the Gazette. "And we will take corrective action."',
            "Tom Green",
            "We will make sure it does not happen again",
            "And we will take corrective action",
        ),
        (
            '"Why close the plant now?" asked Mayor Jane Smith, who wants a review of the rules. '
            '"I would like to hear from the workers first."',
            "Jane Smith",
            "Why close the plant now",
            "I would like to hear from the workers first",
        ),
        # quoted in straight single marks, as text typed without curly marks in a British style
        (
            "'We will not back down,' Green said. 'The people of this town deserve better.'",
            "Tom Green",
            "We will not back down",
            "The people of this town deserve better",
        ),
        # a quotation right after reported speech: the same speaker going on
        (
            "In a statement, Mr. Hughes said his group intended to challenge the decision. "
            '"We will see them in court."',
            "Paul Hughes",
            None,
            "We will see them in court",
        ),
    ],
)
def test_a_quotation_pair_has_one_speaker(
    nlp: Any, text: str, speaker: str, first: str | None, second: str
) -> None:
    claims = direct(nlp, text)
    if first is not None:
        assert who_said(claims, first) == speaker
    assert who_said(claims, second) == speaker


@pytest.mark.parametrize(
    ("text", "speaker", "words"),
    [
        (
            "Mayor Jane Smith heard the verdict in her office.\n\n"
            'When told of the ruling, she said, "This is a dark day for the country."',
            "Jane Smith",
            "This is a dark day for the country",
        ),
        ('"It is a bit like herding cats," quipped Green.', "Tom Green", "It is a bit like herding cats"),
        ('"It is a bit like herding cats," Green quipped.', "Tom Green", "It is a bit like herding cats"),
        (
            '"The budget is balanced," Sinclair states.',
            "Ann Sinclair",
            "The budget is balanced",
        ),
        # a cue the parse left without a subject: the name before it, or the noun it hangs on
        (
            "In a statement to the Gazette, her senior policy adviser, Tom Green, said: "
            "“The plant will reopen in the spring. Nobody in this town will lose their job.”",
            "Tom Green",
            "The plant will reopen in the spring",
        ),
        (
            '"Is the council going to finally mention the plant? If it doesn\'t it should resign!" '
            "the longtime mayor of the town, Jane Smith, tweeted Sunday",
            "longtime mayor of the town",
            "Is the council going to finally mention the plant",
        ),
    ],
)
def test_said_comma_quote_forms(nlp: Any, text: str, speaker: str, words: str) -> None:
    assert who_said(direct(nlp, text), words) == speaker


def test_a_quotation_after_another_speakers_sentence_is_not_carried_over(nlp: Any) -> None:
    """Carrying a speaker over needs nothing but the end of the claim's sentence between."""
    text = (
        "Mr. Hughes said his group intended to challenge the decision. Ann Sinclair disagreed with him "
        'on Monday. "We will see them in court."'
    )
    assert who_said(direct(nlp, text), "We will see them in court") != "Paul Hughes"


def test_a_paragraph_that_announces_a_quotation_gives_it_its_speaker(nlp: Any) -> None:
    text = (
        "Ann Sinclair looked at the polls.\n\n"
        "Sinclair continued:\n\n"
        '"The health issue overall is very much a partisan issue, but it matters."\n\n'
        "Other news followed."
    )
    assert who_said(direct(nlp, text), "The health issue overall") == "Ann Sinclair"


def test_a_reported_claim_that_opens_a_quotation_says_all_of_it(nlp: Any) -> None:
    """ "According to X, “… . …”": the parse gives one sentence, the claim is the whole quotation."""
    text = (
        "According to Sinclair, “The budget is balanced for the first time in a decade. "
        "Nobody in this town will lose their job.”"
    )
    claims = direct(nlp, text)
    assert who_said(claims, "The budget is balanced") == "Ann Sinclair"
    assert who_said(claims, "Nobody in this town will lose their job") == "Ann Sinclair"
    assert len(claims) == 1


def reported(nlp: Any, text: str) -> list[tuple[str, str]]:
    """(speaker as written, text) of each reported claim, in order."""
    doc = extract_claims(make_document(text, text=text, entities=ENTITIES), nlp=nlp)
    return [(c.speaker, c.text) for c in doc.claims if c.kind == "reported"]


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "The museum, Mr. Hughes said, celebrated several of his heroes.",
            "Mr. Hughes",
            "The museum celebrated several of his heroes",
        ),
        (
            "Back in Virginia, Mr. Hughes said, he decided to take aim at the coal industry.",
            "Mr. Hughes",
            "Back in Virginia he decided to take aim at the coal industry",
        ),
        (
            "Too often, Sinclair said, the debate over the future of coal is infected with tribalism.",
            "Sinclair",
            "Too often the debate over the future of coal is infected with tribalism",
        ),
    ],
)
def test_an_attribution_between_commas_reports_the_sentence_around_it(
    nlp: Any, text: str, speaker: str, content: str
) -> None:
    """ "X, he said, Y": the claim is the sentence without the attribution, in two pieces."""
    assert (speaker, content) in reported(nlp, text)


def test_an_attribution_between_commas_that_goes_on_to_another_cue_is_not_split(nlp: Any) -> None:
    """ "…, he said, adding that …": what follows is the next cue's, not more of this content."""
    text = "The plant will reopen, Mr. Hughes said, adding that nobody would lose their job."
    assert all("adding" not in content for _, content in reported(nlp, text))


def test_a_signed_quotation_opened_by_a_closing_mark_has_its_signer(nlp: Any) -> None:
    text = "”The people of this town deserve better. We will not back down.” ― Tom Green"
    assert who_said(direct(nlp, text), "The people of this town deserve better") == "Tom Green"


def test_a_quotation_with_a_cue_of_its_own_is_a_claim_of_its_own(nlp: Any) -> None:
    """ "“…,” Green said, adding later, “…”": the second quotation is what he added, a claim of
    its own (PolNeAR attributes it to "adding"), not more of the first."""
    text = (
        '"We certainly cannot afford to do this anymore," Green said, adding later, '
        '"The plant is costing us a fortune."'
    )
    claims = direct(nlp, text)
    assert who_said(claims, "We certainly cannot afford") == "Tom Green"
    assert who_said(claims, "The plant is costing us a fortune") == "Tom Green"
    assert not any("afford" in t and "fortune" in t for *_, t in claims)


def test_a_quoted_fragment_inside_a_sentence_does_not_carry_a_quotation_on(nlp: Any) -> None:
    """ "“…,” Sinclair said. “You squeezed the workers” to drive up the price, she said": the
    fragment is part of the reported sentence around it, not more of the first quotation."""
    text = (
        '"This just is not right," Sinclair said. "You squeezed the workers to the breaking point" '
        "to drive up the stock price, she said."
    )
    claims = direct(nlp, text)
    assert who_said(claims, "This just is not right") == "Ann Sinclair"
    assert not any("right" in t and "squeezed" in t for *_, t in claims)


@pytest.mark.parametrize(
    ("text", "speaker", "words"),
    [
        # a name and its apposition before the cue, the parse hanging the name elsewhere
        (
            "“He's absolutely right. There's a severe disconnect between this White House and frankly "
            "the president and our military,” Flynn, a top Trump surrogate, said Thursday morning.",
            "Flynn",
            "There's a severe disconnect",
        ),
        # a dash the tagger reads as a noun is not the speaker
        (
            "When Clinton noted that Trump has occasionally not paid anything in federal income taxes ― "
            "as was true for the few years his tax returns were made public ― Trump boasted, "
            "“That makes me smart.”",
            "Trump",
            "That makes me smart",
        ),
        # a speaker after the cue that the parse took for its object
        (
            "“Look, the mayor needed to win the first two votes,” added a South Carolina Democrat. "
            "“She's done that.”",
            "a South Carolina Democrat",
            "the mayor needed to win the first two votes",
        ),
        (
            "“If anyone wonders why the review is not yet complete, the problems identified in this "
            "report are Exhibit A,”\xa0added Gowdy.",
            "Gowdy",
            "If anyone wonders why the review is not yet complete",
        ),
        # who is seen saying it, not who shows it
        (
            "The ad uses footage of Jane Smith asking, “Why aren’t I fifty points ahead, you might ask?”",
            "Jane Smith",
            "Why aren’t I fifty points ahead",
        ),
    ],
)
def test_the_speaker_of_a_quotation_is_the_one_saying_it(
    nlp: Any, text: str, speaker: str, words: str
) -> None:
    assert who_said(direct(nlp, text), words) == speaker


def test_a_quotation_pair_written_with_no_break_spaces_has_one_claim(nlp: Any) -> None:
    """Outlets put a no-break space between sentences ("said.\xa0“…”"): the second quotation
    still opens a sentence and carries the first one's speaker on."""
    text = "“Like the old mill. Or the harbour,” Green said.\xa0“The crime numbers are worse.”"
    claims = direct(nlp, text)
    assert who_said(claims, "The crime numbers are worse") == "Tom Green"
    assert len(claims) == 1


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "CLEVELAND, July 19 (UPI) — Former Attorney General Michael Mukasey told delegates at the "
            "convention that the use of a private email server should disqualify her from office.",
            "Former Attorney General Michael Mukasey",
        ),
        (
            "ORLANDO, Fla. (Reuters) - President Barack Obama met survivors of the shooting on Thursday "
            "and said the country must act to control gun violence.",
            "President Barack Obama",
        ),
    ],
)
def test_a_dateline_is_not_the_speaker(nlp: Any, text: str, speaker: str) -> None:
    """A place in capitals with the date and the agency before its dash opens the story; the
    speaker is the subject after it."""
    assert [s for s, _ in reported(nlp, text)] == [speaker]


def test_those_surveyed_are_the_speaker_not_someone_named_before(nlp: Any) -> None:
    text = (
        '"It is hard," Sinclair says.\n\n'
        "By big margins, those surveyed say the economy should be the first priority for the next mayor."
    )
    assert ("those surveyed", "the economy should be the first priority for the next mayor") in reported(
        nlp, text
    )


def test_a_quotation_after_a_claim_that_ends_in_one_goes_on_in_that_claim(nlp: Any) -> None:
    """ "Still, X are “…,” Mr. Hughes said from his office. “…”": the claim began the quotation,
    and the next one, past the rest of the attribution's sentence, is more of the same claim."""
    text = (
        "Still, golf clubs are “just scratching out a profit,” Mr. Hughes said from his office in "
        "Orlando. “Golf is a razor-thin industry from an investor standpoint.”"
    )
    claims = reported(nlp, text)
    assert len(claims) == 1
    speaker, content = claims[0]
    assert speaker == "Mr. Hughes"
    assert "scratching out a profit" in content
    assert "razor-thin industry" in content
