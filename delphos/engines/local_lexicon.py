"""The local engine's clinical lexicon (English and pt-BR), as data.

Each entry names what a phrase signals, then its phrases, ``|``-separated. Phrases are
written in lower case without accents (the matcher folds both) and in the matcher's
tokens: "x-ray" is ``x ray``, "you're" is ``you re``, "8/8h" is ``# # h``.

Token syntax: ``a/b`` either word; ``[a/b]`` optional; ``stem*`` any word starting with
``stem``; ``*suffix`` (alone) any longer word ending with it; ``#`` a number (digits or a
number word), ``#d`` digits, ``#bp`` two or three digits, ``#t`` a body temperature.

Signals: ``S3``/``O2``/``A1``/``P3`` … vote for a section with a weight (3 = the phrase
names its section, 2 = usually that section, 1 = a hint); ``clin`` clinical vocabulary
(keeps a sentence that has no stronger cue); ``cond`` a condition (assessment rather than
plan when nothing else decides); ``drop`` a scribe command or announcement, left out;
``to_o`` / ``to_ap`` the visit moving to examination / to assessment and plan; ``test`` a
test or investigation, ``result`` words that report one (together: a result, Objective).
"""

from __future__ import annotations

from typing import Final

_TIME = "hour/hours/day/days/week/weeks/month/months/year/years/hora/horas/dia/dias/semana/semanas/mes/meses/ano/anos"  # noqa: E501
_BE = "[is/was/of/at/de/em/was/=]"

LEXICON: Final[tuple[tuple[str, str], ...]] = (
    # --- Subjective: the patient's account, history, denials, durations -------------------
    (
        "S3",
        "reports|reported|reporting|complains of|complaining of|complains|c o|presents with|"
        "presents for|presents today with|presents today for|presenting with|history of|"
        "past medical history|medical history|surgical history|family history|"
        "social history|pmh|hpi|denies|denied|denying|endorses|endorsed|endorsing|"
        "chief complaint|relata|relatou|refere|referiu|queixa|queixas|queixa se|nega|negou|"
        "negando|antecedente|antecedentes|historia de|historia previa|historia patologica|"
        "historia familiar|em uso de|faz uso de|fazendo uso de|uso continuo|tabagista|"
        "etilista|hda|hma|qp",
    ),
    ("S3 clin", f"ha # {_TIME}|ha [cerca/mais] [de] # {_TIME}|ha uns/umas # {_TIME}"),
    (
        "S2 clin",
        f"for [the] [past/last] [about] # {_TIME}|for [the] [past/last] [about] a # {_TIME}|"
        f"for a couple of {_TIME}|for the past {_TIME}|# {_TIME} ago|a # {_TIME} ago|"
        f"about # {_TIME}|couple of {_TIME}|since # {_TIME}|desde",
    ),
    (
        "S2",
        "started|began|onset|been having|been feeling|been taking|i ve had|i have had|"
        "i ve been|i have been|smoke|smokes|smoker|smoking|alcohol|drink|drinks|"
        "iniciou|comecou|apresenta|sente|sentindo",
    ),
    ("S2 clin", "allerg*|alergia|alergias|alergic*"),
    ("S1", "since|feel|feels|feeling|estava|tem sentido"),
    # --- Objective: vitals with a value, examination, results -----------------------------
    (
        "O3 clin",
        f"bp {_BE} #bp [over/por/x] #bp|pa {_BE} #bp [over/por/x] #bp|"
        f"blood pressure {_BE} #bp [over/por/x] #bp|pressao arterial {_BE} #bp [over/por/x] #bp|"
        f"blood pressure [is/was] [at] [about] #bp over #bp|"
        f"hr/fc/pulse/pulso/rr/fr {_BE} #d|heart rate {_BE} #d|respiratory rate {_BE} #d|"
        f"frequencia cardiaca/respiratoria {_BE} #d|temp/temperature/temperatura/tax {_BE} #d|"
        f"spo2/sato2/sat/saturacao {_BE} #d|o2 sat {_BE} #d|oxygen saturation {_BE} #d|"
        f"saturacao de o2 {_BE} #d|weight/peso/height/altura/bmi/imc {_BE} #d",
    ),
    (
        "O3 clin to_o",
        "physical exam|physical examination|on exam|on examination|on your exam|"
        "vital signs|vitals|exame fisico|ao exame|sinais vitais",
    ),
    (
        "O3 clin",
        "exam|examination|auscultation|regular rate and rhythm|rrr|murmur|murmurs|"
        "tender to palpation|tenderness to palpation|pain to palpation|pain on palpation|"
        "palpation|range of motion|reflexes|perrla|normocephalic|supple|crackles|rales|"
        "rhonchi|wheezes|capillary refill|sensation is intact|sensation intact|effusion|"
        "erythema|lungs clear|lungs are clear|lungs sound clear|lung sounds clear|"
        "lungs sound nice and clear|clear to auscultation|"
        "exame|exame neurologico|exame cardiovascular|exame pulmonar|exame abdominal|"
        "ausculta|murmurio vesicular|mv|bulhas|rcr|bnf|beg|reg|meg|bom estado geral|flacido|"
        "palpacao|corado|corada|hidratado|hidratada|acianotico|acianotica|anicterico|"
        "anicterica|afebril|eupneico|eupneica|lucido|lucida|glasgow|pupilas|oroscopia|"
        "otoscopia|rinoscopia",
    ),
    # Tests: results when reviewed, but what a plan orders too, so only "usually" O.
    (
        "O2 clin test",
        "x ray|x rays|xray|xrays|mri|ct scan|cat scan|ultrasound|echocardiogram|ekg|ecg|"
        "electrocardiogram|lab results|labs|blood work|bloodwork|hemoglobin|a1c|"
        "hemoglobin a1c|creatinine|potassium|urinalysis|cbc|hemograma|hemoglobina|glicemia|"
        "creatinina|raio x|raiox|radiografia|rx|tomografia|ultrassom|ultrassonografia|usg|"
        "ecografia|eletrocardiograma",
    ),
    (
        "O2",
        "tender|tenderness|edema|swelling noted|no swelling|i appreciate|i do appreciate|"
        "i notice|i do notice|i hear|i do hear|i feel|i do feel|i see|there is no|there s no|"
        "result|results|showed|shows|revealed|demonstrates|demonstrated|came back|"
        "blood pressure|heart rate|oxygen|oxygenation|temperature|abdome|abdomen|"
        "membros inferiores|mmii|extremidades|resultado|resultados|mostrou|evidencia|"
        "evidenciou|heart/lung/abdominal/skin/neck/neurological/neurovascular/knee/shoulder/"
        "back/hip/foot/ankle/wrist/hand/eye/ear/throat/musculoskeletal/cardiac exam",
    ),
    # With a test named, these words make the sentence a result, Objective in any phase.
    (
        "result",
        "showed|shows|revealed|reveals|demonstrates|demonstrated|came back|normal|abnormal|"
        "the results of|results of|resultado do|resultado da|"
        "unremarkable|negative|positive|elevated|high|low|mostrou|evidenciou|normais|"
        "alterado|alterada|alterados|sem alteracoes",
    ),
    ("O1", "looks good|looks normal|looks fine|normal|intact|normais|sem alteracoes"),
    # --- Assessment: impressions and diagnoses --------------------------------------------
    (
        "A3",
        "impression|assessment|diagnosis|diagnoses|differential|consistent with|"
        "suggestive of|most likely|likely|probably|suspect|suspicious for|concerning for|"
        "secondary to|due to|concerned that|i m concerned|i am concerned|signs of|"
        "i think you have|i think you might have|i think you may have|"
        "i think you probably have|i think you are|i think you re|i believe|sounds like you|"
        "hipotese|hipotese diagnostica|diagnostico|impressao|compativel com|sugestivo de|"
        "quadro de|quadro compativel|quadro sugestivo|quadro clinico|provavel|suspeita de",
    ),
    (
        "A2",
        "i think it s|i think it is|i think this is|i think that s|i think that is|"
        "it seems like|it looks like|looks like you|looks like it s|looks like this|"
        "seems like|what we call|avaliacao",
    ),
    # --- Plan: prescriptions, doses, orders, referrals, follow-up, advice ----------------
    # Doses and frequencies are what a plan prescribes, but also the patient's current
    # medicines while taking the history: "usually" plan, so the history phase keeps them.
    (
        "P2 clin",
        "# mg/mcg/ml/ui/iu/unit/units/milligram/milligrams/microgram/micrograms/gotas/gts|"
        "#d g|# # h|a cada # h/horas|once/twice a/per day|three/four times a/per day|daily|"
        "as needed|prn|bid|tid|qid",
    ),
    (
        "P3 clin",
        "prescribe|prescribed|prescription|prescribing|refill|"
        "physical therapy|prescrevo|prescrito|prescricao|receito|receita|comprimido|"
        "comprimidos|cp|capsula|capsulas",
    ),
    (
        "P3",
        "start you on|start on|starting you|continue|continuing|increase|decrease|"
        "discontinue|order|ordering|refer|referral|referring|schedule|follow up|followup|"
        "come back|return|see you back|recommend|i want you to|i d like you to|"
        "i would like you to|need you to|start taking|stop taking|keep taking|"
        "continue taking|recheck|reassess|we will plan|we ll plan|plan for|"
        "we ll/will [go] [ahead] [and] start/get/order/check/send/try/put/give/increase/"
        "decrease/continue/refer/schedule/prescribe/obtain/repeat/switch/change/stop/keep|"
        "i ll/will [go] [ahead] [and] start/get/order/check/send/try/put/give/increase/"
        "decrease/continue/refer/schedule/prescribe/obtain/repeat/switch/change/stop/keep|"
        "going to/gon [na] [go] [ahead] [and] start/get/order/check/send/try/put/give/"
        "increase/decrease/continue/refer/schedule/prescribe/obtain/repeat/switch/change/"
        "stop/keep|"
        "let s [go] [ahead] [and] start/get/order/check/send/try/put/give/increase/decrease/"
        "continue/refer/schedule/prescribe/obtain/repeat/switch/change/stop/keep|"
        "solicito|solicitado|solicitada|solicitados|solicitadas|peco|encaminho|encaminhar|"
        "encaminhado|encaminhada|encaminhamento|retorno|retornar|reavaliar|reavaliacao|sos|"
        "se necessario|manter|mantenho|mantido|mantida|suspender|suspendo|suspensao|iniciar|"
        "inicio|conduta|plano|agendado|agendada|agendar|acompanhamento|seguimento",
    ),
    (
        "P2",
        "take|taking it|stop|avoid|call me|call us|monitor|consider|try|injection|brace|"
        "splint|ice|instructions|we ll|we will|i ll|i will|"
        "elevate|physical therapist|specialist|surgery|patient portal|uso de|oriento|"
        "orientado|orientada|orientacoes|repouso|hidratacao|dieta|evitar|tomar",
    ),
    ("P1", "rest|diet|exercise|counsel*|educated|education"),
    # --- Clinical vocabulary ----------------------------------------------------------------
    (
        "clin",
        "pain|pains|painful|tender*|ache|aches|aching|hurt|hurts|hurting|sore|soreness|swell*|swollen|"
        "fever|fevers|chills|cough*|cold|colds|flu|sneez*|congest*|runny|headache|headaches|"
        "migraine*|dizz*|lightheaded|light headed|faint*|nause*|vomit*|diarrhea|diarrhoea|"
        "constipat*|bloat*|cramp*|blood|bleed*|bruis*|rash*|itch*|numb*|tingl*|weak*|"
        "fatigu*|tired|exhausted|energy|sleep*|insomnia|appetite|weight|breath*|wheez*|"
        "chest|heart|lung|lungs|palpitation*|pounding|anxi*|depress*|mood|stress*|urin*|"
        "bladder|kidney|kidneys|bowel|bowels|stool|stools|abdom*|belly|stomach|back|neck|"
        "shoulder|shoulders|elbow|elbows|wrist|wrists|hand|hands|finger|fingers|hip|hips|"
        "knee|knees|ankle|ankles|foot|feet|leg|legs|arm|arms|joint|joints|muscle|muscles|"
        "bone|bones|spine|skin|eye|eyes|vision|ear|ears|hearing|throat|nose|sinus*|head|"
        "teeth|tooth|diabet*|sugar|sugars|glucose|insulin|hypertension|blood pressure|"
        "cholesterol|asthma|copd|cancer|tumor|tumour|arthritis|gout|infect*|thyroid|stroke|"
        "afib|fibrillation|pneumonia|covid|surgery|surgical|fractur*|sprain*|injur*|fell|"
        "fall|accident|pregnan*|medication|medications|medicine|medicines|meds|pill|pills|"
        "tablet|tablets|dose|doses|dosage|refills|inhaler|antibiotic|antibiotics|steroid|"
        "steroids|vitamin|vitamins|supplement|supplements|tylenol|ibuprofen|advil|motrin|"
        "aleve|aspirin|lasix|norvasc|prozac|coumadin|eliquis|xarelto|plavix|zoloft|lexapro|"
        "synthroid|flonase|claritin|zyrtec|benadryl|tramadol|gabapentin|naproxen|ozempic|"
        "humalog|lantus|metformin|lisinopril|"
        "*pril|*sartan|*sartana|*olol|*dipine|*dipino|*statin|*statina|*formin|*formina|"
        "*gliptin|*flozin|*glutide|*azole|*azol|*cillin|*cilina|*mycin|*micina|*cycline|"
        "*floxacin|*prazole|*prazol|*tidine|*oxetine|*pram|*profen|*sone|*solone|*parin|"
        "*xaban|*semide|*thiazide|*lukast|*azepam|*zolam|*triptan|*codone|*morphone|"
        "scan|echo|labs|lab|biopsy|vital|temperature|pulse|oxygen|edema|reflex*|motion|"
        "strength|incision|wound|therapy|specialist|referral|appointment|symptom|symptoms|"
        "diagnos*|dor|dores|doendo|doi|febre|tosse|cefaleia|enxaqueca|tontura*|nausea*|"
        "vomito*|diarreia|constipacao|cansaco|fadiga|falta de ar|dispneia|palpitac*|peito|"
        "torax|barriga|estomago|costas|lombar|cabeca|garganta|ouvido|ouvidos|olho|olhos|"
        "pele|mancha|manchas|coceira|prurido|inchaco|sangramento|sangue|urina|evacuacao|"
        "fezes|sono|insonia|apetite|ansiedade|depressao|pressao|diabetes|hipertens*|"
        "colesterol|asma|cirurgia|fratura|infeccao|remedio|remedios|medicamento|"
        "medicamentos|medicacao|dipirona|paracetamol|ibuprofeno|amoxicilina|losartana|"
        "metformina|omeprazol|sintoma|sintomas|exames|paciente|patient",
    ),
    # --- Conditions: assessment rather than plan when nothing else decides ---------------
    (
        "cond",
        "diabet*|hypertension|high blood pressure|heart failure|chf|copd|asthma|arthritis|"
        "osteoarthritis|gout|infection|pneumonia|bronchitis|sinusitis|cancer|depression|"
        "anxiety|hypothyroidism|hyperthyroidism|hyperlipidemia|cholesterol|fibrillation|"
        "afib|strain|sprain|fracture|tendinopathy|syndrome|disease|disorder|deficiency|"
        "*itis|*osis|*emia|*opathy|problem|issue|condition|injury|hipertens*|diabetes|asma|"
        "infeccao|sinusite|gastrite|enxaqueca|cefaleia tensional|lombalgia|ansiedade|"
        "depressao|sindrome|doenca|migraine*|tension [type] headache",
    ),
    # --- Scribe commands and announcements: their clause carries no finding --------------
    (
        "drop",
        "dragon|dax|show me the|show me your|finalize the note|paragraph|lay back|lie back|"
        "lie down|"
        "take a deep breath|deep breath|breathe in|listening to your|"
        "my/the/our assessment and [my/the/our] plan|vamos examinar|vamos conversar|"
        "i d/would like to [go] [ahead] [and] [just] do a/your|"
        "i [just] want/wan to/na [go] [ahead] [and] [just] do a/your|"
        "i m [just] going/gon to/na [go] [ahead] [and] [just] do a/your|"
        "let/lem s/me [just] [go] [ahead] [and] [just] do a/your|"
        "i d/would like to [go] [ahead] [and] [just] take a [quick] listen/look|"
        "i [just] want/wan to/na [go] [ahead] [and] [just] take a [quick] listen/look|"
        "i m [just] going/gon to/na [go] [ahead] [and] [just] take a [quick] listen/look|"
        "let/lem s/me [just] [go] [ahead] [and] [just] take a [quick] listen/look|"
        "i d/would like to [go] [ahead] [and] [just] listen/examine/talk/discuss/review/look|"
        "i [just] want/wan to/na [go] [ahead] [and] [just] listen/examine/talk/discuss/"
        "review/look|"
        "i m [just] going/gon to/na [go] [ahead] [and] [just] listen/examine/talk/discuss/"
        "review/look|"
        "let/lem s/me [just] [go] [ahead] [and] [just] listen/examine/talk/discuss/review/look/"
        "get|"
        "i d/would like to [go] [ahead] [and] [just] go over/check|"
        "i [just] want/wan to/na [go] [ahead] [and] [just] go over/check|"
        "let/lem s/me [just] [go] [ahead] [and] [just] go over/check",
    ),
    # --- Phase transitions -----------------------------------------------------------------
    (
        "to_o",
        "do a physical exam|do a quick physical exam|do a quick exam|examine you|"
        "listen to your heart|listen to your lungs|take a look at|take a quick look at|"
        "show me the|review the results|look at the results|look at your results|"
        "look at some of your results|looking at your results|reviewing the results|"
        "results of your|on your * exam",
    ),
    (
        "to_ap",
        "assessment|impression|my plan|the plan|treatment plan|"
        "first/next/second/third/fourth/last/final/other problem/issue|"
        "hipotese|conduta|plano|diagnostico",
    ),
)

# Case matters for these short abbreviations: "T 37.8" and "HD: …", never "t" or "hd".
CASE_SENSITIVE: Final[tuple[tuple[str, str], ...]] = (("O3 clin", "T #t"), ("A3", "HD"))

NUMBER_WORDS: Final = frozenset(
    "a an one two three four five six seven eight nine ten eleven twelve fifteen twenty "
    "few couple several um uma dois duas tres quatro cinco seis sete oito nove dez quinze "
    "vinte alguns algumas poucos poucas varios varias".split()
)
# "no fever", "without chills", "sem náuseas": a negation shortly before a symptom.
NEGATIONS: Final = frozenset("no without denies deny denied any sem nega nenhum nenhuma".split())
SYMPTOM_STEMS: Final[tuple[str, ...]] = (
    "fever", "chill", "nause", "vomit", "diarrh", "constipat", "cough", "pain", "headache",
    "dizz", "shortness", "numb", "tingl", "bleed", "sweat", "palpitat", "urinar", "swell",
    "rash", "complaint", "febre", "calafrio", "vomito", "diarreia", "tosse", "dor",
    "cefaleia", "tontura", "dispneia", "falta", "sangramento", "queixa", "disuria",
)  # fmt: skip
NEGATION_REACH: Final = 3
