"""A side a speaker takes back is not the part's side (evidence/asides.py): "it's not
the right knee, it's the left knee" in the next turn, "left knee, no, sorry, I mean the
right knee" in the same one, "both knees" followed by "my left knee doesn't really
hurt"; while one side's finding followed by the other's ("your right wrist is swollen.
Your left wrist moves well") takes nothing back."""

from __future__ import annotations

from delphos.evidence.verify import verify


def _side_kinds(dialogue: str, statement: str) -> list[str]:
    evidence = verify(dialogue, {"assessment": statement})
    return [i.kind for s in evidence.statements for i in s.issues if i.kind == "laterality"]


def test_a_side_the_patient_takes_back_in_the_next_turn_is_not_the_parts_side() -> None:
    dialogue = (
        "[doctor] so you have some right knee pain , tell me about it .\n"
        "[patient] it's not the right knee , it's the left knee .\n"
        "[doctor] okay , the left knee . how long has it hurt ?\n[patient] about a week ."
    )
    assert _side_kinds(dialogue, "Left knee pain for about a week.") == []
    assert _side_kinds(dialogue, "Right knee pain for about a week.") == ["laterality"]


def test_portuguese_a_side_the_patient_takes_back_in_the_next_turn_is_not_the_parts_side() -> None:
    conversa = (
        "[médico] então você tem dor no joelho direito , me conte .\n"
        "[paciente] não é o joelho direito , é o joelho esquerdo .\n"
        "[médico] certo , o joelho esquerdo . há quanto tempo dói ?\n[paciente] há uma semana ."
    )
    assert _side_kinds(conversa, "Dor no joelho esquerdo há uma semana.") == []
    assert _side_kinds(conversa, "Dor no joelho direito há uma semana.") == ["laterality"]


def test_a_slip_corrected_with_sorry_i_mean_in_the_same_turn_is_not_the_parts_side() -> None:
    dialogue = (
        "[doctor] let me press on your left knee , no , sorry , i mean your right knee , "
        "does that hurt ?\n[patient] yes , a lot ."
    )
    assert _side_kinds(dialogue, "Pain when pressing on the right knee.") == []
    assert _side_kinds(dialogue, "Pain when pressing on the left knee.") == ["laterality"]


def test_one_sides_finding_then_the_others_is_no_correction() -> None:
    dialogue = (
        "[patient] my wrists ache .\n"
        "[doctor] your right wrist is swollen . your left wrist moves well ."
    )
    assert _side_kinds(dialogue, "Right wrist swelling.") == []
    assert _side_kinds(dialogue, "Left wrist swelling.") == ["laterality"]


def test_both_taken_back_on_one_side_no_longer_backs_a_complaint_on_that_side() -> None:
    # "Knee pain, both knees?" — "my left knee doesn't really hurt": the left knee's
    # pain is denied after "both"; its instability, and a note denying its pain, stand.
    dialogue = (
        "[doctor] so you have knee pain , both knees , is that right ?\n"
        "[patient] well , my left knee doesn't really hurt , it just feels unstable .\n"
        "[patient] my right knee hurts a lot when i walk .\n"
        "[doctor] okay , the right knee is swollen too ."
    )
    assert _side_kinds(dialogue, "Reports left knee pain.") == ["laterality"]
    assert _side_kinds(dialogue, "Reports right knee pain.") == []
    assert _side_kinds(dialogue, "Left knee feels unstable.") == []
    assert _side_kinds(dialogue, "Denies left knee pain.") == []
    conversa = (
        "[médico] então você tem dor em ambos os joelhos , é isso ?\n"
        "[paciente] bem , o joelho esquerdo não dói , ele só parece instável .\n"
        "[paciente] o joelho direito dói muito quando eu ando .\n"
        "[médico] certo , o joelho direito está inchado também ."
    )
    assert _side_kinds(conversa, "Refere dor no joelho esquerdo.") == ["laterality"]
    assert _side_kinds(conversa, "Refere dor no joelho direito.") == []
    assert _side_kinds(conversa, "Joelho esquerdo instável.") == []
    assert _side_kinds(conversa, "Nega dor no joelho esquerdo.") == []
