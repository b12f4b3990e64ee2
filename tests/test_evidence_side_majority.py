"""A side said far less often for a body part than the other one (evidence/majority.py):
a complaint or finding on it is flagged for review even where a slip of speech says it,
while the other limb's history and a normal comparison are left alone."""

from __future__ import annotations

from delphos.evidence.models import Issue
from delphos.evidence.verify import verify


def _side_issues(dialogue: str, statement: str) -> list[Issue]:
    evidence = verify(dialogue, {"assessment": statement})
    return [i for s in evidence.statements for i in s.issues if i.kind == "laterality"]


# The left ankle throughout; the right one in the patient's account of the fall and in
# one slip of the doctor's plan.
ANKLE = (
    "[doctor] so you hurt your left ankle playing basketball ?\n"
    "[patient] yes , another player stepped on my right ankle and it twisted .\n"
    "[doctor] any numbness in the left ankle ?\n[patient] no .\n"
    "[doctor] on exam of your left ankle there is swelling over the outside .\n"
    "[doctor] the x-ray of your left ankle shows a small fracture .\n"
    "[doctor] so for your right ankle fracture you will wear a boot ."
)

TORNOZELO = (
    "[médico] então você machucou o tornozelo esquerdo jogando basquete ?\n"
    "[paciente] sim , outro jogador pisou no meu tornozelo direito e ele torceu .\n"
    "[médico] alguma dormência no tornozelo esquerdo ?\n[paciente] não .\n"
    "[médico] no exame do tornozelo esquerdo há inchaço do lado de fora .\n"
    "[médico] o raio-x do tornozelo esquerdo mostra uma pequena fratura .\n"
    "[médico] então para a fratura do tornozelo direito você vai usar uma bota ."
)


def test_a_side_said_far_less_often_is_flagged_even_where_a_slip_says_it() -> None:
    assert _side_issues(ANKLE, "Left ankle fracture.") == []
    issues = _side_issues(ANKLE, "Right ankle fracture.")
    assert len(issues) == 1
    # A prompt to review: what the transcript mostly says, and where.
    assert '"left" 4 times, "right" 2 times' in issues[0].message
    assert "x-ray of your left ankle" in issues[0].message


def test_portuguese_a_side_said_far_less_often_is_flagged_even_where_a_slip_says_it() -> None:
    # The side follows its part in Portuguese: "fratura do tornozelo direito".
    assert _side_issues(TORNOZELO, "Fratura do tornozelo esquerdo.") == []
    issues = _side_issues(TORNOZELO, "Fratura do tornozelo direito.")
    assert len(issues) == 1
    assert '"left" 4 times, "right" 2 times' in issues[0].message
    # The part is the word before the side, not the verb after it ("torceu").
    twisted = _side_issues(TORNOZELO, "Tornozelo direito torceu quando outro jogador pisou nele.")
    assert len(twisted) == 1
    assert '"left" 4 times' in twisted[0].message


KNEE = (
    "[doctor] what brings you in today ?\n[patient] my left knee has been swelling for a week .\n"
    "[doctor] any injury to the left knee ?\n"
    "[patient] no . i had surgery on my right knee years ago for a torn meniscus .\n"
    "[doctor] on exam your left knee has an effusion and it is warm .\n"
    "[doctor] the x-ray of your left knee shows arthritis .\n"
    "[doctor] and your right knee looks normal today ."
)

JOELHO = (
    "[médico] o que traz você aqui hoje ?\n"
    "[paciente] meu joelho esquerdo está inchado há uma semana .\n"
    "[médico] alguma lesão no joelho esquerdo ?\n"
    "[paciente] não . eu operei o joelho direito anos atrás por causa do menisco .\n"
    "[médico] ao exame o joelho esquerdo tem derrame e está quente .\n"
    "[médico] o raio-x do joelho esquerdo mostra artrose .\n"
    "[médico] e o joelho direito está normal hoje ."
)


def test_the_other_limbs_history_and_normal_exam_are_not_outweighed() -> None:
    assert _side_issues(KNEE, "Status post right knee meniscus surgery.") == []
    assert _side_issues(KNEE, "Right knee exam is normal.") == []
    # The same side given for the visit's finding is one to look at again.
    assert [i.kind for i in _side_issues(KNEE, "Right knee effusion.")] == ["laterality"]
    assert _side_issues(JOELHO, "Cirurgia do menisco do joelho direito anos atrás.") == []
    assert _side_issues(JOELHO, "Joelho direito normal.") == []
    assert [i.kind for i in _side_issues(JOELHO, "Derrame do joelho direito.")] == ["laterality"]


def test_a_side_said_about_as_often_as_the_other_is_not_outweighed() -> None:
    # Two mentions against three: a visit about both sides as easily as a slip, so the
    # statement is judged by its clause.
    both = (
        "[patient] my right wrist aches when i type on the keyboard .\n"
        "[doctor] and the left wrist ?\n[patient] the left wrist is fine .\n"
        "[doctor] your right wrist is swollen and your left wrist moves well ."
    )
    assert _side_issues(both, "Right wrist pain with keyboard use.") == []


def test_a_statement_copying_a_slips_sentence_whole_says_what_was_said() -> None:
    # An extractive note's words are the speaker's, slip and all; a statement of its own
    # giving the slip's side is still one to look at again.
    dialogue = (
        "[doctor] she's here for left leg pain . right leg pain , right leg pain ?\n"
        "[patient] yes , my right leg hurts .\n[doctor] your right leg is bruised ."
    )
    assert _side_issues(dialogue, "She's here for left leg pain.") == []
    assert [i.kind for i in _side_issues(dialogue, "Bruised left leg.")] == ["laterality"]
