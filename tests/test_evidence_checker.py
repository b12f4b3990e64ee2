"""The evidence checker on its own: each kind of error is flagged at its statement, a
faithful note is not, number words and Portuguese count, offsets slice the note."""

from __future__ import annotations

import pytest

from delphos.evidence.models import Statement
from delphos.evidence.statements import MAX_STATEMENT_CHARS
from delphos.evidence.verify import TooManyStatements, verify

DIALOGUE = """[doctor] any chest pain ?
[patient] no .
[doctor] and your right knee ?
[patient] it hurts . i take lisinopril forty milligrams once a day .
[doctor] your blood pressure is one twenty over eighty .
[doctor] okay , three days of swelling ."""


def _by_text(statements: list[Statement], fragment: str) -> Statement:
    return next(s for s in statements if fragment in s.text)


def test_a_faithful_note_with_number_words_written_as_digits_needs_no_review() -> None:
    note = {
        "subjective": "Denies chest pain. Right knee pain. Swelling for 3 days.",
        "objective": "BP 120/80.",
        "plan": "Continue lisinopril 40 mg daily.",
    }
    evidence = verify(DIALOGUE, note)
    assert [s.issues for s in evidence.statements] == [[]] * 5
    assert evidence.summary.needs_review is False
    assert evidence.summary.support.supported == 5


def test_each_kind_of_error_is_flagged_at_its_own_statement() -> None:
    note = {
        "subjective": "Reports chest pain. Left knee pain. Swelling for 5 days.",
        "plan": "Continue lisinopril 80 mg daily. Start metoprolol 25 mg.",
    }
    evidence = verify(DIALOGUE, note)
    kinds = {s.text: [i.kind for i in s.issues] for s in evidence.statements}
    assert kinds["Reports chest pain."] == ["negation"]
    assert kinds["Left knee pain."] == ["laterality"]
    assert kinds["Swelling for 5 days."] == ["number"]
    assert kinds["Continue lisinopril 80 mg daily."] == ["dose"]
    assert "drug" in kinds["Start metoprolol 25 mg."]
    assert evidence.summary.needs_review is True
    assert evidence.summary.issues.negation == 1


def test_portuguese_number_words_sides_and_denials() -> None:
    dialogue = (
        "[médico] tem febre ?\n[paciente] não .\n"
        "[paciente] dói o joelho direito há três dias . tomo losartana cinquenta miligramas ."
    )
    good = verify(
        dialogue,
        {"subjective": "Nega febre. Dor no joelho direito há 3 dias. Losartana 50 mg."},
    )
    assert all(not s.issues for s in good.statements)
    bad = verify(
        dialogue,
        {"subjective": "Febre. Dor no joelho esquerdo há 5 dias. Losartana 100 mg."},
    )
    kinds = {s.text: [i.kind for i in s.issues] for s in bad.statements}
    assert kinds["Dor no joelho esquerdo há 5 dias."] == ["number", "laterality"] or set(
        kinds["Dor no joelho esquerdo há 5 dias."]
    ) == {"number", "laterality"}
    assert kinds["Losartana 100 mg."] == ["dose"]


def test_a_short_portuguese_statement_reads_no_as_in_the_not_as_a_denial() -> None:
    # "Derrame no joelho esquerdo." has no word that tells its language on its own; it is
    # read in its transcript's, where "no" is "em o", not the English denial.
    dialogue = (
        "[médico] o que aconteceu ?\n[paciente] caí e bati o joelho esquerdo , está inchado .\n"
        "[médico] no exame há derrame no joelho esquerdo , sem instabilidade ."
    )
    evidence = verify(dialogue, {"objective": "Derrame no joelho esquerdo. Sem instabilidade."})
    assert [s.issues for s in evidence.statements] == [[], []]
    # The same words in an English visit are a denial, contradicted by the transcript.
    english = verify(
        "[doctor] there is swelling in the left knee .",
        {"objective": "No swelling in the left knee."},
    )
    assert [i.kind for i in english.statements[0].issues] == ["negation"]


def test_offsets_slice_the_section_and_the_transcript() -> None:
    dialogue = "[paciente] está com dor no ombro 😀 esquerdo há duas semanas ."
    note = {"subjective": "Olá 😀. Dor no ombro esquerdo há 2 semanas."}
    evidence = verify(dialogue, note)
    for st in evidence.statements:
        assert note[st.section][st.start : st.end] == st.text
    stmt = _by_text(evidence.statements, "ombro")
    assert stmt.evidence
    assert "ombro" in dialogue[stmt.evidence[0].start : stmt.evidence[0].end]


def test_a_note_copying_asr_speech_keeps_its_polarity_and_its_figures() -> None:
    dialogue = (
        "[doctor] your blood pressure is one twenty eight over seventy two .\n"
        "[doctor] i do n't see any fracture , and there's a three out of six murmur .\n"
        "[doctor] have you had any chest pain\n[patient] no\n"
        "[doctor] there is some erythema of your right knee , but your left knee looks fine ."
    )
    faithful = verify(
        dialogue,
        {
            "objective": "Blood pressure 128/72. I don't see any fracture. Grade 3/6 murmur. "
            "Erythema of the right knee. Left knee looks fine.",
            "subjective": "Denies chest pain.",
        },
    )
    assert [s.issues for s in faithful.statements] == [[]] * 6
    wrong = verify(
        dialogue,
        {"objective": "Erythema of the left knee. Grade 2/6 murmur.", "subjective": "Chest pain."},
    )
    kinds = {s.text: [i.kind for i in s.issues] for s in wrong.statements}
    assert kinds == {
        "Erythema of the left knee.": ["laterality"],
        "Grade 2/6 murmur.": ["number"],
        "Chest pain.": ["negation"],
    }


ASR_TURN = """[doctor] how is the ankle doing ?
[patient] it still hurts when i walk on it and i do n't sleep well .
[doctor] okay so it's a short procedure and you'll be able to go home the same day and \
then you will follow up with me here in about a week you will not be able to put weight \
on that foot for six weeks after that you will start walking on it slowly and i do n't \
think you need physical therapy yet but we will see how you do"""


def test_a_note_cutting_an_unpunctuated_turn_its_own_way_keeps_the_turns_negations() -> None:
    note = (
        "It's a short procedure and the patient will be able to go home the same day. Then "
        "the patient will follow up with me here in about a week the patient will not be "
        "able to put weight on that foot for 6 weeks after that the patient will start "
        "walking on it slowly. I don't think the patient needs physical therapy yet."
    )
    evidence = verify(ASR_TURN, {"plan": note})
    assert [i.text for s in evidence.statements for i in s.issues] == []


def test_a_copied_turn_that_drops_its_not_is_still_a_negation_flip() -> None:
    note = (
        "Then the patient will follow up with me here in about a week the patient will be "
        "able to put weight on that foot for 6 weeks after that the patient will start "
        "walking on it slowly."
    )
    evidence = verify(ASR_TURN, {"plan": note})
    assert [i.kind for s in evidence.statements for i in s.issues] == ["negation"]


SHOULDER = """[patient] my left shoulder hurts when i reach up .
[doctor] okay and does it stay there ?
[patient] it stays pretty much right at the shoulder it does n't go down the arm
[doctor] there are two stretches you can do . the clinic will not see you for therapy if \
you skip those two .
[doctor] we have two options for pain medicine"""


def test_a_side_word_copied_in_its_place_is_not_a_contradiction() -> None:
    # "right at the shoulder" is where the pain stays, said in the words the note copies.
    note = (
        "It stays pretty much right at the shoulder it doesn't go down the arm. The clinic "
        "will not see the patient for therapy if the patient skips those 2."
    )
    evidence = verify(SHOULDER, {"subjective": note})
    assert [i.text for s in evidence.statements for i in s.issues] == []


def test_a_copy_with_a_changed_number_is_still_flagged() -> None:
    note = "The clinic will not see the patient for therapy if the patient skips those 3."
    evidence = verify(SHOULDER, {"plan": note})
    assert [i.kind for s in evidence.statements for i in s.issues] == ["number"]


def test_right_away_in_a_note_is_not_a_side() -> None:
    # Speech like "right away" is never read as a side in the transcript; in the note
    # neither, or a faithful plan reads as a laterality error.
    dialogue = (
        "[doctor] your left knee is swollen . put some ice on it and call me if it gets worse ."
    )
    note = {"plan": "Apply ice to the knee right away. Call right away if the knee gets worse."}
    assert [i.kind for s in verify(dialogue, note).statements for i in s.issues] == []
    flipped = {"plan": "Right knee swollen. Apply ice to the knee right away."}
    assert [i.kind for s in verify(dialogue, flipped).statements for i in s.issues] == [
        "laterality"
    ]


def test_number_words_either_side_of_a_comma_are_two_numbers_not_one() -> None:
    # "three hundred , twenty" is two numbers said in a row (a self-correction), not 320:
    # a note copying them as "300, 20" is faithful, and one writing 320 is not.
    dialogue = "[doctor] she was taking a tablet , three hundred , twenty a day ."
    copied = {"subjective": "She was taking a tablet, 300, 20 a day."}
    assert [i.kind for s in verify(dialogue, copied).statements for i in s.issues] == []
    joined = {"subjective": "She was taking a tablet, 320 a day."}
    assert [i.kind for s in verify(dialogue, joined).statements for i in s.issues] == ["number"]


def test_a_dose_said_after_a_two_word_drug_name_is_that_drugs_dose() -> None:
    # "sulfate" is a drug of its own too; as the second word of "ferrous sulfate" it is
    # the same mention, not another drug whose name ends the dose's reach.
    dialogue = "[doctor] she was taking ferrous sulfate , twenty five milligrams by mouth ."
    note = {"subjective": "She was taking ferrous sulfate 25 milligrams by mouth."}
    assert [i.kind for s in verify(dialogue, note).statements for i in s.issues] == []
    wrong = {"subjective": "She was taking ferrous sulfate 50 milligrams by mouth."}
    assert "dose" in [i.kind for s in verify(dialogue, wrong).statements for i in s.issues]


def test_a_spoken_denial_does_not_reach_past_so_or_because() -> None:
    # Unpunctuated speech moves on with "so" and "because": what follows is said, not
    # denied, while the denial before them still counts.
    dialogue = (
        "[doctor] the x-rays show no fractures or arthritis so based on what you told me "
        "your symptoms are consistent with patellofemoral pain syndrome\n"
        "[doctor] does it happen every time\n[patient] yeah i do n't think so because it "
        "is the same part of her body that is moving every time"
    )
    faithful = {
        "assessment": "Based on what the patient told me symptoms are consistent with "
        "patellofemoral pain syndrome. It is the same part of her body that is moving "
        "every time."
    }
    assert [i.kind for s in verify(dialogue, faithful).statements for i in s.issues] == []
    flipped = {"objective": "Arthritis on x-rays."}
    assert [i.kind for s in verify(dialogue, flipped).statements for i in s.issues] == ["negation"]


def test_a_copied_answer_with_a_contracted_negation_is_supported() -> None:
    # ASR writes "have n't"; a note writing "haven't" says the same words.
    dialogue = "[doctor] have you noticed any blood in your stools ?\n[patient] no , i have n't ."
    note = {"subjective": "Have you noticed any blood in stools? No, I haven't."}
    evidence = verify(dialogue, note)
    assert evidence.summary.support.unsupported == 0
    invented = {"subjective": "No, I haven't been to Lisbon."}
    assert verify(dialogue, invented).summary.support.unsupported == 1


def _unsupported(dialogue: str, note: dict[str, str]) -> list[str]:
    return [s.text for s in verify(dialogue, note).statements if s.support == "unsupported"]


def _issues(dialogue: str, note: dict[str, str]) -> list[str]:
    return [i.kind for s in verify(dialogue, note).statements for i in s.issues]


VISIT = """[doctor] we'll follow the lumpectomy scar . how have you been ?
[patient] i get short of breath on the stairs , and i saw some blood in my urine .
[doctor] okay . and your high blood pressure ?
[patient] i take my pills .
[doctor] your lungs are clear and your heart sounds good .
[doctor] i'll see you back in two weeks .
[doctor] so when did the surgery happen ?
[patient] on january 20th , 2020 .
[doctor] on a scale of one to ten , how bad is the pain ?
[patient] about a six ."""


def test_a_scribes_words_for_what_was_said_are_supported() -> None:
    # Clinical terms for lay words, an organ's normal exam for its denied signs, and the
    # scribe's account of the visit: paraphrase, not invention.
    note = {
        "subjective": "Reports dyspnea. Reports hematuria. History of hypertension.",
        "objective": "No wheezes, rales, or rhonchi. No murmurs, gallops, or rubs.",
        "assessment": "We discussed treatment options. All questions were answered.",
    }
    assert _unsupported(VISIT, note) == []


def test_a_statement_inventing_a_fact_is_still_unsupported() -> None:
    note = {
        "subjective": "Reports melena.",
        "objective": "Wheezes heard throughout.",
        "assessment": "We discussed chemotherapy for his lymphoma.",
    }
    assert _unsupported(VISIT, note) == [
        "Reports melena.",
        "Wheezes heard throughout.",
        "We discussed chemotherapy for his lymphoma.",
    ]


def test_a_body_system_heading_is_no_statement_but_a_list_of_problems_is() -> None:
    note = {
        "objective": "Respiratory\n\n- Lungs: Clear. Cardiovascular\n- Heart: Sounds good.",
        "assessment": "Hypertension\nLymphoma",
    }
    texts = [s.text for s in verify(VISIT, note).statements]
    assert texts == ["Lungs: Clear.", "Heart: Sounds good.", "Hypertension", "Lymphoma"]
    assert _unsupported(VISIT, note) == ["Lymphoma"]


def test_a_date_said_with_its_months_name_and_a_ratings_scale_are_placed() -> None:
    # A date is said with its month's name; a rating's "/10" is the scale the doctor
    # asked with; "once the results are back" says when, not how often.
    note = {
        "subjective": "Lumpectomy on 01/20/2020. Rates the pain as 6/10.",
        "plan": "We will talk once the results are back.",
    }
    assert _issues(VISIT, note) == []
    wrong = {"subjective": "Lumpectomy on 01/22/2020. Rates the pain as 8/10."}
    flagged = [{i.kind for i in s.issues} for s in verify(VISIT, wrong).statements]
    assert flagged == [{"number"}] * 2


def test_a_label_or_the_visits_account_asserts_no_finding() -> None:
    dialogue = (
        "[doctor] there is no skin rash . the foot feels warm to the touch .\n"
        "[doctor] do you have any questions ?\n[patient] no ."
    )
    # Nor does the scribe's account of the visit assert a finding.
    note = {"objective": "SKIN: Foot warm to the touch.", "plan": "All questions were answered."}
    assert _issues(dialogue, note) == []
    assert _issues(dialogue, {"objective": "SKIN: Rash."}) == ["negation"]


def test_a_decimal_said_from_its_point_is_that_number() -> None:
    # "point five centimeters" is 0.5; its "five" is no 5 of its own.
    dialogue = "[doctor] the ct shows a stone measuring point five centimeters ."
    assert _issues(dialogue, {"objective": "CT shows a 0.5 cm stone."}) == []
    assert _issues(dialogue, {"objective": "CT shows a 5 cm stone."}) == ["number"]
    # A transcriber's "point 5" is the same 0.5; "at this point 5 mg" is no decimal.
    assert _issues(dialogue, {"objective": "CT shows a stone measuring point 5 cm."}) == []
    dose = "[doctor] at this point 5 mg of lisinopril is enough ."
    assert _issues(dose, {"plan": "Lisinopril 5 mg."}) == []


def test_a_finding_said_across_two_sentences_is_judged_by_its_denied_part() -> None:
    # "there are no fractures" after "i looked at your x-rays": no one sentence holds the
    # note's words, yet the transcript plainly denies what "X-rays show fractures" says.
    denied = "[doctor] so i looked at your x-rays . there are no fractures .\n[patient] okay ."
    said = "[doctor] so i looked at your x-rays . there are two fractures .\n[patient] okay ."

    def kinds(dialogue: str, statement: str) -> list[str]:
        evidence = verify(dialogue, {"objective": statement})
        return [i.kind for s in evidence.statements for i in s.issues]

    assert kinds(denied, "X-rays show fractures.") == ["negation"]
    assert kinds(denied, "X-rays show no fractures.") == []
    assert kinds(said, "X-rays show fractures.") == []
    assert kinds(said, "No fractures seen on x-rays.") == ["negation"]
    portuguese = "[médico] olhei o seu raio x . não tem fratura .\n[paciente] certo ."
    assert kinds(portuguese, "Raio X mostra fratura.") == ["negation"]
    assert kinds(portuguese, "Raio X sem fratura.") == []


def test_one_answer_to_a_list_of_questions_answers_each_of_them() -> None:
    # "chest pain ? shortness of breath ? [patient] no ." denies both; "uh , i have not"
    # is a no; a full question followed by another is not answered by the second's answer.
    dialogue = (
        "[doctor] any other symptoms ? chest pain ? shortness of breath ?\n[patient] no .\n"
        "[doctor] have you had any fever ?\n[patient] uh , i have not .\n"
        "[doctor] are you sleeping okay ? any nausea ?\n[patient] none of that ."
    )

    def kinds(statement: str) -> list[str]:
        evidence = verify(dialogue, {"subjective": statement})
        return [i.kind for s in evidence.statements for i in s.issues]

    assert kinds("Reports chest pain.") == ["negation"]
    assert kinds("Reports shortness of breath.") == ["negation"]
    assert kinds("Denies shortness of breath.") == []
    assert kinds("Reports fever.") == ["negation"]
    assert kinds("Denies nausea.") == []
    assert kinds("Sleeping well.") == []


def test_the_mention_with_the_statements_words_around_it_breaks_a_tie() -> None:
    # Both polarities said in one turn: the one said with the statement's own words
    # (and side) around it is what the statement is about.
    dialogue = (
        "[doctor] okay so pain with supination no pain with pronation on the right side\n"
        "[patient] okay"
    )

    def kinds(statement: str) -> list[str]:
        evidence = verify(dialogue, {"objective": statement})
        return [i.kind for s in evidence.statements for i in s.issues]

    assert set(kinds("Pain with pronation on the right side.")) == {"negation"}
    assert kinds("No pain with pronation on the right side.") == []


def test_the_side_said_throughout_outweighs_one_slip_and_a_denied_side() -> None:
    # "right foot" said once against "left foot" throughout: a statement about the foot
    # sharing no other word with either is about the left one. "Not the right knee" and
    # "left or right" name no side, in the transcript or in a note copying it.
    dialogue = (
        "[doctor] you hurt your left foot playing soccer ?\n[patient] yes .\n"
        "[doctor] i see bruising on your left foot . we took an x-ray of your left foot .\n"
        "[doctor] for your right foot , crutches .\n"
        "[patient] and it's not the right knee it's the left knee that clicks ."
    )

    def kinds(statement: str) -> list[str]:
        evidence = verify(dialogue, {"plan": statement})
        return [i.kind for s in evidence.statements for i in s.issues]

    assert kinds("Left foot ORIF planned.") == []
    assert kinds("Right foot ORIF planned.") == ["laterality"]
    assert kinds("It's not the right knee, it's the left knee that clicks.") == []
    assert "laterality" in kinds("Right knee clicks.")
    assert kinds("Is it the left or right knee that clicks") == []


def _side_kinds(dialogue: str, statement: str) -> list[str]:
    return [
        i.kind for s in verify(dialogue, {"assessment": statement}).statements for i in s.issues
    ]


def test_a_side_said_as_a_comparisons_reference_is_not_the_parts_side() -> None:
    # The left knee is only the reference the right one is compared with: the knee the
    # visit is about is the right one, said twice.
    dialogue = (
        "[patient] my right knee aches when i run .\n"
        "[doctor] i'll look at your left knee first , it moves well .\n"
        "[doctor] the x-ray of your right knee , compared to the left knee , looks good ."
    )
    assert _side_kinds(dialogue, "Right knee sprain.") == []
    assert _side_kinds(dialogue, "Left knee sprain.") == ["laterality"]


def test_a_side_corrected_at_once_is_not_the_transcripts_side() -> None:
    # "left leg pain . right leg pain": a slip and its correction. A note copying the
    # slip's words is not backed by them.
    dialogue = (
        "[doctor] she's here for left leg pain . right leg pain , right leg pain ?\n"
        "[patient] yes .\n"
        "[doctor] and the outside of your left of your right knee sorry is tender ."
    )
    assert _side_kinds(dialogue, "Here for right leg pain.") == []
    assert _side_kinds(dialogue, "Here for left leg pain.") == ["laterality"]
    assert _side_kinds(dialogue, "Tender on the outside of the right knee.") == []
    assert _side_kinds(dialogue, "Tender on the outside of the left knee.") == ["laterality"]
    # An extractive note copying the slip's sentence whole, or the slip with its
    # correction, says what was said.
    assert _side_kinds(dialogue, "She's here for left leg pain.") == []
    assert _side_kinds(dialogue, "The outside of your left of your right knee sorry.") == []


def test_a_side_said_more_often_for_the_part_wins_unless_both_are_said() -> None:
    # The right knee three times, the left twice, no words of the statement around
    # either: the right one is the patient's. "Bilateral knee pain" said too makes the
    # left one the patient's as well.
    dialogue = (
        "[patient] my right knee aches .\n"
        "[doctor] i'll look at your left knee first . does your left knee hurt ?\n"
        "[patient] the right knee hurts on the outside .\n"
        "[doctor] therapy for your right knee ."
    )
    assert _side_kinds(dialogue, "Left knee sprain.") == ["laterality"]
    assert _side_kinds(dialogue, "Right knee sprain.") == []
    both = dialogue + "\n[doctor] so that's bilateral knee pain , at night too ."
    assert _side_kinds(both, "Left knee sprain.") == []


def test_right_where_is_no_side_and_on_the_right_okay_is_one() -> None:
    # "right where I'm pressing" points at a place; "no masses on the right okay" names
    # a side, and a denied finding matches the side it is denied on.
    dialogue = (
        "[doctor] on your back exam you have some tenderness on the left paraspinal area "
        "right where i'm pressing right there .\n"
        "[doctor] i appreciate a left adnexal mass and there is no masses on the right okay "
        "so now the ct shows a three centimeter left ovarian mass ."
    )
    assert _side_kinds(dialogue, "Tenderness on the left paraspinal area.") == []
    assert _side_kinds(dialogue, "Tenderness on the right paraspinal area.") == ["laterality"]
    assert _side_kinds(dialogue, "No masses on the right.") == []
    assert _side_kinds(dialogue, "No masses on the left.") == ["laterality"]


def test_a_semicolon_ends_the_clause_a_side_is_matched_by() -> None:
    # "left testicle, normal" follows the right testicle's findings after a ";": the
    # epididymis before it is the right one's.
    dialogue = (
        "[patient] i have this little nodule on my right testicle .\n"
        "[doctor] genitalia : right testicle with two to three millimeters palpable nodule "
        "does not feel as if with the epididymis or varicocele ; left testicle , normal ; "
        "no hernia ."
    )
    assert _side_kinds(dialogue, "A nodule in his right testicle, possibly the epididymis.") == []
    assert _side_kinds(dialogue, "A nodule in his left testicle, possibly the epididymis.") == [
        "laterality"
    ]


def test_is_right_before_the_body_part_is_a_side() -> None:
    # "that is right" is speech, but "there is right inguinal lymph node" names a side.
    dialogue = (
        "[doctor] on examination today , there is right inguinal lymph node with slightly "
        "atypical consistency . is that right ?\n[patient] that is right , on my left side ."
    )
    assert _side_kinds(dialogue, "There is a right inguinal lymph node.") == []
    assert _side_kinds(dialogue, "There is a left inguinal lymph node.") == ["laterality"]


def test_a_copy_with_the_other_side_in_a_sides_place_is_flagged() -> None:
    # Both sides said for the back in one sentence: the note copies it word for word
    # but for the second side, which the transcript gives as the other one.
    dialogue = (
        "[patient] the pain started from the right side and moved over and now i feel it "
        "on the left side of my back ."
    )
    copied = (
        "The pain started from the right side and moved over and he feels it on the {} "
        "side of his back."
    )
    assert _side_kinds(dialogue, copied.format("left")) == []
    assert _side_kinds(dialogue, copied.format("right")) == ["laterality"]


def test_a_range_whose_end_is_said_only_about_something_else_is_flagged() -> None:
    # Each end of "3 to 2" is said, but "three" only about weeks: the range is never given.
    dialogue = (
        "[doctor] how much do you drink ?\n"
        "[patient] a couple of beers in the week , and one or two on the weekend .\n"
        "[doctor] okay . i want to see you back in three weeks ."
    )
    said = {"subjective": "Drinks a couple of beers in the week and 1 to 2 on the weekend."}
    assert [i.kind for s in verify(dialogue, said).statements for i in s.issues] == []
    changed = {"subjective": "Drinks a couple of beers in the week and 3 to 2 on the weekend."}
    assert [i.kind for s in verify(dialogue, changed).statements for i in s.issues] == ["number"]


def test_a_dose_frequency_range_needs_both_its_ends_said() -> None:
    dialogue = "[patient] i take two tylenol every six to eight hours ."
    said = {"subjective": "Takes 2 Tylenol every 6 to 8 hours."}
    assert [i.kind for s in verify(dialogue, said).statements for i in s.issues] == []
    changed = {"subjective": "Takes 2 Tylenol every 4 to 8 hours."}
    assert "dose" in [i.kind for s in verify(dialogue, changed).statements for i in s.issues]


EXCHANGE = (
    "[doctor] so when did the pain in your foot start ?\n"
    "[patient] i was running on the trail near the lake with my dog and i stepped in a hole "
    "and twisted it badly .\n"
    "[doctor] how long ago was that ?\n"
    "[patient] about seven days ago .\n"
    "[doctor] okay . and the swelling , five days of it ?"
)


def test_a_number_said_in_the_answer_to_the_notes_question_is_placed() -> None:
    # The scribe's words ("twisted") are in the story, the number in the answer after it.
    note = {"subjective": "Her foot pain began 7 days ago, when she twisted it running."}
    assert [i.kind for s in verify(EXCHANGE, note).statements for i in s.issues] == []


def test_a_number_said_with_its_head_about_something_else_is_still_flagged() -> None:
    # "five days" is said, of the swelling; the twist was seven days ago.
    note = {"subjective": "Her foot pain began 5 days ago, when she twisted it running."}
    assert [i.kind for s in verify(EXCHANGE, note).statements for i in s.issues] == ["number"]


def test_a_denial_does_not_reach_past_a_comma_into_a_new_subject() -> None:
    dialogue = (
        "[doctor] any family history i should know about ?\n"
        "[patient] i do not have any siblings and , thankfully , my children are all healthy ."
    )
    healthy = {"subjective": "She has no siblings. Her children are all healthy."}
    assert [i.kind for s in verify(dialogue, healthy).statements for i in s.issues] == []
    siblings = {"subjective": "She has siblings."}
    assert [i.kind for s in verify(dialogue, siblings).statements for i in s.issues] == ["negation"]


def test_a_drug_class_is_no_drug_the_transcript_lacks_but_a_named_drug_is() -> None:
    dialogue = "[patient] i sit at a desk all day and i take ibuprofen for the pain ."
    note = {"subjective": "She sits at a desk all day. She takes NSAIDs for the pain."}
    assert [i.kind for s in verify(dialogue, note).statements for i in s.issues] == []
    named = {"subjective": "She takes naproxen for the pain."}
    assert [i.kind for s in verify(dialogue, named).statements for i in s.issues] == ["drug"]


def test_a_possessive_in_a_halting_denial_is_still_the_denied_item() -> None:
    dialogue = "[doctor] any surgeries ?\n[patient] yeah , no , uh , my , uh , knee surgery ."
    note = {"subjective": "No knee surgery."}
    assert [i.kind for s in verify(dialogue, note).statements for i in s.issues] == []


def test_halves_and_a_range_of_hundreds_said_in_words_are_their_numbers() -> None:
    dialogue = (
        "[patient] it started about a year and a half ago .\n"
        "[patient] i can walk maybe three to four hundred yards before it hurts .\n"
        "[doctor] the cut is about two and a half centimeters ."
    )
    note = {
        "subjective": "Started 1.5 years ago. She can walk 300 to 400 yards.",
        "objective": "Laceration measuring 2.5 cm.",
    }
    assert [i.kind for s in verify(dialogue, note).statements for i in s.issues] == []
    wrong = {"objective": "Laceration measuring 3.5 cm."}
    assert [i.kind for s in verify(dialogue, wrong).statements for i in s.issues] == ["number"]


LISTED = (
    "[doctor] okay let's talk about some other symptoms any joint pain fever weight loss\n"
    "[patient] no not really"
)


def test_any_asks_of_each_finding_of_a_list_spoken_without_a_question_mark() -> None:
    note = {"subjective": "Denies fever or weight loss."}
    assert [i.kind for s in verify(LISTED, note).statements for i in s.issues] == []


def test_a_finding_asked_in_a_spoken_list_and_denied_is_no_symptom() -> None:
    note = {"subjective": "Reports weight loss."}
    assert [i.kind for s in verify(LISTED, note).statements for i in s.issues] == ["negation"]


ROS = (
    "[doctor] any fever ?\n[patient] no .\n[doctor] okay coughing headache\n[patient] none of that"
)


def test_a_clinicians_bare_list_of_findings_is_asked_not_affirmed() -> None:
    note = {"subjective": "Denies fever, cough, or headache."}
    assert [i.kind for s in verify(ROS, note).statements for i in s.issues] == []


def test_a_finding_of_a_bare_list_answered_no_is_denied() -> None:
    note = {"subjective": "Reports headache."}
    assert [i.kind for s in verify(ROS, note).statements for i in s.issues] == ["negation"]


RADIATES = (
    "[doctor] okay so does the pain radiate down your leg\n[patient] no it stays in my back ."
)


def test_an_auxiliary_opening_a_sentence_asks_also_of_the_pain() -> None:
    note = {"subjective": "Denies radiating pain."}
    assert [i.kind for s in verify(RADIATES, note).statements for i in s.issues] == []


def test_what_was_asked_with_an_auxiliary_and_denied_is_not_asserted() -> None:
    note = {"subjective": "The pain radiates down the leg."}
    assert [i.kind for s in verify(RADIATES, note).statements for i in s.issues] == ["negation"]


EDEMA = "[doctor] on exam your lungs are clear and your lower extremities have no edema ."


def test_a_denial_said_after_part_of_the_finding_still_denies_it() -> None:
    note = {"objective": "No lower extremity edema."}
    assert [i.kind for s in verify(EDEMA, note).statements for i in s.issues] == []
    wrong = {"objective": "Edema of the lower extremities."}
    assert [i.kind for s in verify(EDEMA, wrong).statements for i in s.issues] == ["negation"]


HEART = "[patient] i have had some chest pain .\n[doctor] your heart sounds good ."


def test_a_denial_qualified_by_a_word_never_said_is_not_contradicted_by_the_rest() -> None:
    note = {"objective": "No extra heart sounds."}
    assert [i.kind for s in verify(HEART, note).statements for i in s.issues] == []
    wrong = {"subjective": "Denies chest pain."}
    assert [i.kind for s in verify(HEART, wrong).statements for i in s.issues] == ["negation"]


SOME = "[doctor] have you noticed any fever or chills\n[patient] no fever some chills ."


def test_some_after_a_denial_starts_what_is_there() -> None:
    note = {"subjective": "Reports chills. Denies fever."}
    assert [i.kind for s in verify(SOME, note).statements for i in s.issues] == []
    wrong = {"subjective": "Reports fever."}
    assert [i.kind for s in verify(SOME, wrong).statements for i in s.issues] == ["negation"]


KNEES = (
    "[doctor] so what brings you in today ?\n"
    "[patient] when i am running my right knee just starts to ache .\n"
    "[doctor] how long has that been going on ?\n"
    "[patient] about two weeks , the pain is worse after a long run .\n"
    "[doctor] any fever or chills ?\n"
    "[patient] no .\n"
    "[doctor] okay i'm gonna look at your left knee first . when i move your left knee do you"
    " get any type of pain or does it just feel normal ? your pain is always on the right ?\n"
    "[patient] that feels normal .\n"
    "[doctor] and here ?\n"
    "[patient] the right knee hurts on the outside .\n"
    "[doctor] i think it is a sprain from overuse , so ice and rest for a week .\n"
    "[doctor] i'll order physical therapy for your right knee ."
)


def test_the_side_the_patient_owns_is_not_the_one_examined_for_comparison() -> None:
    note = {"subjective": "Right knee pain."}
    assert [i.kind for s in verify(KNEES, note).statements for i in s.issues] == []
    wrong = {"subjective": "Reports left knee pain."}
    assert [i.kind for s in verify(KNEES, wrong).statements for i in s.issues] == ["laterality"]


NECK = (
    "[doctor] how is the neck ?\n[patient] stiff , mostly when i turn .\n"
    "[doctor] on exam he has mildly restricted cervical extension . right and left lateral"
    " rotation is symmetric and gives him mild neck pain ."
)


def test_sides_listed_in_a_copy_are_compared_in_order() -> None:
    note = {
        "objective": "Mildly restricted cervical extension and right and left lateral rotation."
    }
    assert [i.kind for s in verify(NECK, note).statements for i in s.issues] == []
    wrong = {
        "objective": "Mildly restricted cervical extension and right and right lateral rotation."
    }
    assert [i.kind for s in verify(NECK, wrong).statements for i in s.issues] == ["laterality"]


FOOT = (
    "[doctor] i see you hurt your left foot playing soccer , what happened ?\n"
    "[patient] another player fell right onto my right foot and it twisted .\n"
    "[doctor] have you ever hurt your left foot before ?\n"
    "[patient] no , lots of soccer injuries but never that foot .\n"
    "[doctor] any numbness or tingling in the left foot ?\n"
    "[patient] no .\n"
    "[doctor] on exam of your left foot there is bruising on the bottom of the foot ."
)


def test_a_side_the_patient_says_once_does_not_outweigh_the_side_said_throughout() -> None:
    note = {"subjective": "Left foot pain."}
    assert "laterality" not in [i.kind for s in verify(FOOT, note).statements for i in s.issues]


WITH = (
    "[patient] my right elbow hurts when i lift weights .\n"
    "[doctor] no pain with palpation outside of the elbow .\n"
    "[patient] i'm doing well with my salt intake ."
)


def test_what_follows_with_in_a_denial_is_not_denied() -> None:
    # "no pain with palpation … elbow" denies pain on palpation, not the elbow's pain.
    note = {"subjective": "Reports right elbow pain."}
    assert [i.kind for s in verify(WITH, note).statements for i in s.issues] == []
    # Nor does a note's "not with her salt intake" deny the salt intake itself.
    salt = {"subjective": "She is not having trouble with her salt intake."}
    assert [i.kind for s in verify(WITH, salt).statements for i in s.issues] == []
    # The denial of the whole qualified finding is still read.
    wrong = {"objective": "Pain with palpation outside of the elbow."}
    assert [i.kind for s in verify(WITH, wrong).statements for i in s.issues] == ["negation"]


WISH = "[doctor] any weight loss ?\n[patient] no , but i wish i had some weight loss ."


def test_a_wish_asserts_nothing() -> None:
    note = {"subjective": "Denies weight loss."}
    assert [i.kind for s in verify(WISH, note).statements for i in s.issues] == []
    wrong = {"subjective": "Reports weight loss."}
    assert [i.kind for s in verify(WISH, wrong).statements for i in s.issues] == ["negation"]


TOPIC = "[doctor] how about your epilepsy , any seizures recently ?\n[patient] no ."


def test_the_topic_of_a_question_is_not_what_its_answer_denies() -> None:
    note = {"subjective": "Regarding his epilepsy, he has had no recent seizures."}
    assert [i.kind for s in verify(TOPIC, note).statements for i in s.issues] == []
    wrong = {"subjective": "He has had seizures recently."}
    assert [i.kind for s in verify(TOPIC, wrong).statements for i in s.issues] == ["negation"]


LIKE_A = (
    "[doctor] it has okay and any other symptoms like a cough or shortness of breath "
    "or dizziness or anything like that\n[patient] no"
)


def test_any_asks_of_a_list_with_articles() -> None:
    note = {"subjective": "Denies cough or shortness of breath. Denies dizziness."}
    assert [i.kind for s in verify(LIKE_A, note).statements for i in s.issues] == []
    wrong = {"subjective": "Reports dizziness."}
    assert [i.kind for s in verify(LIKE_A, wrong).statements for i in s.issues] == ["negation"]


CATCH = "[patient] when i try to be active i ca n't catch my breath ."


def test_cannot_in_a_note_is_a_denial() -> None:
    note = {"subjective": "During activity she cannot catch her breath."}
    assert [i.kind for s in verify(CATCH, note).statements for i in s.issues] == []
    wrong = {"subjective": "During activity she can catch her breath."}
    assert [i.kind for s in verify(CATCH, wrong).statements for i in s.issues] == ["negation"]


OTHERWISE = (
    "[doctor] you have a murmur you had that in the past so i'm not too worried about that "
    "otherwise regular rate and rhythm your straight leg raise test is negative your "
    "reflexes are normal"
)


def test_speech_moves_on_after_otherwise_and_after_a_finding_said_negative() -> None:
    note = {"objective": "Regular rate and rhythm. Reflexes are normal."}
    assert [i.kind for s in verify(OTHERWISE, note).statements for i in s.issues] == []
    wrong = {"objective": "Reflexes are not normal."}
    assert [i.kind for s in verify(OTHERWISE, wrong).statements for i in s.issues] == ["negation"]


ASR_EXAM = (
    "[doctor] i do n't see any rash no lesion no bruising your eyes seem equal and reactive "
    "to light no bruits your belly's slightly distended"
)


def test_a_possessive_with_its_verb_after_a_denied_finding_opens_a_new_subject() -> None:
    note = {"objective": "Eyes equal and reactive to light. Abdomen slightly distended."}
    assert [i.kind for s in verify(ASR_EXAM, note).statements for i in s.issues] == []
    wrong = {"objective": "Bruising noted."}
    assert [i.kind for s in verify(ASR_EXAM, wrong).statements for i in s.issues] == ["negation"]


STRENGTH = (
    "[patient] my knee has some pain when i am running .\n"
    "[doctor] now i'm testing your strength , push against my hand ."
)


def test_a_note_denial_narrowed_by_with_is_not_contradicted_by_the_bare_finding() -> None:
    note = {"objective": "No pain with strength testing."}
    assert [i.kind for s in verify(STRENGTH, note).statements for i in s.issues] == []
    wrong = {"objective": "No knee pain with running."}
    assert [i.kind for s in verify(STRENGTH, wrong).statements for i in s.issues] == ["negation"]


AGE = (
    "[doctor] she still does n't walk and she was n't sitting by herself a year old .\n"
    "[doctor] how old is her brother ?\n[patient] nine , and he has autism ."
)


def test_an_age_is_not_a_finding_a_denial_reaches() -> None:
    note = {"subjective": "She has a 9-year-old brother."}
    assert "negation" not in [i.kind for s in verify(AGE, note).statements for i in s.issues]
    wrong = {"subjective": "She walks and sits by herself."}
    assert "negation" in [i.kind for s in verify(AGE, wrong).statements for i in s.issues]


NAMED_NO = (
    "[doctor] have you noticed any nausea chills fever\n"
    "[patient] no fever some chills and i do feel a little nauseous"
)


def test_a_no_naming_what_it_denies_does_not_answer_the_rest_of_the_list() -> None:
    note = {"subjective": "Reports nausea."}
    assert [i.kind for s in verify(NAMED_NO, note).statements for i in s.issues] == []
    wrong = {"subjective": "Reports fever."}
    assert [i.kind for s in verify(NAMED_NO, wrong).statements for i in s.issues] == ["negation"]


OTHER_THAN = (
    "[doctor] any other joint pain like in your elbows or shoulders\n"
    "[patient] nothing other than my typical arthritic pain in my knees"
)


def test_what_follows_other_than_after_a_denial_is_there() -> None:
    note = {"subjective": "Reports arthritic pain in the knees."}
    assert [i.kind for s in verify(OTHER_THAN, note).statements for i in s.issues] == []
    wrong = {"subjective": "Reports shoulder pain."}
    assert [i.kind for s in verify(OTHER_THAN, wrong).statements for i in s.issues] == ["negation"]


def _kinds_of(dialogue: str, statement: str) -> list[str]:
    return _issues(dialogue, {"plan": statement})


def test_a_count_or_dose_said_before_the_drugs_name_is_its_dose() -> None:
    # "two tylenol" is two tablets; "five hundred of metformin" its dose, unit unsaid.
    dialogue = (
        "[doctor] take two tylenol five hundred milligrams three times a day .\n"
        "[doctor] and you're on five hundred of metformin every day ."
    )
    assert _kinds_of(dialogue, "Tylenol 500 mg, 2 tablets, 3 times daily.") == []
    assert _kinds_of(dialogue, "Continue metformin 500 mg daily.") == []
    assert _kinds_of(dialogue, "Tylenol 500 mg, 4 tablets, 3 times daily.") == ["dose"]
    assert _kinds_of(dialogue, "Continue metformin 1000 mg daily.") == ["dose"]


def test_a_decimal_point_written_as_a_full_stop_is_that_decimal() -> None:
    # ASR writes a spoken point as "." between number words.
    dialogue = (
        "[doctor] i want to add aldactone twelve . five milligrams daily .\n"
        "[doctor] your temperature is ninety eight . seven today ."
    )
    assert _kinds_of(dialogue, "Aldactone 12.5 mg daily.") == []
    assert _kinds_of(dialogue, "Aldactone 25 mg daily.") == ["dose"]
    assert _unsupported(dialogue, {"objective": "Temperature: 98.7 degrees F."}) == []


def test_everyday_and_twice_per_day_are_frequencies() -> None:
    dialogue = (
        "[doctor] have you been taking that metformin everyday ?\n[patient] i do .\n"
        "[doctor] and the ferrous sulfate , you take it twice a day ?"
    )
    assert _kinds_of(dialogue, "She takes metformin daily.") == []
    assert _kinds_of(dialogue, "She takes ferrous sulfate twice per day.") == []
    assert _kinds_of(dialogue, "She takes ferrous sulfate three times per day.") == ["dose"]


def test_a_word_frequency_about_another_thing_is_not_the_drugs() -> None:
    # "at night" says when the pain is, not when prednisone is taken.
    dialogue = "[doctor] so she gave you some prednisone ?\n[patient] yes , it helps ."
    note = "The patient has benefited from prednisone, reporting improvement of pain at night."
    assert _kinds_of(dialogue, note) == []
    assert _kinds_of(dialogue, "She takes prednisone at night.") == ["dose"]


def test_baby_aspirin_is_81_mg() -> None:
    dialogue = "[patient] i take the baby aspirin every day ."
    assert _kinds_of(dialogue, "Continue aspirin 81 mg daily.") == []
    assert _kinds_of(dialogue, "Continue aspirin 325 mg daily.") == ["dose"]


def test_a_number_said_right_after_a_dose_keeps_its_unit() -> None:
    dialogue = (
        "[patient] what about increasing my testosterone to 175 milligrams ? "
        "i'm at 140 now .\n[doctor] well , your levels are high ."
    )
    assert _kinds_of(dialogue, "He is on testosterone cypionate 140 mg.") == []
    assert _kinds_of(dialogue, "He is on testosterone cypionate 120 mg.") == ["dose"]


def test_a_drug_named_by_a_longer_name_in_the_note_keeps_its_regimen() -> None:
    # The transcript's "lidocaine" is the note's "lidocaine viscous": its own mention
    # does not cut off what is said after it.
    dialogue = "[doctor] i'll give you a lidocaine swish and swallow , four times a day ."
    assert _kinds_of(dialogue, "Lidocaine viscous solution 4 times daily.") == []
    assert _kinds_of(dialogue, "Lidocaine viscous solution 2 times daily.") == ["dose"]


def test_hemoglobin_a1c_is_a_lab_not_a_drug() -> None:
    dialogue = "[doctor] your a1c was a little bit higher at seven . three ."
    assert _kinds_of(dialogue, "Previous hemoglobin A1c is reviewed at 7.3.") == []


def test_lay_words_and_word_families_support_a_scribes_clinical_terms() -> None:
    dialogue = (
        "[doctor] any other surgeries ?\n[patient] i had my tubes tied after my last baby .\n"
        "[patient] i felt very light-head and very dizzy .\n"
        "[doctor] your lungs sound good .\n"
        "[patient] i do have a wife and kids .\n"
        "[patient] it's a little red too .\n"
        "[patient] i'll wake up and my hands asleep and i got ta shake it out ."
    )
    note = {
        "subjective": (
            "Bilateral tubal ligation. Endorses lightheadedness and dizziness. "
            "The patient is married with children. Reports redness. "
            "He shakes his hands upon waking."
        ),
        "objective": "Lungs are clear to auscultation.",
    }
    assert _unsupported(dialogue, note) == []
    # What the dialogue never touches stays unsupported, however clinically worded.
    invented = {"subjective": "Status post rhinoplasty. Denies anxiety."}
    assert _unsupported(dialogue, invented) == ["Status post rhinoplasty.", "Denies anxiety."]


def test_a_label_over_a_bare_measure_is_what_is_measured() -> None:
    # The label is the claim's words when only a measure follows it: "Heart rate: 60s"
    # is a heart rate said, however its figure is said ("in the sixties").
    dialogue = "[doctor] your heart rate is in the sixties ."
    assert _support(dialogue, "Heart rate: 60s") == "supported"
    # The figure is said, the label over it is not: never fully supported.
    assert _support(dialogue, "Weight: 60s") != "supported"


def _support(dialogue: str, objective: str) -> str:
    return verify(dialogue, {"objective": objective}).statements[0].support


def test_a_word_keeps_its_own_rarity_when_found_by_its_lay_words() -> None:
    # "surgical" said once stays a rare word, though "surgery" is said throughout.
    dialogue = (
        "[doctor] surgery is one option .\n[doctor] surgery would fix the bone .\n"
        "[doctor] after surgery you rest .\n[doctor] the surgical plan is set ."
    )
    note = {"plan": "I have recommended that we proceed with surgical intervention."}
    assert _unsupported(dialogue, note) == []


def test_a_drug_named_again_by_its_form_alone_keeps_its_dose() -> None:
    filler = " ".join(["it gets worse when i swim in the pool and run laps ."] * 4)
    dialogue = (
        "[doctor] what inhaler are you using now ?\n[patient] i have an albuterol inhaler .\n"
        f"[patient] {filler}\n[doctor] so you're using two puffs of the inhaler ?"
    )
    assert _kinds_of(dialogue, "Uses an albuterol inhaler, 2 puffs as needed.") == []
    assert _kinds_of(dialogue, "Uses an albuterol inhaler, 4 puffs as needed.") == ["dose"]
    # A form said with two drugs names neither.
    both = dialogue.replace("now ?", "now ?\n[patient] a fluticasone inhaler too .")
    assert _kinds_of(both, "Uses an albuterol inhaler, 2 puffs as needed.") == ["dose"]


def test_a_frequency_said_just_before_the_drugs_name_is_its_frequency() -> None:
    dialogue = (
        "[patient] i'm taking 25 milligram tablets , twice daily .\n"
        "[doctor] okay , and that's the , the ferrous sulfate ?\n[patient] yeah ."
    )
    assert _kinds_of(dialogue, "Ferrous sulfate twice daily.") == []
    assert _kinds_of(dialogue, "Ferrous sulfate three times daily.") == ["dose"]


def test_a_plan_told_in_everyday_words_supports_the_scribes_terms() -> None:
    dialogue = (
        "[doctor] to start off with we put an insert in your shoe called an orthotic .\n"
        "[doctor] i'll put you in a brace , ice it , and take some advil or aleve ."
    )
    note = {
        "plan": (
            "We will begin with custom orthotics. "
            "We discussed bracing, anti-inflammatories, and icing."
        )
    }
    assert _unsupported(dialogue, note) == []
    assert _unsupported(dialogue, {"plan": "We discussed a cortisone injection."}) == [
        "We discussed a cortisone injection."
    ]


def test_a_unit_does_not_carry_into_a_figure() -> None:
    # "one thirty over eighty" after "twenty milligrams" is a blood pressure, no dose.
    dialogue = (
        "[doctor] you're on lisinopril twenty milligrams and your blood pressure is "
        "one thirty over eighty ."
    )
    assert _kinds_of(dialogue, "Continue lisinopril 20 mg.") == []
    assert _kinds_of(dialogue, "Continue lisinopril 130 mg.") == ["dose"]


def test_portuguese_clinical_terms_are_supported_by_the_lay_words() -> None:
    dialogue = (
        "[médico] o que a traz aqui hoje ?\n"
        "[paciente] estou com dor de cabeça há três dias e muito cansada ."
    )
    note = {"subjective": "Refere cefaleia há 3 dias. Refere fadiga."}
    assert _unsupported(dialogue, note) == []
    assert _unsupported(dialogue, {"subjective": "Refere hematúria."}) == ["Refere hematúria."]


def _number_issues(dialogue: str, statement: str) -> list[str]:
    evidence = verify(dialogue, {"subjective": statement})
    return [i.kind for s in evidence.statements for i in s.issues]


def test_a_decimal_whose_point_the_transcriber_wrote_as_a_full_stop_is_that_number() -> None:
    dialogue = (
        "[doctor] your temperature is ninety eight . seven and a fever of a hundred . four "
        "last night . your creatinine was .7 and the cream is a zero . zero five percent "
        "solution ."
    )
    for statement in (
        "Temperature: 98.7 degrees F.",
        "Fever of 100.4 last night.",
        "Creatinine 0.7.",
        "The cream is a 0.05% solution.",
    ):
        assert _number_issues(dialogue, statement) == [], statement
    assert _number_issues(dialogue, "Temperature: 98.2 degrees F.") == ["number"]
    # A minus sign is part of the number: "-0.05%" is not the 0.05 % said.
    assert _number_issues(dialogue, "The cream is a -0.05% solution.") == ["number"]
    # "two. Three days": a capital after the stop starts a sentence, not decimals.
    assert _number_issues("[patient] I had two. Three days ago it began.", "Had 2.3.") == ["number"]


def test_a_year_said_as_two_pairs_or_by_its_last_digits_is_that_year() -> None:
    dialogue = (
        "[doctor] you had the stent placed in your right coronary artery in twenty eighteen .\n"
        "[patient] my first dose was on january 15th , '21 .\n"
        "[doctor] i reviewed the labs dated 3/3/21 , all normal ."
    )
    assert _number_issues(dialogue, "Stent placed in the right coronary artery in 2018.") == []
    assert _number_issues(dialogue, "First dose on 01/15/2021.") == []
    assert _number_issues(dialogue, "Labs reviewed, 03/03/2021: all normal.") == []
    assert _number_issues(dialogue, "Stent placed in the right coronary artery in 2019.") == [
        "number"
    ]


def test_a_date_made_of_the_transcripts_numbers_in_another_order_is_flagged() -> None:
    dialogue = (
        "[patient] my last stress test was september 9th , 2019 , because i'm eight years out "
        "from surgery ."
    )
    assert _number_issues(dialogue, "Last stress test on 09/09/2019.") == []
    assert _number_issues(dialogue, "Last stress test on 09/08/2019.") == ["number"]


def test_a_decade_or_hundreds_said_as_plurals_are_their_numbers() -> None:
    dialogue = (
        "[doctor] your heart rate is nice and slow in the sixties .\n"
        "[patient] my sugars have been in the three to four hundreds the last two weeks ."
    )
    assert _number_issues(dialogue, "Heart rate in the 60s.") == []
    assert _number_issues(dialogue, "Blood sugar in the 300 to 400's for 2 weeks.") == []
    assert _number_issues(dialogue, "Heart rate in the 70s.") == ["number"]


def test_a_count_said_with_an_article_is_that_count_but_a_rate_is_not() -> None:
    dialogue = (
        "[doctor] i'll see you back in a week .\n"
        "[patient] i drink a beer or two on the weekends , and a couple of coffees a day .\n"
        "[doctor] take the tablet twice a day ."
    )
    assert _number_issues(dialogue, "Follow up in 1 week.") == []
    assert _number_issues(dialogue, "Drinks 1 to 2 beers on weekends.") == []
    assert _number_issues(dialogue, "Drinks 2 coffees daily.") == []
    assert _number_issues(dialogue, "Follow up in 3 weeks.") == ["number"]
    # "twice a day" is a rate: its "a" is no one day.
    assert _number_issues(dialogue, "Take the tablet for 1 day.") == ["number"]


def test_an_english_um_is_a_filler_not_the_number_one() -> None:
    dialogue = "[patient] i had it about three years ago , um , and nothing since ."
    assert _number_issues(dialogue, "Had it 3 years ago.") == []
    assert _number_issues(dialogue, "Had it 1 years ago.") == ["number"]


def test_an_hour_on_the_clock_and_spinal_levels_are_no_numbers_to_find() -> None:
    dialogue = (
        "[patient] i woke up about two o'clock in the morning with the pain .\n"
        "[doctor] the x-ray shows disc degeneration at c56 and c67 ."
    )
    assert _number_issues(dialogue, "He woke around 2:00 am with pain.") == []
    assert _number_issues(dialogue, "Disc degeneration at C5-6 and C6-7.") == []


def test_a_number_whose_head_the_transcript_counts_only_so_is_placed() -> None:
    # The scribe words the rest their own way; "weeks" is said with no other number.
    dialogue = (
        "[doctor] the x-ray shows a sprain , so no running for now .\n"
        "[doctor] alright i will see you again in two weeks carolyn ."
    )
    assert _number_issues(dialogue, "The patient will follow up in 2 weeks.") == []
    assert _number_issues(dialogue, "The patient will follow up in 3 weeks.") == ["number"]


def test_a_number_with_its_head_said_of_something_else_the_notes_words_name_is_flagged() -> None:
    # "grade two" is the pathology's; the performance status the note names is zero.
    dialogue = (
        "[doctor] pathology came back as grade two , er positive .\n"
        "[patient] yes , unfortunately , and that was a very hard time for me and for all "
        "of my family , my husband and my daughters and my sisters , but we got through it "
        "together and i finished all of the treatment on time , and then i went back to "
        "work and to my garden .\n"
        "[doctor] okay , note that her ecog performance status today is zero ."
    )
    assert _number_issues(dialogue, "ECOG performance status today is grade 0.") == []
    assert _number_issues(dialogue, "ECOG performance status today is grade 2.") == ["number"]


def test_a_count_of_something_the_transcript_never_speaks_of_is_flagged() -> None:
    # Nothing places "3 views": the transcript says three only of millimetres.
    dialogue = "[doctor] your x-ray shows a three millimeter separation of the bones ."
    assert _number_issues(dialogue, "3 views of the right foot were taken.") == ["number"]
    assert _number_issues(dialogue, "X-ray shows a 3 mm separation.") == []


def test_a_rating_needs_no_spoken_scale_and_centimetres_are_cm() -> None:
    dialogue = (
        "[patient] with the ibuprofen my pain is a three , without it like a seven eight .\n"
        "[doctor] jugular venous distention to about eight centimeters ."
    )
    assert _number_issues(dialogue, "Pain 3/10 with medication, 7-8/10 without.") == []
    assert _number_issues(dialogue, "JVD 8 cm.") == []


def test_a_vital_sign_said_without_its_unit_or_under_another_label_is_placed() -> None:
    dialogue = (
        "[doctor] blood pressure was one eighteen over seventy two heart rate was fifty "
        "eight respiratory rate was fourteen , and your pulse ox was ninety eight percent on "
        "room air .\n[doctor] i saw you about five days ago for the knee .\n"
        "[doctor] come back in two weeks ."
    )
    assert _number_issues(dialogue, "Heart rate: 58 bpm") == []
    assert _number_issues(dialogue, "Oxygen saturation: 98% on room air.") == []
    assert _number_issues(dialogue, "Heart rate: 62 bpm") == ["number"]
    # Two words by a "five" do not make it the count of weeks the note gives.
    assert _number_issues(dialogue, "Knee seen 5 weeks ago.") == ["number"]


def test_a_temperature_said_as_a_fever_is_placed() -> None:
    dialogue = (
        "[doctor] you do have a low-grade fever of about a hundred . four right now but your "
        "blood pressure is one thirty two over eighty ."
    )
    assert _number_issues(dialogue, "Temperature: 100.4 degrees F.") == []
    assert _number_issues(dialogue, "Temperature: 101.4 degrees F.") == ["number"]


def _negations(dialogue: str, note: dict[str, str]) -> list[str]:
    return [i.kind for s in verify(dialogue, note).statements for i in s.issues]


ANSWER_NO = (
    "[doctor] but you're not hurting right now ?\n"
    "[patient] no the weight loss has really decreased all the pain\n"
    "[doctor] any other symptoms ?\n"
    "[patient] no just really just kind of a headache"
)


def test_a_no_answering_the_question_does_not_deny_what_follows_it() -> None:
    note = {"subjective": "Her weight loss has reduced the pain. Reports headache."}
    assert _negations(ANSWER_NO, note) == []
    wrong = {"subjective": "Reports hurting right now."}
    assert _negations(ANSWER_NO, wrong) == ["negation"]


RISKS = "[doctor] the risks are pain , swelling and infection .\n[patient] no fever though ."


def test_not_limited_to_asserts_what_it_lists() -> None:
    note = {"assessment": "Risks include but are not limited to pain, swelling and infection."}
    assert _negations(RISKS, note) == []
    wrong = {"subjective": "Reports fever."}
    assert _negations(RISKS, wrong) == ["negation"]


NODES = "[doctor] i'm feeling your neck . there's no cervical lymphadenopathy ."


def test_without_reaches_every_alternative_of_its_list() -> None:
    note = {"objective": "Neck: Supple without thyromegaly or lymphadenopathy."}
    assert _negations(NODES, note) == []
    wrong = {"objective": "Neck: Cervical lymphadenopathy."}
    assert _negations(NODES, wrong) == ["negation"]


HAND = (
    "[doctor] no swelling or bruising in the palm , normal creases , slightly diminished "
    "sensation over the pip joint ."
)


def test_normal_or_slightly_after_a_denial_starts_what_is_there() -> None:
    note = {"objective": "Normal creases. Slightly diminished sensation over the PIP joint."}
    assert _negations(HAND, note) == []
    wrong = {"objective": "Swelling in the palm."}
    assert _negations(HAND, wrong) == ["negation"]


ASR_VITALS = (
    "[doctor] your vital signs look good i do n't see any fever or your blood pressure and "
    "heart rate are fine and there's no rebound and the 5 lymph nodes removed were benign"
)


def test_a_subject_with_its_verb_after_and_ends_a_denial() -> None:
    note = {"objective": "Blood pressure and heart rate are normal. Lymph nodes were benign."}
    assert _negations(ASR_VITALS, note) == []
    wrong = {"objective": "Fever noted."}
    assert _negations(ASR_VITALS, wrong) == ["negation"]


LONG_TIME = (
    "[doctor] how is the pressure ?\n[patient] fine .\n"
    "[doctor] i do n't think you need to start any medication at this time ."
)


def test_at_this_time_is_when_not_what_is_denied() -> None:
    note = {
        "subjective": "Denies elbow pain at that time. Blood pressure uncontrolled at this time."
    }
    assert _negations(LONG_TIME, note) == []
    wrong = {"subjective": "He needs to start medication."}
    assert _negations(LONG_TIME, wrong) == ["negation"]


DISCUSSED = (
    "[doctor] most patients do n't see symptoms until years later .\n"
    "[doctor] there's no peritoneal signs no rebound your on examination of the lungs ."
)


def test_the_topic_of_a_discussion_or_review_is_not_asserted() -> None:
    note = {
        "assessment": "After reviewing the examination, I had a lengthy discussion with the "
        "patient in regard to his current symptoms."
    }
    assert _negations(DISCUSSED, note) == []
    wrong = {"objective": "Rebound noted on examination."}
    assert _negations(DISCUSSED, wrong) == ["negation"]


ADVICE = (
    "[patient] he said that he did n't want to do surgery , he would do an injection .\n"
    "[doctor] i would recommend not skiing for now , i do n't necessarily recommend "
    "consuming gummies with these medications .\n"
    "[patient] i have no knee pain ."
)


def test_a_denied_wish_or_advice_to_abstain_says_nothing_of_its_object() -> None:
    note = {
        "assessment": "We will proceed with surgery. She skis. She should stop THC gummies "
        "while taking these medications."
    }
    assert _negations(ADVICE, note) == []
    wrong = {"subjective": "Reports knee pain."}
    assert _negations(ADVICE, wrong) == ["negation"]


UNSURE = (
    "[doctor] did you notice your pursed lips breathing ?\n"
    "[patient] i do n't know if that's a bad habit .\n"
    "[doctor] any wheezing ?\n"
    "[patient] i do n't have any ."
)


def test_i_dont_know_answers_neither_yes_nor_no() -> None:
    note = {"subjective": "He has pursed lips breathing."}
    assert _negations(UNSURE, note) == []
    wrong = {"subjective": "Reports wheezing."}
    assert _negations(UNSURE, wrong) == ["negation"]


ASR_ABDOMEN = (
    "[doctor] no rales or rhonchi are appreciated on your neck exam no thyromegaly on your "
    "abdomen it is nondistended active bowel sounds"
)


def test_a_denied_finding_with_its_verb_or_a_pronoun_with_its_verb_ends_the_denial() -> None:
    note = {"objective": "Neck exam normal. Abdomen: Active bowel sounds."}
    assert _negations(ASR_ABDOMEN, note) == []
    wrong = {"objective": "Rhonchi appreciated."}
    assert _negations(ASR_ABDOMEN, wrong) == ["negation"]


SPEECH = (
    "[doctor] you will not be able to use that foot for six weeks now after that you will "
    "start walking . since you probably do n't because of your diabetes we may operate . "
    "if it's not getting better please feel free to contact the office . there's no "
    "evidence of what we call hydronephrosis ."
)


def test_now_because_and_please_end_a_spoken_denial() -> None:
    note = {
        "assessment": "After that she will start walking. This is due to his diabetes. "
        "She will contact the office. There is no evidence of hydronephrosis."
    }
    assert _negations(SPEECH, note) == []
    wrong = {"objective": "Hydronephrosis is present."}
    assert _negations(SPEECH, wrong) == ["negation"]


CT = "[doctor] your ct scan shows a kidney stone with hydronephrosis ."


def test_without_evidence_of_reaches_the_finding_it_names() -> None:
    wrong = {"objective": "CT shows a kidney stone without evidence of hydronephrosis."}
    assert _negations(CT, wrong) == ["negation"]
    note = {"objective": "CT shows a kidney stone with hydronephrosis."}
    assert _negations(CT, note) == []


OPINION = (
    "[doctor] i do n't think that this is a sign of a stroke . i do n't think that we need "
    "to do anything drastic i want you to continue with your aspirin . i do n't think we "
    "need to do any further you know work up of that ."
)


def test_a_denied_opinion_denies_its_clause_and_no_further() -> None:
    note = {
        "assessment": "Symptoms are not a sign of stroke. Continue aspirin. No further "
        "work up is needed."
    }
    assert _negations(OPINION, note) == []
    wrong = {"assessment": "This is a sign of a stroke."}
    assert _negations(OPINION, wrong) == ["negation"]


PALPATION = (
    "[doctor] on your knee exam you do have pain to palpation of the medial aspect of your "
    "right knee .\n"
    "[doctor] there is no tenderness to palpation of the elbow .\n"
    "[doctor] we do n't have to make any adjustments to your metformin .\n"
    "[patient] no problem in rehab ."
)


def test_to_palpation_narrows_a_denial_as_with_does() -> None:
    note = {
        "objective": "No pain to palpation of the lateral aspect of the right knee. "
        "Elbow tenderness reported by the patient.",
        "subjective": "He takes metformin. He has been in rehab.",
    }
    assert _negations(PALPATION, note) == []
    wrong = {"objective": "Tenderness to palpation of the elbow."}
    assert _negations(PALPATION, wrong) == ["negation"]
    wrong_side = {"objective": "No pain to palpation of the medial aspect of the right knee."}
    assert _negations(PALPATION, wrong_side) == ["negation"]


TAKEN_BACK = (
    "[doctor] have you ever had an abnormal pap ?\n"
    "[patient] not with you but i did around 2009 .\n"
    "[doctor] any bleeding ?\n"
    "[patient] no i have n't ."
)


def test_a_no_taken_back_by_i_did_in_the_same_turn_answers_neither_way() -> None:
    note = {"subjective": "She has had an abnormal pap smear."}
    assert _negations(TAKEN_BACK, note) == []
    wrong = {"subjective": "Reports bleeding."}
    assert _negations(TAKEN_BACK, wrong) == ["negation"]


SAID_AFTER = (
    "[doctor] the lumpectomy removed the tumor and margins were negative .\n"
    "[doctor] cushing's syndrome has been ruled out .\n"
    "[doctor] the strep test was negative for strep but the culture is pending ."
)


def test_negative_or_ruled_out_after_its_verb_denies_the_finding_before_it() -> None:
    note = {
        "assessment": "Negative margins. No Cushing's syndrome. Negative strep test. "
        "Culture pending."
    }
    assert _negations(SAID_AFTER, note) == []
    wrong = {"assessment": "Cushing's syndrome is present."}
    assert _negations(SAID_AFTER, wrong) == ["negation"]


WHICH_KNEE = (
    "[patient] it it's not the right knee it's the left knee\n"
    "[patient] no just really just kind of a a headache"
)


def test_a_correction_of_the_side_copied_keeps_each_sides_polarity() -> None:
    note = {
        "subjective": "It's not the right knee it's the left knee. No really kind of a headache."
    }
    assert _negations(WHICH_KNEE, note) == []
    wrong = {"subjective": "Denies headache."}
    assert _negations(WHICH_KNEE, wrong) == ["negation"]


def test_a_word_of_the_same_family_ties_a_statement_to_its_sides_clause() -> None:
    # "injury" in the note, "injured" in speech: the left leg's clause, not the right's.
    dialogue = (
        "[doctor] so right now you have right leg pain , but you injured your left leg "
        "years ago ?\n[patient] yes ."
    )
    assert _side_kinds(dialogue, "History of a left leg injury.") == []
    assert _side_kinds(dialogue, "History of a right leg injury.") == ["laterality"]


def test_a_normal_finding_matches_the_side_said_to_look_fine() -> None:
    # "normal" in the note, "looks fine" in speech: the left knee is the normal one.
    dialogue = (
        "[doctor] there is swelling and redness of your right knee , but your left knee "
        "looks fine .\n[doctor] and the x-ray of your right knee shows arthritis ."
    )
    assert _side_kinds(dialogue, "Left knee exam is normal.") == []
    assert _side_kinds(dialogue, "Right knee exam is normal.") == ["laterality"]


def test_a_denial_matches_the_side_denied_in_its_own_clause() -> None:
    # The patient denies trouble with the left hand before naming it: a note denying
    # the right hand's pain contradicts the numb right hand.
    dialogue = (
        "[doctor] any trouble with the other hand ?\n"
        "[patient] no , i don't have any problems with my left hand .\n"
        "[patient] it's my right hand that goes numb at night .\n"
        "[doctor] your right hand grip is a little weaker ."
    )
    assert _side_kinds(dialogue, "Denies left hand pain.") == []
    assert _side_kinds(dialogue, "Denies right hand pain.") == ["laterality"]


def test_the_side_said_far_more_often_outweighs_one_weak_clause_of_the_other() -> None:
    # The left foot throughout; "right foot pain" said once: a complaint of left foot
    # pain is the patient's, a denial of it is still judged by its clause.
    dialogue = (
        "[doctor] so you hurt your left foot playing soccer ?\n"
        "[patient] yes , my left foot , yesterday . the pain is bad .\n"
        "[doctor] does the pain wake you up ?\n[patient] the pain is worse at night .\n"
        "[doctor] let me examine your left foot . there is bruising on the left foot .\n"
        "[doctor] so for your right foot pain we'll get you a boot ."
    )
    assert _side_kinds(dialogue, "Left foot pain.") == []
    assert _side_kinds(dialogue, "Bruising of the right foot.") == ["laterality"]


def test_both_sides_are_contradicted_only_by_a_clear_clause_the_statement_does_not_name() -> None:
    # One breast's lump is no denial of both breasts' scars; a bilateral exam whose
    # finding the note itself gives for the right hip is not contradicted by that hip.
    breast = "[patient] i found a lump under my left breast .\n[doctor] your scars look good ."
    assert _side_kinds(breast, "Bilateral breast incisions well healed.") == []
    hip = "[doctor] range of motion is decreased in your right hip with pain in the groin ."
    assert _side_kinds(hip, "Bilateral hip exam: decreased range of motion in the right hip.") == []
    ankle = "[doctor] there is swelling of your right ankle .\n[doctor] your left ankle is normal ."
    assert _side_kinds(ankle, "Bilateral ankle swelling.") == ["laterality"]


def test_a_denial_of_one_side_contradicts_a_note_denying_the_other() -> None:
    # The left knee is denied in its own clause, the right one only ever affirmed.
    dialogue = (
        "[doctor] so both of your knees bother you ?\n"
        "[patient] my left knee doesn't really hurt , it just feels unstable .\n"
        "[patient] but my right knee hurts a lot ."
    )
    assert _side_kinds(dialogue, "Denies left knee pain.") == []
    assert _side_kinds(dialogue, "Denies right knee pain.") == ["laterality"]
    # Portuguese: the side follows its part, the denial follows both.
    conversa = (
        "[médico] e o outro joelho ?\n[paciente] o joelho esquerdo não dói .\n"
        "[paciente] o joelho direito dói muito quando eu corro ."
    )
    assert _side_kinds(conversa, "Nega dor no joelho esquerdo.") == []
    assert _side_kinds(conversa, "Nega dor no joelho direito.") == ["laterality"]


def test_a_side_the_doctor_compares_with_is_not_the_parts_side() -> None:
    # "comparing it with the left one": the left knee is the reference, said as often.
    dialogue = (
        "[patient] my knee has been swelling for a week .\n"
        "[doctor] your right knee is swollen , comparing it with the left knee .\n"
        "[doctor] i'll press on the left knee . and now the right knee ."
    )
    assert _side_kinds(dialogue, "Right knee swelling.") == []
    assert _side_kinds(dialogue, "Left knee swelling.") == ["laterality"]


def test_unable_to_is_a_denial_like_cannot() -> None:
    # "Unable to walk" says what "I can't walk" says: not flagged against it, flagged
    # against "I walk fine" (it was the other way round).
    cannot = "[doctor] can you walk on it ?\n[patient] no , i ca n't walk on it . it hurts ."
    can = "[doctor] can you walk on it ?\n[patient] yes , i walk fine ."
    note = {"subjective": "Unable to walk."}
    assert verify(cannot, note).statements[0].issues == []
    assert [i.kind for i in verify(can, note).statements[0].issues] == ["negation"]
    pt = "[médico] consegue andar ?\n[paciente] não , não consigo andar , dói muito ."
    assert verify(pt, {"subjective": "Incapaz de andar."}).statements[0].issues == []


def test_a_run_on_statement_is_checked_in_pieces_and_its_errors_are_still_found() -> None:
    # A note that never ends a sentence (a model's run-on, or anything posted to
    # /v1/notes/verify) is checked in pieces cut at spaces, which tile it: no word goes
    # unchecked, and a wrong dose deep inside is flagged in its piece.
    filler = "the right knee hurts and " * 120
    plan = f"{filler}continue lisinopril 80 mg daily and {filler}rest"
    evidence = verify(DIALOGUE, {"plan": plan})
    pieces = evidence.statements
    assert len(pieces) > 1
    assert all(len(s.text) <= MAX_STATEMENT_CHARS for s in pieces)
    assert " ".join(s.text for s in pieces) == plan
    assert [plan[s.start : s.end] for s in pieces] == [s.text for s in pieces]
    dosed = _by_text(pieces, "lisinopril 80 mg")
    assert "dose" in [i.kind for i in dosed.issues]
    assert all(not s.issues for s in pieces if s is not dosed)


def test_a_repeated_statement_is_judged_alike_and_counted_at_each_of_its_places() -> None:
    wrong = "Continue lisinopril 80 mg daily."
    note = {"subjective": f"{wrong} Right knee hurts. {wrong}", "plan": wrong}
    evidence = verify(DIALOGUE, note)
    repeats = [s for s in evidence.statements if s.text == wrong]
    assert [(s.section, note[s.section][s.start : s.end]) for s in repeats] == [
        ("subjective", wrong),
        ("subjective", wrong),
        ("plan", wrong),
    ]
    assert repeats[0].start != repeats[1].start
    alone = verify(DIALOGUE, {"plan": wrong}).statements[0]
    assert "dose" in [i.kind for i in alone.issues]
    for s in repeats:
        assert (s.support, s.evidence, s.issues) == (alone.support, alone.evidence, alone.issues)
    assert evidence.summary.issues.dose == 3


def test_a_note_over_the_callers_statement_limit_is_refused_whole() -> None:
    note = {"subjective": "Knee pain.", "plan": " ".join(f"Rest {i} days." for i in range(10))}
    with pytest.raises(TooManyStatements) as refused:
        verify(DIALOGUE, note, max_statements=10)
    assert (refused.value.count, refused.value.limit) == (11, 10)
    assert verify(DIALOGUE, note, max_statements=11).summary.statements == 11


def test_a_finding_said_in_thousands_of_sentences_still_contradicts_its_denial() -> None:
    # The mentions weighed per finding are bounded (a hostile transcript's cost); a
    # contradiction said in every sentence is still found.
    transcript = "[patient] there is pain in my knee , my knee hurts .\n" * 3000
    [statement] = verify(transcript, {"subjective": "No knee pain."}).statements
    assert [i.kind for i in statement.issues] == ["negation"]


def test_each_statement_naming_a_drug_is_judged_against_the_same_said_doses() -> None:
    # What the transcript says of a drug's regimen is worked out once per transcript; each
    # statement's own dose is still judged against it.
    transcript = "[doctor] you take lisinopril ten milligrams once a day .\n" * 200
    note = {
        "plan": "Continue lisinopril 10 mg daily.\nIncrease lisinopril to 80 mg daily.",
        "assessment": "On lisinopril 10 mg once a day.",
    }
    issues = {s.text: [i.kind for i in s.issues] for s in verify(transcript, note).statements}
    assert issues == {
        "Continue lisinopril 10 mg daily.": [],
        "Increase lisinopril to 80 mg daily.": ["dose"],
        "On lisinopril 10 mg once a day.": [],
    }
