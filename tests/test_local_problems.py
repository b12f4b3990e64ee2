"""Problem-oriented assessment and plan, and typed notes' impressions, in the local engine.

What a clinician relies on: when they walk through problems ("for your first problem,
your back pain, …"), each problem's naming clause and impression is whole in the
Assessment and its orders sit under its name in the Plan; a few typed lines get their
impression in the Assessment. Nothing is invented on the way (``assert_faithful``).
"""

from __future__ import annotations

import re

import pytest

from delphos.engines.local import LocalEngine
from delphos.records import SoapNote
from tests.support.local_faithful import aci_notes, assert_faithful

DICTATED = (
    "[doctor] hi , how are you ? what brings you in ?\n"
    "[patient] my back hurts and my migraines are back .\n"
    "[doctor] okay . let's take a look . on exam , there is tenderness of the right flank .\n"
    "[doctor] so , for your first problem , your back pain , i think you're having a "
    "recurrence of your kidney stones . so i wan na go ahead and order a ct scan of your "
    "abdomen and pelvis . and i'm also gon na order you some ultram 50 milligrams as needed "
    "for pain .\n"
    "[patient] okay .\n"
    "[doctor] for your next problem , for your migraines , let's continue you on the imitrex "
    ".\n"
    "[patient] all right .\n"
)
PORTUGUESE = (
    "Médico: Bom dia, como está?\n"
    "Paciente: Minha pressão tem ficado alta.\n"
    "Médico: Vou examinar. PA 160/100.\n"
    "Médico: Primeiro problema, hipertensão: a pressão está descontrolada. Vamos aumentar a "
    "losartana para 100 mg por dia.\n"
    "Médico: Segundo problema, diabetes tipo dois, está descompensado. Iniciar metformina "
    "850 mg duas vezes ao dia.\n"
)


def note(text: str) -> SoapNote:
    result = LocalEngine().build_note(text)
    assert_faithful(text, result)
    return result


def lines(section: str) -> list[str]:
    return [line for line in section.split("\n") if line]


def test_each_announced_problem_has_its_whole_naming_clause_in_the_assessment() -> None:
    result = note(DICTATED)
    assessment = lines(result.assessment)
    assert "Back pain, I think the patient is having a recurrence of kidney stones." in assessment
    assert "Migraines" in assessment
    # The announcement itself is not left as a fragment.
    assert not any("problem" in line.lower() for line in assessment)


def test_each_problems_orders_are_grouped_under_its_name_in_the_plan() -> None:
    plan = lines(note(DICTATED).plan)
    back, migraines = plan.index("Back pain:"), plan.index("Migraines:")
    assert back < migraines
    between = " ".join(plan[back + 1 : migraines])
    assert "ct scan" in between.lower()
    assert "ultram 50" in between
    assert "imitrex" in " ".join(plan[migraines + 1 :])
    assert "imitrex" not in between


def test_portuguese_problems_are_grouped_too() -> None:
    result = note(PORTUGUESE)
    assert lines(result.assessment) == [
        "Hipertensão: a pressão está descontrolada.",
        "Diabetes tipo 2, está descompensado.",
    ]
    plan = lines(result.plan)
    assert plan.index("Hipertensão:") < plan.index("Diabetes tipo 2:")
    assert any("losartana para 100 mg" in line for line in plan[1 : plan.index("Diabetes tipo 2:")])


def test_numbered_problems_and_plan_topics_open_problems() -> None:
    result = note(
        "[doctor] let's talk about my assessment and plan . number one , your high blood "
        "pressure . i want you to increase the amlodipine to 10 mg daily .\n"
        "[patient] okay .\n"
        "[doctor] and for your knee pain , i think it's osteoarthritis , you can take tylenol "
        "as needed .\n"
    )
    assert lines(result.assessment) == [
        "High blood pressure",
        "Knee pain, I think it's osteoarthritis",
    ]
    assert lines(result.plan) == [
        "High blood pressure:",
        "Increase the amlodipine to 10 mg daily.",
        "Knee pain:",
        "The patient can take tylenol as needed.",
    ]


def test_a_problem_named_from_its_standpoint_is_named_without_it() -> None:
    # "from an asthma standpoint, …" once named the problem "Asthma standpoint" in the
    # Assessment: the words around the name announce it, they are no part of it.
    result = note(
        "[doctor] okay . on exam , your lungs have a faint wheeze .\n"
        "[doctor] so for your assessment and plan . for your congestive heart failure , "
        "continue the lasix 20 mg a day .\n"
        "[doctor] from an asthma standpoint , let's continue you on the albuterol , two "
        "puffs as needed .\n"
        "[doctor] from a depression standpoint , it sounds like you're doing really well "
        "with that .\n"
    )
    assessment = lines(result.assessment)
    assert "Asthma" in assessment
    assert "Depression" in assessment
    assert "It sounds like the patient is doing really well with that." in assessment
    assert "standpoint" not in result.assessment + result.plan
    assert "Asthma:" in lines(result.plan)


def test_a_topic_that_names_no_condition_is_not_a_problem() -> None:
    result = note(
        "[doctor] on exam , your lungs are clear . so for my plan , i think this is a viral "
        "bronchitis . for your convenience , i will send the prescription to the pharmacy .\n"
    )
    assert "Convenience:" not in result.plan


@pytest.mark.parametrize(
    ("typed", "impression"),
    [
        (
            "Headache 3 days, tension type, no nausea. BP 120/80. Tension headache. "
            "Paracetamol 1 g. Follow up prn.",
            "Tension headache.",
        ),
        (
            "BP 150/95 today, on lisinopril 10 mg. Hypertension not controlled. Increase "
            "lisinopril to 20 mg daily.",
            "Hypertension not controlled.",
        ),
        (
            "Cefaleia há 3 dias. PA 120/80. Cefaleia tensional. Paracetamol 750 mg. Retorno se "
            "necessário.",
            "Cefaleia tensional.",
        ),
        # No examination line: the condition named after the history is still the impression.
        (
            "Dor lombar há 2 semanas, piora ao esforço. Lombalgia mecânica. Dipirona 500 mg se "
            "dor, fisioterapia.",
            "Lombalgia mecânica.",
        ),
    ],
)
def test_a_typed_notes_impression_goes_to_the_assessment(typed: str, impression: str) -> None:
    result = note(typed)
    assert result.assessment == impression
    assert impression not in result.subjective


def test_a_typed_note_that_opens_with_a_condition_keeps_it_as_history() -> None:
    # "Diabetes follow-up." first is the reason for the visit, not an impression made.
    result = note("Hypertension. Headache for 3 days. Paracetamol 500 mg.")
    assert "Hypertension." in result.subjective
    assert result.assessment == ""


_BARE_ANNOUNCEMENT = re.compile(
    r"^(?:for |and )*(?:your |the )?(?:first|second|third|next|last|final) problem\b",
    re.IGNORECASE,
)


def test_aci_assessments_name_problems_rather_than_announce_them() -> None:
    announced = 0
    for source, result in aci_notes():
        for line in lines(result.assessment):
            assert not _BARE_ANNOUNCEMENT.match(line), line
        if re.search(r"\b(?:first|second|third|next|last|final) problem\b", source):
            announced += 1
            # Every problem named in the Plan is named in the Assessment too.
            for heading in (line for line in lines(result.plan) if line.endswith(":")):
                assert heading[:-1] in result.assessment, heading
    assert announced >= 20  # 26 of the 87 dialogues walk through their problems


def test_a_sentence_that_only_announces_the_assessment_is_no_line_of_it() -> None:
    # "so for your assessment and plan ." stood as the Assessment's first line: the
    # section's own heading says as much. It still moves the visit to its assessment.
    result = note(
        "[doctor] okay . on exam , your lungs have a faint wheeze .\n"
        "[doctor] so for your assessment and plan . for your congestive heart failure , "
        "continue the lasix 20 mg a day .\n"
    )
    assert lines(result.assessment) == ["Congestive heart failure"]
    assert "Continue the lasix 20 mg a day." in lines(result.plan)
    # Where the sentence goes on to say something, what it says stays.
    said = note("[doctor] for assessment and plan , the patient presents with melanoma .\n")
    assert "The patient presents with melanoma." in said.sections().values()
