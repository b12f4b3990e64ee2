"""The evidence checker on its own: each kind of error is flagged at its statement, a
faithful note is not, number words and Portuguese count, offsets slice the note."""

from __future__ import annotations

from delphos.evidence.models import Statement
from delphos.evidence.verify import verify

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
