"""The clinician's "you" in the third person, by the local engine's fixed rule table.

A note speaks of the patient, not to them. Each rule is checked on what it rewrites and
on what it must leave alone (a question, a "you" it is not sure of); the faithfulness
check (``tests/support/local_faithful.py``) accepts exactly these rewrites and nothing else.
"""

from __future__ import annotations

import pytest

from delphos.engines.local import LocalEngine
from delphos.engines.local_person import about_patient
from delphos.engines.local_yesno import statement, third_person
from tests.support.local_faithful import assert_faithful


@pytest.mark.parametrize(
    ("said", "noted"),
    [
        # 1. A request's lead is dropped, leaving the order.
        ("I want you to continue on bumex 2 mg daily.", "Continue on bumex 2 mg daily."),
        ("I'm gonna have you come back in 2 weeks.", "Come back in 2 weeks."),
        # 2. "you" between an order and its complement is dropped.
        ("Start you on some lasix 20 mg a day.", "Start on some lasix 20 mg a day."),
        ("Refer you to physical therapy.", "Refer to physical therapy."),
        # ... but not after "keep" or "put", whose "on" would then mean "go on" or "wear".
        ("Keep you on lisinopril 20 mg.", "Keep the patient on lisinopril 20 mg."),
        ("I will put you on a brace.", "I will put the patient on a brace."),
        # 3. Otherwise "the patient", with the verb from the table.
        ("I think you're having a recurrence.", "I think the patient is having a recurrence."),
        ("I think you have a sprain.", "I think the patient has a sprain."),
        ("If you don't get better, call me.", "If the patient doesn't get better, call me."),
        ("It sounds like you still take it.", "It sounds like the patient still takes it."),
        ("When you came in, it was high.", "When the patient came in, it was high."),
        ("I'll see you back in 3 months.", "I'll see the patient back in 3 months."),
        ("We have you on protonix.", "We have the patient on protonix."),
        ("You should not drive.", "The patient should not drive."),
    ],
)
def test_the_clinicians_you_is_written_in_the_third_person(said: str, noted: str) -> None:
    assert about_patient(said) == noted


@pytest.mark.parametrize(
    "said",
    [
        "Do you have any chest pain? No.",  # a question
        "do you have any pain",  # an unpunctuated one
        "Can you feel me touch here.",  # a question without its mark
        "Thank you.",
        "You guys are great.",  # not a verb the table knows
        "I want you to not worry.",  # a request before "not" keeps its lead
    ],
)
def test_what_the_rules_are_not_sure_of_is_left_as_said(said: str) -> None:
    assert about_patient(said) == said


def test_portuguese_is_left_as_said() -> None:
    assert about_patient("Você tem pressão alta.", "pt") == "Você tem pressão alta."


def test_the_engine_writes_the_clinicians_you_in_the_third_person_but_not_the_patients() -> None:
    text = (
        "[doctor] i think you have a sprain of your right ankle . i want you to ice it .\n"
        "[patient] you said it's not broken , right ?\n"
        "[doctor] i'll see you back in 2 weeks .\n"
    )
    result = LocalEngine().build_note(text)
    assert_faithful(text, result)
    joined = "\n".join(result.sections().values())
    assert "the patient has a sprain of right ankle" in joined
    assert "Ice it." in joined
    assert "see the patient back in 2 weeks" in joined


@pytest.mark.parametrize(
    ("said", "noted"),
    [
        ("I have felt a bit dizzy, but it passed.", None),  # a participle, not a thing had
        ("I haven't gotten tired.", None),  # get/feel + an adjective
        ("I don't have quite as much shortness of breath.", None),  # less, not none
        ("I've taken tylenol.", None),
        ("I don't feel any pain.", "Denies any pain."),
        ("I've had knee pain for 2 weeks.", "Reports knee pain for 2 weeks."),
    ],
)
def test_first_person_templates_only_where_they_cannot_misstate(
    said: str, noted: str | None
) -> None:
    assert third_person(said, "en") == (noted or said)


def test_no_denial_of_the_clinicians_own_words() -> None:
    # "Denies tenderness where I'm pressing" would put the clinician's "I" in the patient's
    # mouth.
    assert statement("is there any tenderness where i'm pressing ?", "no .", "en") is None
    assert statement("any other symptoms i might have missed ?", "no .", "en") is None
