"""Clinical flags on a finished turn: did it mention a medication, a symptom, a diagnosis?

Plain keyword lists (English and Portuguese), matched on whole words after lower-casing and
removing accents, so "Diagnóstico" and "diagnostico" both count. The flags help a
clinician skim a live transcript; they are hints, not coding.
"""

from __future__ import annotations

import re
import unicodedata

FLAG_ORDER = ("medication", "symptom", "diagnosis")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_KEYWORDS: dict[str, frozenset[str]] = {
    "medication": _words(
        """
        medication medications medicine medicines drug drugs prescribe prescribed prescribing
        prescription prescriptions dose doses dosage dosing mg mcg milligram milligrams
        microgram micrograms ml daily twice tablet tablets pill pills capsule capsules refill
        refills inhaler injection antibiotic antibiotics aspirin ibuprofen acetaminophen
        paracetamol insulin metformin lisinopril amoxicillin atorvastatin omeprazole prednisone
        medicacao medicacoes medicamento medicamentos remedio remedios receita receitar
        receitei prescrever prescrevo prescricao dosagem comprimido comprimidos capsula
        capsulas diariamente injecao antibiotico antibioticos
        """
    ),
    "symptom": _words(
        """
        symptom symptoms pain pains painful ache aches aching headache headaches complaint
        complaints complains fever fevers cough coughing nausea nauseous vomiting dizzy
        dizziness fatigue tired tiredness breathless swelling swollen rash bleeding sore
        itching itchy chills numbness tingling palpitations diarrhea constipation dor dores doi
        doendo sintoma sintomas febre tosse nausea nauseas vomito vomitos tontura cansaco
        fadiga inchaco inchado queixa queixas sangramento coceira diarreia palpitacoes
        """
    ),
    "diagnosis": _words(
        """
        diagnose diagnosed diagnosis diagnoses diagnostic assessment impression differential
        diagnostico diagnosticos diagnosticar diagnosticado diagnosticada avaliacao impressao
        hipotese
        """
    ),
}

# Multi-word phrases, matched on the normalised text with word boundaries.
_PHRASES: dict[str, tuple[str, ...]] = {
    "medication": ("vezes ao dia", "times a day", "once a day", "por dia"),
    "symptom": ("shortness of breath", "short of breath", "falta de ar", "mal estar"),
    "diagnosis": ("consistent with", "rule out", "compativel com", "hipotese diagnostica"),
}

_WORDS = re.compile(r"[a-z0-9]+")
# "81mg", "5ml": a dose glued to its unit.
_DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:mg|mcg|ml|g)\b")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def turn_flags(text: str) -> list[str]:
    """The flags of ``text`` among "medication", "symptom", "diagnosis", in that order."""
    folded = _fold(text)
    words = set(_WORDS.findall(folded))
    spaced = " " + " ".join(_WORDS.findall(folded)) + " "
    found: list[str] = []
    for flag in FLAG_ORDER:
        hit = bool(words & _KEYWORDS[flag]) or any(
            f" {phrase} " in spaced for phrase in _PHRASES[flag]
        )
        if flag == "medication" and not hit:
            hit = _DOSE.search(folded) is not None
        if hit:
            found.append(flag)
    return found
