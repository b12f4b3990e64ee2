"""Word lists (English and Portuguese, accents stripped, lowercase) the checker reads.

General clinical-language knowledge only: negation cues and their scope terminators
(after NegEx/ConText), sides, units, dose frequencies, number words."""

from __future__ import annotations

from typing import Final

STOPWORDS: Final = frozenset(
    """a an the and or of to in on at for with by from as is are was were be been being am
    it its this that these those there here his her hers him he she they them their we our
    you your yours i me my mine us do does did done have has had having will would shall
    should can could may might must so if then than too very much just also about into over
    under up down out off again further once all any both each few more most other some
    such only own same what which who whom whose when where why how because while until
    ok okay yeah yes um uh oh hmm mm like well right alright really kind sort thing things
    get got go going gone know think see said say says tell told let lets im ive id ill
    youre dont didnt doesnt isnt t s ll ve re d m doctor patient pt mr mrs ms dr
    reports reported reporting endorses endorsed complains complained notes noted states
    stated describes described presents presented indicates mentions mentioned feels felt
    currently today now still since ago recently
    o os as um uma uns umas de do da dos das em no na nos nas por pelo pela pelos pelas
    para com que e ou se ao aos como mais mas foi ser esta estao estava ele ela eles elas
    voce voces eu meu minha seu sua isso isto esse essa aquele aquela ja tambem muito
    ate quando onde porque entao tem ter tinha teve ha sim ta tá bom bem ai aqui
    paciente relata refere queixa apresenta informa menciona diz hoje agora ainda""".split()
)

# Negation cues that scope forward (NegEx "pre" triggers).
NEG_PRE: Final = frozenset(
    """no not denies denied deny denying without negative never none nor nobody nothing
    neither absence absent free cannot unable incapaz nao nem nega negou negando sem nenhum
    nenhuma nunca ausencia nega-se""".split()
)
# "didn't", "don't" … arrive as two tokens, "didn" + "t"; ASR also writes "didnt".
NEG_CONTRACTION_HEADS: Final = frozenset(
    """don didn doesn haven hasn isn aren wasn weren won can couldn hadn wouldn shouldn ain
    dont didnt doesnt havent hasnt isnt arent wasnt werent wont cant couldnt""".split()
)
# Words that end a negation's scope (ConText terminators) and note verbs that assert.
NEG_TERMINATORS: Final = frozenset(
    """but however although though except aside apart which who reports reported endorses
    endorsed complains complained has have had notes positive presents admits though yet
    mas porem contudo exceto relata refere apresenta queixa tem teve possui""".split()
)
# A one-word answer to a question about a symptom.
ANSWER_NO: Final = frozenset("no nope nah never negative nao nunca".split())
ANSWER_YES: Final = frozenset(
    """yes yeah yep yup sure correct definitely absolutely sometimes occasionally mhm
    mm-hmm uh-huh sim tenho tive claro""".split()
)

SIDES: Final[dict[str, str]] = {
    "left": "L",
    "right": "R",
    "bilateral": "B",
    "bilaterally": "B",
    "both": "B",
    "esquerdo": "L",
    "esquerda": "L",
    "esquerdos": "L",
    "esquerdas": "L",
    "direito": "R",
    "direita": "R",
    "direitos": "R",
    "direitas": "R",
    "bilaterais": "B",
    "ambos": "B",
    "ambas": "B",
}
# "right" is also "correct" / "right now" / "all right": only a side before a body word.
AMBIGUOUS_SIDES: Final = frozenset({"right", "direito", "both", "ambos", "ambas"})

# Unit spellings → one canonical token (also used as a content word).
UNITS: Final[dict[str, str]] = {
    **dict.fromkeys(["mg", "mgs", "milligram", "milligrams", "miligrama", "miligramas"], "mg"),
    **dict.fromkeys(
        ["mcg", "ug", "µg", "microgram", "micrograms", "micrograma", "microgramas"], "mcg"
    ),
    **dict.fromkeys(["g", "gm", "gram", "grams", "grama", "gramas"], "g"),
    **dict.fromkeys(
        ["kg", "kgs", "kilogram", "kilograms", "kilo", "kilos", "quilo", "quilos"], "kg"
    ),
    **dict.fromkeys(["lb", "lbs", "pound", "pounds", "libra", "libras"], "lb"),
    **dict.fromkeys(
        ["ml", "milliliter", "milliliters", "millilitre", "mililitro", "mililitros", "cc"], "ml"
    ),
    **dict.fromkeys(["unit", "units", "iu", "unidade", "unidades", "ui"], "unit"),
    # Not "mm": speech's "mm-hmm" would be millimetres by every number.
    **dict.fromkeys(
        [
            *("cm", "cms", "centimeter", "centimeters", "centimetre", "centimetres"),
            *("centimetro", "centimetros"),
        ],
        "cm",
    ),
    **dict.fromkeys(["meq"], "meq"),
    **dict.fromkeys(["%", "percent", "porcento", "percentage"], "%"),
    **dict.fromkeys(["bpm", "beats"], "bpm"),
    **dict.fromkeys(["mmhg"], "mmhg"),
    **dict.fromkeys(["degrees", "degree", "graus", "grau", "°"], "deg"),
    **dict.fromkeys(["hour", "hours", "hrs", "h", "hora", "horas"], "hour"),
    **dict.fromkeys(["day", "days", "dia", "dias"], "day"),
    **dict.fromkeys(["week", "weeks", "wk", "wks", "semana", "semanas"], "week"),
    **dict.fromkeys(["month", "months", "mes", "meses"], "month"),
    **dict.fromkeys(["year", "years", "yr", "yrs", "ano", "anos", "yo"], "year"),
    **dict.fromkeys(
        ["tablet", "tablets", "tab", "tabs", "pill", "pills", "comprimido", "comprimidos"], "tablet"
    ),
    **dict.fromkeys(["puff", "puffs"], "puff"),
}
DOSE_UNITS: Final = frozenset({"mg", "mcg", "g", "ml", "unit", "meq", "tablet", "puff"})

# Dose frequency → times per day. Multi-word phrases are matched on the joined tokens.
FREQUENCIES: Final[dict[str, float]] = {
    "daily": 1,
    "qd": 1,
    "qday": 1,
    "od": 1,
    "nightly": 1,
    "qhs": 1,
    "qam": 1,
    "qpm": 1,
    "bid": 2,
    "tid": 3,
    "qid": 4,
    "weekly": 1 / 7,
    "once a day": 1,
    "once daily": 1,
    "a day": 1,
    "every day": 1,
    "per day": 1,
    "each day": 1,
    "every morning": 1,
    "every night": 1,
    "every evening": 1,
    "at night": 1,
    "at bedtime": 1,
    "in the morning": 1,
    "twice a day": 2,
    "twice daily": 2,
    "twice": 2,
    "two times a day": 2,
    "2 times a day": 2,
    "2 times daily": 2,
    "three times a day": 3,
    "three times daily": 3,
    "3 times a day": 3,
    "3 times daily": 3,
    "four times a day": 4,
    "4 times a day": 4,
    "every 12 hours": 2,
    "every 8 hours": 3,
    "every 6 hours": 4,
    "every 4 hours": 6,
    "q12h": 2,
    "q8h": 3,
    "q6h": 4,
    "q4h": 6,
    "once a week": 1 / 7,
    "every week": 1 / 7,
    # ASR writes "every day" as one word; "per" and "each" say "a" ("twice per day").
    "everyday": 1,
    "once per day": 1,
    "once each day": 1,
    "twice per day": 2,
    "twice each day": 2,
    "twice a week": 2 / 7,
    "every other day": 1 / 2,
    "two times per day": 2,
    "three times per day": 3,
    "four times per day": 4,
    "2 times per day": 2,
    "3 times per day": 3,
    "4 times per day": 4,
    "uma vez ao dia": 1,
    "1 vez ao dia": 1,
    "ao dia": 1,
    "por dia": 1,
    "diario": 1,
    "diaria": 1,
    "diariamente": 1,
    "a noite": 1,
    "duas vezes ao dia": 2,
    "2 vezes ao dia": 2,
    "tres vezes ao dia": 3,
    "3 vezes ao dia": 3,
    "de 12 em 12 horas": 2,
    "de 8 em 8 horas": 3,
    "de 6 em 6 horas": 4,
    "semanal": 1 / 7,
}
FREQ_MAX_WORDS: Final = max(len(k.split()) for k in FREQUENCIES)

# Number words (accents stripped). text2num does the arithmetic of a run of them.
NUM_EN: Final = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fourty fifty sixty
    seventy eighty ninety hundred thousand million""".split()
)
NUM_PT: Final = frozenset(
    """zero um uma dois duas tres quatro cinco seis sete oito nove dez onze doze treze
    catorze quatorze quinze dezesseis dezasseis dezessete dezassete dezoito dezenove
    dezanove vinte trinta quarenta cinquenta sessenta setenta oitenta noventa cem cento
    duzentos duzentas trezentos trezentas quatrocentos quinhentos seiscentos setecentos
    oitocentos novecentos mil""".split()
)
# text2num wants the accents back for these.
PT_ACCENTED: Final[dict[str, str]] = {"tres": "três"}
ORDINALS: Final[dict[str, float]] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
    "half": 0.5,
    "meia": 0.5,
    "meio": 0.5,
    "once": 1,
    "twice": 2,
    "thrice": 3,
    "dozen": 12,
    "duzia": 12,
}
_MONTH_NAMES: Final = (
    "january february march april may june july august september october november december",
    "janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro",
)
# "may" is far more often the verb than the month.
MONTHS: Final[dict[str, int]] = {
    name: i + 1 for names in _MONTH_NAMES for i, name in enumerate(names.split()) if name != "may"
}

# Note abbreviations → the words a conversation uses for them (as stems).
ABBREVIATIONS: Final[dict[str, tuple[str, ...]]] = {
    "bp": ("blood", "pressu"),
    "pa": ("pressa",),
    "hr": ("heart", "rate", "pulse"),
    "fc": ("freque", "cardia"),
    "rr": ("breath", "respir"),
    "temp": ("temper", "fever"),
    "temperature": ("fever",),
    "spo2": ("oxygen", "saturat"),
    "o2": ("oxygen",),
    "bmi": ("weight",),
    "wt": ("weight",),
    "hdl": ("good", "choles"),
    "ldl": ("bad", "choles"),
}

# A dose said by the drug's everyday name: the word before the name → (dose, unit).
# "Baby aspirin" is the 81 mg tablet.
SAID_DOSES: Final[dict[str, dict[str, tuple[str, str]]]] = {"aspirin": {"baby": ("81", "mg")}}

# The words of a note's headings: body systems of a review or an exam, kinds of history.
# A Title Case line of these alone, unpunctuated, heads the findings below it
# ("Respiratory" over "- Auscultation of Lungs: Clear."); it claims nothing itself.
HEADING_VOCABULARY: Final = frozenset(
    """constitutional general eyes eye ears ent heent head neck nose throat mouth
    respiratory pulmonary lungs chest cardiovascular cardiac heart vascular breast breasts
    gastrointestinal gi abdomen abdominal genitourinary gu renal pelvic rectal
    musculoskeletal msk extremities back spine skin integumentary dermatologic
    neurological neurologic neuro psychiatric psychological psych mental status
    hematologic hematology lymphatic lymphatics immunology immunologic endocrine allergic
    strength sensation reflexes gait vitals vital signs exam examination physical
    medical surgical social family gynecologic obstetric history past medications
    medication allergies immunizations review systems of and procedures procedure
    surgeries assessment problems problem list screening preventive health healthcare
    maintenance""".split()
)

# The visit itself, told by the scribe ("we discussed treatment options", "all questions
# were answered", "she will follow up as needed"): who discussed, explained, agreed or
# understood is the note's form, like "denies", not a fact about the patient to find.
VISIT_WORDS: Final = frozenset(
    """discuss discussed discussing discussion discussions lengthy length detail
        detailed details regarding regard regards counseling counselled counseled
        education educated explained explain explains recommend recommended
        recommendation recommendations understand understands understood understanding
        verbalizes verbalized verbalize agree agrees agreed agreement agreements
        questions question answered satisfaction treatment treatments option options
        plan plans instructed advised encouraged informed reviewed reviewing review
        findings current nature importance visit clinic presents evaluation reasoning
        medical voiced concerns follow needed invited risks benefits alternatives
        agreeable diagnosis point management maintaining within limits per contact
        course""".split()
)
