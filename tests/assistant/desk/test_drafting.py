"""Enquiry e-mails read as people write them, and drafts that never miss a request for medical advice (issue 29).
Each test is one of the failures seen on real inboxes."""

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from assistant.config import Settings
from assistant.desk.db import open_database
from assistant.desk.drafting import A_PERSON, DOCUMENTS_HEADING, MAIL_SIGNPOST, not_an_enquiry
from assistant.desk.mail.body import read_body
from assistant.desk.records import DIRECT_CONTACT, NewEnquiry, create_enquiry
from assistant.desk.taxonomy import TaxonomyFile, load_taxonomy
from assistant.desk.triage import Triage
from assistant.engine.assistant import Assistant

FORWARDED = """Could someone in the partnerships team pick this up please? Ta, Marcus

---------- Forwarded message ---------
From: Dr Eleanor Shaw <e.shaw@pcn.example>
Date: Thu, 27 Nov 2026 at 11:48
Subject: PIONEER question
To: Marcus Byrne <m.byrne@cluster.example>

Dear Marcus,

What kind of data does the PIONEER hub link together?

Best wishes,
Eleanor
"""

QUOTED = """Hi Alex,

Thanks, that's helpful. You mentioned Dignio in your reply below. Is it a big company?

Cheers,
Hannah

On Tue, 25 Nov 2026 at 09:12, Cluster Enquiries <enquiries@cluster.example> wrote:
> Dear Hannah,
> What is PIONEER? Dignio has a base in Birmingham.
> Kind regards,
> Alex
"""

FOOTED = """Dear Cluster team,

Before we sign the lease on our new office, two quick things: what is PIONEER, and who can use its data?

Kind regards,

Grace Whitfield
Head of People | Tamworth Biosensors Ltd

DISCLAIMER: This message is intended only for the named recipient and may contain privileged or confidential
information. If you are not the intended recipient you must not read, copy or distribute it.
"""

PARENT = (
    "Hello,\n\nWe run a pharmacy group. Can organisations like ours license linked patient data from the PIONEER "
    "hub? Also, my son has been on azathioprine for a year. May he stop taking it before his exams?\n\nThanks,\nSam"
)

SPAM = (
    "Hello Decision Maker,\n\nAre you struggling to reach NHS buyers? We have a verified list of 48,000 decision "
    "makers available today at 70% off.\n\nReply LIST for a free sample. To opt out reply REMOVE."
)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return open_database(Settings(data_dir=tmp_path))


def emailed(sessions: sessionmaker[Session], text: str, name: str = "Sam Lee") -> int:
    return create_enquiry(sessions, NewEnquiry(name, "sam@x.example", text, "email", DIRECT_CONTACT)).id


def test_a_forwarded_message_is_its_own_text_and_its_header_block_no_question() -> None:
    body = read_body(FORWARDED)
    assert body.forwarded and body.text.startswith("Dear Marcus")
    assert "From:" not in body.text and "Subject:" not in body.text and "pick this up" not in body.text


def test_a_reply_is_its_newest_part_and_a_thanks_that_asks_is_no_signature() -> None:
    body = read_body(QUOTED)
    assert "Is it a big company?" in body.text and "What is PIONEER?" not in body.text and "wrote:" not in body.text


def test_signature_footer_and_disclaimer_are_left_out() -> None:
    body = read_body(FOOTED)
    assert "two quick things" in body.text and "DISCLAIMER" not in body.text and "Tamworth" not in body.text


def test_a_long_lead_in_a_signature_and_a_disclaimer_still_give_each_question_an_answer(
    assistant: Assistant, sessions: sessionmaker[Session]
) -> None:
    done = Triage(load_taxonomy(), assistant, sessions).triage(emailed(sessions, FOOTED))
    assert done.draft is not None and DOCUMENTS_HEADING in done.draft
    assert "What is PIONEER?" in done.draft and "Who can use PIONEER's data?" not in done.draft  # asked as written
    assert "Who can use its data?" in done.draft and "license" in done.draft.lower()


def test_medical_advice_beside_a_business_question_is_signposted_first_flagged_and_the_rest_answered(
    assistant: Assistant, sessions: sessionmaker[Session]
) -> None:
    done = Triage(load_taxonomy(), assistant, sessions).triage(emailed(sessions, PARENT))
    assert done.draft is not None and done.draft.index(MAIL_SIGNPOST) < done.draft.index("Thank you")
    assert DOCUMENTS_HEADING in done.draft and "license" in done.draft.lower()  # the business question answered
    assert done.priority == "urgent" and done.needs_review and done.category == "clinical-advice"
    assert done.reasons is not None and done.reasons["clinical"] is True
    assert "NHS partnerships lead will contact you" not in done.draft


def test_renaming_the_clinical_category_cannot_switch_the_signpost_off(
    assistant: Assistant, sessions: sessionmaker[Session]
) -> None:
    raw = load_taxonomy().model_dump()
    raw["categories"]["medical-questions"] = raw["categories"].pop("clinical-advice")
    renamed = TaxonomyFile.model_validate(raw)
    done = Triage(renamed, assistant, sessions).triage(emailed(sessions, PARENT))
    assert done.draft is not None and MAIL_SIGNPOST in done.draft and done.category == "medical-questions"
    raw["categories"]["medical-questions"]["clinical"] = False  # no category for it at all: still signposted
    done = Triage(TaxonomyFile.model_validate(raw), assistant, sessions).triage(emailed(sessions, PARENT, "Bo"))
    assert done.draft is not None and MAIL_SIGNPOST in done.draft and done.priority == "urgent"


def test_spam_and_messages_that_ask_nothing_get_no_document_text_and_a_person(
    assistant: Assistant, sessions: sessionmaker[Session]
) -> None:
    triage = Triage(load_taxonomy(), assistant, sessions)
    note = "Hi all,\n\nJust to let you know our company opened its Birmingham office today.\n\nBest,\nSolveig"
    for text, why in ((SPAM, "marketing"), (note, "asks nothing")):
        done = triage.triage(emailed(sessions, text))
        assert done.draft is not None and DOCUMENTS_HEADING not in done.draft and A_PERSON in done.draft
        assert done.category == "other" and done.needs_review and why in str(done.reasons)
    told = "Just to let you know my son has had swollen ankles since he started amlodipine. To opt out reply STOP."
    signposted = triage.triage(emailed(sessions, told))
    assert signposted.draft is not None and MAIL_SIGNPOST in signposted.draft and signposted.priority == "urgent"
    assert not_an_enquiry("Please find attached invoice 4411; payment is due in 30 days.")
    assert not_an_enquiry("What is PIONEER?") is None
    assert not_an_enquiry("Our company would like access to PIONEER health data under licence.") is None


def test_no_named_team_is_promised_when_the_classifier_is_unsure(
    assistant: Assistant, sessions: sessionmaker[Session]
) -> None:
    triage = Triage(load_taxonomy(), assistant, sessions)
    found = triage.classifier.classify("What is PIONEER?")
    sure, unsure = (triage.draft("Ada", "What is PIONEER?", replace(found, needs_review=v)) for v in (False, True))
    route = load_taxonomy().categories[found.category]
    assert route.next_steps in sure.text and route.next_steps not in unsure.text and A_PERSON in unsure.text


def test_drafts_and_sent_mail_greet_by_a_name_only_when_it_looks_like_one(
    assistant: Assistant, sessions: sessionmaker[Session]
) -> None:
    triage = Triage(load_taxonomy(), assistant, sessions)
    for name, opening in (("Ada Byron", "Dear Ada,"), ("there", "Hello,"), ("sam.lee", "Hello,"), (None, "Hello,")):
        found = triage.classifier.classify("What is PIONEER?")
        assert triage.draft(name, "What is PIONEER?", found).text.startswith(opening)
