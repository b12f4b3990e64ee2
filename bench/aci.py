"""ACI-Bench as the benchmarks read it (../shared/eval/aci-bench, CC BY 4.0; see
../shared/eval/README.md): the dialogues, their full reference notes, and each reference
cut into S/O/A/P by the dataset's own divisions.

A division the note does not have is given by the dataset as the text
"<division name>: #####EMPTY#####" (e.g. "objective_results: #####EMPTY#####"): a
placeholder of the dataset's format, not a statement of the note, so it is read as an
empty division. (Earlier the faithfulness benchmark verified these 20 placeholders as if
a scribe had written them, and counted each as an unsupported statement.)"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ACI_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval" / "aci-bench"
SPLITS = ("train", "valid")


def load(split: str, division: str = "") -> list[dict[str, str]]:
    """The rows ({"src", "tgt", "file"}) of a split, or of one division of it."""
    name = f"{split}_{division}.json" if division else f"{split}.json"
    data: list[dict[str, str]] = json.loads((ACI_DIR / name).read_text("utf-8"))["data"]
    return data


@dataclass(frozen=True)
class Encounter:
    dialogue: str  # one turn per line, "[doctor] …" / "[patient] …"
    reference: str  # the whole reference note
    # The reference by section: objective = exam + results; the dataset has one
    # assessment-and-plan division, given as the assessment (the plan is empty).
    sections: dict[str, str]


_EMPTY = "#####EMPTY#####"


def _division(text: str) -> str:
    return "" if _EMPTY in text else text


def encounters(split: str) -> list[Encounter]:
    whole = load(split)
    subjective, exam = load(split, "subjective"), load(split, "objective_exam")
    results, ap = load(split, "objective_results"), load(split, "assessment_and_plan")
    out: list[Encounter] = []
    for w, s, e, r, a in zip(whole, subjective, exam, results, ap, strict=True):
        sections = {
            "subjective": _division(s["tgt"]),
            "objective": "\n\n".join(
                x for x in (_division(e["tgt"]), _division(r["tgt"])) if x.strip()
            ),
            "assessment": _division(a["tgt"]),
            "plan": "",
        }
        out.append(Encounter(dialogue=w["src"], reference=w["tgt"], sections=sections))
    return out
