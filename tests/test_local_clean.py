"""The local engine's note reads like a note: what the documented normalisations and
templates do, that they never flip a negation or invent a number, that hostile input is
handled in linear time, and that on every ACI-Bench dialogue the notes hold the issue's
readability and faithfulness targets.
"""

from __future__ import annotations

import json
import re

import pytest

from delphos.engines.local import LocalEngine
from delphos.engines.local_clean import clean, language_of
from delphos.engines.local_yesno import statement, third_person
from tests.support.local_faithful import aci_notes, assert_faithful
from tests.support.paths import ACI_BENCH

# --- the normalisations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("i do n't know , it 's fine .", "I don't know, it's fine."),
        ("it 's gon na hurt", "It's gonna hurt"),
        ("um , the pain is , uh , worse at night .", "The pain is worse at night."),
        ("it's in my , my right knee", "It's in my right knee"),
        ("trying to , uh , trying to exercise", "Trying to exercise"),
        ("an- another episode", "Another episode"),
        ("is the s- , um , skin itchy", "Is the skin itchy"),
        ("y-you know , it hurts", "It hurts"),
        ("here in the office , you know , the vital signs look great", None),
        ("for about four months", "For about 4 months"),
        ("type two diabetes", "Type 2 diabetes"),
        ("seven point two", "7.2"),
        ("no one was there , one of them", "No one was there, one of them"),
        ("i will let you know what i find", "I will let you know what I find"),
        ("pre- and post-operative pain", "Pre- and post-operative pain"),
    ],
)
def test_clean_rejoins_removes_fillers_and_stutters_and_writes_digits(
    spoken: str, written: str | None
) -> None:
    result = clean(spoken)
    if written is None:
        # A filler set off by commas takes them along.
        assert result == "Here in the office the vital signs look great"
    else:
        assert result == written


def test_clean_drops_announcing_words_but_keeps_what_is_said() -> None:
    assert clean("i wan na go ahead and order an mri of your knee .") == "Order an mri of knee."
    assert clean("on your exam , i do appreciate a murmur") == "On exam, a murmur"
    assert clean("you have decreased range of motion") == "Decreased range of motion"
    # The lead is not dropped where it is the sentence.
    assert clean("you have to take it") == "You have to take it"
    assert clean("let's see how it goes") == "Let's see how it goes"
    assert clean("i don't want to go ahead and do surgery") == "I don't want to do surgery"


def test_an_announcing_i_after_another_person_is_part_of_the_subject() -> None:
    # "you and I will keep" once lost its "I will": "you and keep you on ibuprofen".
    assert clean("you and i will keep you on ibuprofen") == "You and I will keep you on ibuprofen"
    assert clean("she and i will talk about it") == "She and I will talk about it"
    # After anything else "and" opens a new clause, and its announcing words go.
    assert clean("get an x-ray and i'll order an mri") == "Get an x-ray and order an mri"


def test_an_announcing_phrase_said_twice_goes_whole() -> None:
    # A restart of the lead-in once left "Let's, increase the metformin".
    assert clean("let's , let's increase the metformin") == "Increase the metformin"
    assert clean("i'm gonna , i'm gonna order an mri") == "Order an mri"


def test_a_restart_across_a_comma_stays_in_one_line_of_the_note() -> None:
    # Cut at the speaker's restart, "some pain to palpation of the" went to the exam and
    # "of the sinuses here" to the plan: neither line said where the pain was.
    text = (
        "[doctor] your lungs are clear . you do have some pain to palpation of the , of the "
        "sinuses here , so we will start amoxicillin 500 mg ."
    )
    written = "\n".join(LocalEngine().build_note(text).sections().values())
    assert "palpation of the sinuses" in written
    assert not any(line.rstrip().endswith(" of the") for line in written.splitlines())
    assert_faithful(text, LocalEngine().build_note(text))


def test_two_numbers_read_side_by_side_are_left_as_words() -> None:
    # "one twenty over eighty" is 120/80 to a clinician, but the words do not say so.
    assert clean("blood pressure is one twenty over eighty").startswith(
        "Blood pressure is one twenty over"
    )


def test_a_dose_below_one_keeps_its_zero_and_its_point() -> None:
    # "zero point four" read as "zero point 4" turned 0.4 mg of flomax into "4 milligrams".
    assert clean("start flomax zero point four milligrams once a day") == (
        "Start flomax 0.4 milligrams once a day"
    )
    assert clean("zero point zero five percent solution") == "0.05 percent solution"
    # "zero five" is not guessed as "05", nor cut into "zero 5" at a capital.
    assert clean("zero five percent solution") == "Zero five percent solution"
    assert clean("Twenty five days") == "25 days"


def test_portuguese_keeps_um_and_writes_its_numbers() -> None:
    assert clean("tomo um comprimido há três dias , vinte e cinco mg", "pt") == (
        "Tomo um comprimido há 3 dias, 25 mg"
    )
    assert language_of("Paciente relata dor de cabeça há três dias, não tem febre") == "pt"
    assert language_of("The patient has had a headache for three days") == "en"


# --- templates: built only from the question's words and the answer ----------------------


@pytest.mark.parametrize(
    ("question", "answer", "language", "expected"),
    [
        ("chest pain , fever , cough ?", "no .", "en", "Denies chest pain , fever , cough."),
        ("any swelling ?", "nope .", "en", "Denies swelling."),
        ("have you had any nausea ?", "no , not really .", "en", "Denies nausea."),
        ("any fever or chills ?", "yes .", "en", "Reports fever or chills."),
        # "no" to other symptoms denies those, not the one the visit is for.
        ("any other symptoms ?", "no .", "en", "Denies other symptoms."),
        ("Tem falta de ar?", "Não.", "pt", "Nega falta de ar."),
        ("Sente tontura?", "Sim.", "pt", "Refere tontura."),
    ],
)  # fmt: skip
def test_yes_no_exchange_becomes_a_statement(
    question: str, answer: str, language: str, expected: str
) -> None:
    assert statement(question, answer, language) == expected


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("any swelling ?", "yes , but no pain ."),  # mixed: not a plain yes or no
        ("any swelling ?", "a little on the left ."),  # an answer with content of its own
        ("any questions ?", "no ."),  # not a finding
        ("no fever ?", "no ."),  # a negated question: "no" is ambiguous
        ("you're taking it , right ?", "no ."),  # a statement being checked
        ("how is the pain ?", "no ."),  # not a yes/no question
        ("any does the pain go anywhere ?", "no ."),  # a question restarted
    ],
)
def test_no_template_where_it_could_misstate_the_answer(question: str, answer: str) -> None:
    assert statement(question, answer, "en") is None


def test_an_unpunctuated_question_answered_no_becomes_a_statement() -> None:
    # ASR without sentence marks asks without a "?": its "no" stood alone on a line of
    # the note, under a question it no longer answered.
    text = (
        "[doctor] how are your knees doing\n"
        "[patient] they hurt when i climb stairs\n"
        "[doctor] have you noticed any redness or swelling in your knees\n"
        "[patient] no\n"
    )
    subjective = LocalEngine().build_note(text).subjective
    assert "Denies redness or swelling in knees." in subjective
    assert "No" not in subjective.splitlines()


def test_an_unpunctuated_question_keeps_its_short_answer_on_its_line() -> None:
    # Where no template applies, question and answer stood on two lines ("Any does the
    # pain extend anywhere" / "No not really"), and a question asked twice left its
    # answer alone: a bare "No" in the history, answering nothing a reader could see.
    text = (
        "[doctor] any does the pain extend anywhere\n"
        "[patient] no not really\n"
        "[doctor] does it hurt when you walk\n"
        "[patient] yes\n"
        "[doctor] and how about your bowel movements ; are they okay ?\n"
        "[patient] they're normal .\n"
        "[doctor] does it hurt when you walk\n"
        "[patient] not really\n"
    )
    lines = LocalEngine().build_note(text).subjective.splitlines()
    assert "Any does the pain extend anywhere? No not really" in lines
    assert "Does it hurt when you walk? Not really" in lines
    # "they" before "they're" is no cut-off word once a "?" stands between them.
    assert "How about bowel movements; are they? They're normal." in lines
    assert not {"No", "No not really", "Not really", "Yes"} & set(lines)


def test_you_know_inside_a_clause_is_a_filler_but_starting_one_is_said() -> None:
    # "comfortable you know when I lay down" once reached the note as said.
    assert clean("i ca n't get comfortable you know when i lay down") == (
        "I can't get comfortable when I lay down"
    )
    assert clean("you know where it hurts") == "You know where it hurts"
    assert clean("and you know where it hurts") == "And you know where it hurts"
    assert clean("do you know when it started") == "Do you know when it started"


@pytest.mark.parametrize(
    ("said", "noted"),
    [
        ("I've had knee pain for 2 weeks.", "Reports knee pain for 2 weeks."),
        ("I don't have any fever.", "Denies any fever."),
        ("I haven't had chest pain.", "Denies chest pain."),
        ("I've been taking tylenol.", "Reports taking tylenol."),
        ("I have to go.", "I have to go."),
        ("I have no idea.", "I have no idea."),
        ("I had to stop.", "I had to stop."),
    ],
)
def test_patient_first_person_becomes_a_report_only_where_it_reports(said: str, noted: str) -> None:
    assert third_person(said, "en") == noted


def test_portuguese_first_person_becomes_refere_and_nega() -> None:
    assert third_person("Estou com tosse há 5 dias.", "pt") == "Refere tosse há 5 dias."
    assert third_person("Não tenho febre.", "pt") == "Nega febre."
    assert third_person("Tenho que ir.", "pt") == "Tenho que ir."


def test_the_engine_turns_a_denial_into_a_statement_and_never_a_yes_into_one() -> None:
    text = (
        "[doctor] any fever or chills ?\n[patient] no .\n"
        "[doctor] any nausea ?\n[patient] yes , some nausea in the morning .\n"
    )
    result = LocalEngine().build_note(text)
    assert "Denies fever or chills." in result.subjective
    assert "Denies nausea" not in result.subjective


# --- hostile input --------------------------------------------------------------------------


_HOSTILE = {
    "dots": "." * 100_000,
    "emoji": "\U0001f600" * 8_000,
    "long-word": "a" * 100_000,
    "fragments": "a- " * 30_000,
    "fillers": "you know , " * 9_000,
    "numbers": "two " * 25_000,
    "leads": "I've " * 20_000,
    "list": "[doctor] any " + "fever , " * 12_000 + "?\n[patient] no .",
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(_HOSTILE))
def test_hostile_text_is_cleaned_promptly(name: str) -> None:
    # No timed assertion: a quadratic path on these inputs would exceed the timeout.
    text = _HOSTILE[name]
    result = clean(text)
    assert "\n" not in result
    assert third_person(result, "en").endswith(result[-20:])
    made = statement(text, "no .", "en")
    assert made is None or made.startswith("Denies ")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["long-word", "fragments", "fillers", "numbers", "leads", "list"])
def test_hostile_text_gives_a_faithful_note_promptly(name: str) -> None:
    # Long runs of non-word characters ("dots", "emoji") are left to the cue reader's
    # tokenizer, made linear on its own (issue 11); everything after it is linear here.
    text = _HOSTILE[name]
    result = LocalEngine().build_note(text)
    assert_faithful(text, result)


# --- every dialogue we have -------------------------------------------------------------------

_FILLER = re.compile(
    r"\b(?:um+|uh+|uhm|hmm+|mm-?hmm|kinda|sorta|"
    r"(?<!\blet )(?<!\bdo )(?<!\bdid )(?<!\bif )(?<!\bto )(?:you know|i mean))\b"
)
_SPACED = re.compile(r"\w \'(?:s|re|ve|ll|m|d|t)\b|\w n\'t\b|\bgon na\b|\bwan na\b")
_FRAGMENT = re.compile(r"(?:^|\s)[a-z]{1,12}-(?=\s|$)")


def test_aci_notes_are_faithful_to_their_transcripts() -> None:
    # Every sentence a run of the normalised transcript; every number in it. Measured:
    # 2,800+ sentences, 700+ numbers, 70+ templates over 87 dialogues, 0 failures.
    pieces = numbers = templates = 0
    for source, result in aci_notes():
        checked = assert_faithful(source, result)
        pieces += checked.pieces
        numbers += checked.numbers
        templates += len(checked.templates)
    assert pieces > 2000
    assert numbers > 500
    assert templates > 20


def test_aci_denials_come_only_from_a_no() -> None:
    # A "Denies X." line needs a "no" answer or a first-person denial in the transcript.
    for source, result in aci_notes():
        flat = " ".join(source.lower().split())
        for line in result.subjective.split("\n") + result.objective.split("\n"):
            if not line.startswith("Denies "):
                continue
            thing = line[len("Denies ") :].rstrip(".").lower().split(",")[0].split()[-1]
            assert re.search(
                rf"{re.escape(thing)}[^\n?]*\? \[patient[^\]]*\] (?:no|nope|nah)\b|"
                rf"i (?:do n't|don't|did n't|didn't|have n't|haven't|do not|have not)"
                rf"[^.?]*{re.escape(thing)}",
                flat,
            ), line


def test_aci_notes_read_as_written_text() -> None:
    for _, result in aci_notes():
        for key, section in result.sections().items():
            low = section.lower()
            assert not _FILLER.search(low), (key, _FILLER.search(low))
            assert not _SPACED.search(low), (key, _SPACED.search(low))
            assert not _FRAGMENT.search(low), (key, _FRAGMENT.search(low))
            if key in ("assessment", "plan"):
                assert "?" not in section, key
            for line in section.split("\n"):
                assert line[:1] == line[:1].upper(), (key, line)


def test_aci_notes_are_about_as_long_as_a_scribes() -> None:
    # Measured: train 1.08x, valid 0.98x the reference notes' words.
    for split in ("train", "valid"):
        path = ACI_BENCH / f"{split}.json"
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        engine = LocalEngine()
        ours = sum(
            len(" ".join(engine.build_note(e["src"]).sections().values()).split()) for e in data
        )
        theirs = sum(len(e["tgt"].split()) for e in data)
        assert 0.75 <= ours / theirs <= 1.25, split
