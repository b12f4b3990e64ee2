"""The words a conversation uses for a note's words: a clinician writes "dyspnea",
"hematuria", "BP", "b.i.d." where the patient and the doctor said "short of breath",
"blood in my urine", "blood pressure", "twice a day". General clinical language only.

Each note word (lowercase, as written: stems are too crude here, "hypertension" and
"hyperthyroidism" share one) maps to alternatives; an alternative is the stems a
transcript sentence, or it with the one next to it (a question and its answer), must
all hold to say it ("blood urine" for hematuria)."""

from __future__ import annotations

from typing import Final

from delphos.evidence.text import stem

# A note's word → what is said instead, alternatives separated by "|".
_SAID_AS: Final[dict[str, str]] = {
    # Abbreviations.
    "bp": "blood pressure",
    "hr": "heart rate|pulse",
    "rr": "breathing|respiratory",
    "temp": "temperature|fever",
    "spo2": "oxygen|saturation|satting",
    "o2": "oxygen",
    "bmi": "weight",
    "wt": "weight",
    "prn": "need|needed",
    "bid": "twice|two times",
    "tid": "three times",
    "qid": "four times",
    "qd": "daily|once|every day",
    "qhs": "bedtime|night",
    "po": "mouth",
    "hx": "history",
    "sob": "breath",
    "cp": "chest pain",
    "ekg": "ekg|ecg|electrocardiogram",
    "ecg": "ekg|ecg|electrocardiogram",
    "electrocardiogram": "ekg|ecg",
    "nsaid": "ibuprofen|advil|motrin|aleve|naproxen|antiinflammatory|inflammatory",
    "nsaids": "ibuprofen|advil|motrin|aleve|naproxen|antiinflammatory|inflammatory",
    "pcp": "primary|doctor",
    "uri": "cold|infection",
    "uti": "urinary infection|bladder infection",
    "gerd": "reflux|heartburn",
    "cad": "heart disease|coronary",
    "chf": "heart failure",
    "copd": "lung|emphysema",
    "dm": "diabetes",
    "htn": "blood pressure",
    "wnl": "normal",
    "rom": "range motion",
    "pt": "therapy",
    "ot": "therapy",
    "er": "emergency",
    "ed": "emergency",
    "tobacco": "smoke|smoking|smoker|cigarettes|cigarette",
    # Medical words and the lay words for them.
    "dyspnea": "breath|breathe|breathing",
    "orthopnea": "breath|breathe|breathing",
    "hematuria": "blood urine|blood pee",
    "hematochezia": "blood stool|blood stools|blood bowel|bleeding",
    "melena": "black stool|dark stool|black stools|dark stools|tarry",
    "hemoptysis": "blood cough|coughing blood",
    "hematemesis": "vomiting blood|blood vomit",
    "epistaxis": "nosebleed|nose bleed|nosebleeds",
    "hypertension": "blood pressure",
    "hypertensive": "blood pressure",
    "hypotension": "blood pressure",
    "hyperlipidemia": "cholesterol",
    "hypercholesterolemia": "cholesterol",
    "dyslipidemia": "cholesterol",
    "hypothyroidism": "thyroid",
    "hyperthyroidism": "thyroid",
    "thyromegaly": "thyroid",
    "hyperglycemia": "sugar|sugars|glucose",
    "hypoglycemia": "sugar|sugars|glucose",
    "glucose": "sugar|sugars",
    "edema": "swelling|swollen|swell|fluid",
    "effusion": "fluid|swelling",
    "erythema": "red|redness",
    "erythematous": "red|redness",
    "ecchymosis": "bruise|bruising|bruised",
    "contusion": "bruise|bruising|bruised",
    "laceration": "cut",
    "fracture": "broken|break|broke",
    "pruritus": "itch|itchy|itching",
    "pruritic": "itch|itchy|itching",
    "paresthesia": "tingling|numbness|pins needles",
    "paresthesias": "tingling|numbness|pins needles",
    "syncope": "faint|fainted|passed out|pass out",
    "presyncope": "lightheaded|dizzy|faint",
    "vertigo": "dizzy|dizziness|spinning",
    "emesis": "vomit|vomiting|threw up|throw up",
    "nausea": "nauseous|nauseated|sick stomach",
    "diaphoresis": "sweat|sweating|sweaty",
    "palpitations": "racing|pounding|fluttering|palpitations",
    "fatigue": "tired|exhausted|energy",
    "malaise": "tired|unwell",
    "insomnia": "sleep|sleeping",
    "dysphagia": "swallow|swallowing",
    "odynophagia": "swallow|swallowing",
    "dysuria": "burning|burn|pain urinate|hurts pee",
    "nocturia": "night urinate|night bathroom|night pee",
    "polyuria": "urinate|urinating|pee|peeing|bathroom",
    "polydipsia": "thirsty|thirst",
    "rhinorrhea": "runny nose",
    "arthralgia": "joint pain|joints",
    "myalgia": "muscle|muscles|achy|aches",
    "cephalgia": "headache",
    "febrile": "fever|temperature",
    "afebrile": "fever|temperature",
    "pyrexia": "fever",
    "tachycardia": "heart racing|heart rate|fast",
    "bradycardia": "heart rate|slow",
    "lymphadenopathy": "lymph|glands|nodes|swollen",
    "ambulation": "walk|walking",
    "ambulating": "walk|walking",
    "ambulate": "walk|walking",
    "ambulates": "walk|walking",
    "radiographic": "xray|x ray|rays|film|films",
    "radiographs": "xray|x ray|rays|film|films",
    "radiograph": "xray|x ray|rays|film|films",
    "imaging": "xray|x ray|rays|mri|ct|scan|ultrasound",
    "images": "xray|x ray|rays|mri|ct|scan|ultrasound|pictures",
    "abdominal": "stomach|belly|abdomen",
    "abdomen": "stomach|belly|abdominal",
    "renal": "kidney|kidneys",
    "hepatic": "liver",
    "pulmonary": "lung|lungs|breathing",
    "cardiac": "heart",
    "gastric": "stomach",
    "cutaneous": "skin",
    "ocular": "eye|eyes",
    "cervical": "neck",
    "lumbar": "lower back|low back",
    "thoracic": "chest|mid back|upper back",
    "cholecystectomy": "gallbladder|gall bladder",
    "appendectomy": "appendix",
    "tonsillectomy": "tonsils",
    "hysterectomy": "uterus|womb",
    "suicidal": "hurt yourself|hurting yourself|kill yourself|harm yourself|end your life",
    "homicidal": "hurt others|hurt anyone|hurt somebody|harm others|hurting others",
    "compliant": "taking",
    "adherent": "taking",
    "nontender": "tender|tenderness|hurt|hurts|pain",
    "tenderness": "tender|hurt|hurts|pain|sore",
    "tender": "tenderness|hurt|hurts|pain|sore",
    "normal": "fine|good|great|okay|unremarkable",
    "stable": "fine|good|same|controlled|steady",
    "elevated": "high|higher|up",
    "smoker": "smoke|smoking|cigarettes|cigarette",
    "intact": "normal|fine|good",
    "unremarkable": "normal|fine|good",
    "supple": "neck",
}

SAID_AS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    word: tuple(tuple(stem(w) for w in alt.split()) for alt in alts.split("|"))
    for word, alts in _SAID_AS.items()
}

# An organ's abnormal signs → the organ, said normal when the doctor reports the exam
# ("your lungs are clear" for "no wheezes, rales, or rhonchi"): a denied sign is borne
# out by that part of the exam, never an asserted one.
_SIGN_OF: Final[dict[str, str]] = {
    "murmur murmurs gallop gallops rub rubs": "heart|cardiac",
    "wheeze wheezes wheezing rales rhonchi crackles": "lung|lungs|breath",
    "thyromegaly jvd bruit bruits lymphadenopathy": "neck",
    "clubbing cyanosis": "fingers|extremities|edema|swelling",
    "hepatomegaly splenomegaly organomegaly masses guarding rebound": "abdomen|belly|stomach",
}

SIGN_OF: Final[dict[str, tuple[str, ...]]] = {
    sign: tuple(stem(w) for w in organs.split("|"))
    for signs, organs in _SIGN_OF.items()
    for sign in signs.split()
}
