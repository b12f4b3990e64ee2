"""Negation scope, the same for a note and its transcript: findings (runs of content
words between separators), each negated or not. A cue scopes forward over a list until a
terminator (NegEx / ConText): "but", an asserting verb, a new subject, a full stop; "if"
makes what follows hypothetical up to its comma; "without" reaches two words only.

Run on both sides so that a note copying the transcript's words gets the transcript's
polarity: one pass over the tokens, linear."""

from __future__ import annotations

from typing import Final

from delphos.evidence.cues import (
    AFTER_VERB_REACH,
    AUXILIARIES,
    COPULAS,
    DEMONSTRATIVES,
    FILLER_HEADS,
    OWNERS,
    PREPOSITIONS,
    SAID_AFTER,
    advice,
    filler,
    opens_clause,
    pointing,
    prepositional,
    said_after,
    subject,
)
from delphos.evidence.cues import is_neg_cue as is_neg_cue  # read by copied.py, support.py
from delphos.evidence.lexicon import (
    ANSWER_NO,
    ANSWER_YES,
    NEG_CONTRACTION_HEADS,
    NEG_PRE,
    NEG_TERMINATORS,
    SIDES,
)
from delphos.evidence.text import Tokens

_ITEM_SEPARATORS: Final = frozenset({"or", "and", "nor", "ou", "e", "nem", "with", "com"})
# "a ct scan without contrast of your abdomen": these deny only the words right after.
SHORT_CUES: Final = frozenset({"without", "sem", "free", "absent"})
SHORT_REACH: Final = 2
# "without evidence of hydronephrosis", "without any swelling": the reach starts after these.
_HEADS: Final = frozenset("evidence sign signs any history evidencia sinais sinal historia".split())
# "without thyromegaly or lymphadenopathy": the reach starts again after an alternative
# (not after "and": "without lesions and on bimanual exam i appreciate a mass").
_ALTERNATIVES: Final = frozenset({"or", "nor", "ou", "nem"})
# Marks of a token in `Scope.marks`.
UNJUDGED: Final = 0
NEGATED: Final = 1
AFFIRMED: Final = 2

Item = tuple[bool, int, list[int]]
_CLAUSE_ENDS: Final = frozenset(";:.()!\n")
_CUE_WORDS: Final = NEG_PRE | NEG_CONTRACTION_HEADS | {"n"}


# A new subject starts a new clause: a negation before it does not reach past it.
_NEW_SUBJECT: Final = frozenset("i you he she we they there ele ela eles elas voce eu".split())
# "denies that she has been …": the clause after these is what is denied.
_DENY_VERBS: Final = frozenset("denies denied deny denying nega negou negando".split())
# "nor does he …", "nor has she …": the subject after the cue and its verb is inverted.
_INVERTING_CUES: Final = frozenset({"nor", "neither"})
INVERSION_REACH: Final = 2
# "i do n't think i've had any tingling": a denied opinion denies its clause.
_RAISING: Final = frozenset("think believe expect suppose acho creio".split())
RAISING_REACH: Final = 4
# Tokens after "if" within which a subject is the condition's own ("if you have …").
CONDITION_SUBJECT: Final = 1
# "i wish i had some weight loss": a wish, like a condition, asserts nothing of its clause.
_CONDITIONS: Final = frozenset("if unless whether wish se caso".split())
# "avoid big pieces of food", "to prevent a fall": what follows is neither said to be
# there nor denied, up to its comma or a new subject.
# "a lengthy discussion in regard to his current symptoms", "after reviewing the
# examination": the topic of a talk or a review is not said to be there or not either.
_UNASSERTING: Final = frozenset(
    """avoid avoiding prevent preventing evitar evite prevenir discuss discussed discussing
    discussion regarding regard regards reviewing""".split()
)
_THAT: Final = frozenset({"that", "que"})
# "has"/"have" assert in a note ("denies fever but has cough"), yet right after a cue they
# are the denied verb itself.
_NEGATED_VERBS: Final = frozenset("has have had having tem teve tinha".split())
NEGATED_VERB_REACH: Final = 3
_CLAUSE_OPENERS: Final = _NEW_SUBJECT | AUXILIARIES | _THAT
# Unpunctuated speech moves on with these ("no fractures so based on what you told me",
# "not missing anything and then maybe some renal artery stenosis",
# "i don't think so because it is the same part", "i'm not too worried about that
# otherwise regular rate and rhythm"): a denial does not reach past them.
# Right after the cue they are what is denied ("not so bad", "not okay").
_SPEECH_BREAKS: Final = frozenset(
    "so because okay ok alright then otherwise now please porque".split()
)
# "you probably do n't because of your diabetes": what a cause names is not denied, right
# after the cue too.
_CAUSES: Final = frozenset({"because", "porque"})
SPEECH_BREAK_AFTER: Final = 2
# "no fever some chills", "no swelling, normal creases, slightly diminished sensation":
# these after a denial start what is there.
_SOME: Final = frozenset(
    "some normal mild mildly slight slightly moderate leve discreto discreta".split()
)
# "no pain with palpation of the elbow", "not doing well with her salt intake": what
# follows "with" in a denial says when or of what the denied finding is, and is neither
# denied nor said to be there, up to the next item, comma or clause.
_QUALIFIERS: Final = frozenset({"with", "com"})
# "no other problems other than my knee": as "except", what follows "other than" is there.
_EXCEPTING: Final = frozenset({"than"})
# "she wasn't sitting by herself a year old": an age is a number (checked as one), not
# a finding a denial could reach or an assertion be denied by.
_AGE_UNITS: Final = frozenset("year years month months week weeks day days ano anos".split())
_AGE_ENDS: Final = frozenset({"old"})
_RELATIVES: Final = frozenset({"what"})
# Every word with a role above: the others take the short path.
_SPECIAL: Final = (
    _CONDITIONS
    | _UNASSERTING
    | _CUE_WORDS
    | _CLAUSE_OPENERS
    | NEG_TERMINATORS
    | _ITEM_SEPARATORS
    | _SPEECH_BREAKS
    | (OWNERS - {"the"})
    | _SOME
    | SAID_AFTER
)
# Frequent words with a role only inside a denial ("the", "to", "are"): read there only.
_IN_DENIAL: Final = frozenset({"the"}) | COPULAS | PREPOSITIONS | DEMONSTRATIVES


def items(
    tokens: Tokens,
    marks: bytearray | None = None,
    parts: list[list[int]] | None = None,
    qualifiers: dict[int, list[int]] | None = None,
    start: int = 0,
    stop: int | None = None,
) -> list[Item]:
    """(negated, cue token or -1, content tokens) for each finding; `marks` (one byte per
    token) gets NEGATED or AFFIRMED on the tokens of each judged finding, and `parts` the
    content tokens of each judged finding, asked or not, and `qualifiers` the content
    tokens after "with" of a denied finding, by the finding's first token. A question
    copied into a note ("any fever or chills? no.") takes its polarity from the answer
    after it; a clause with a new subject after a denial is not judged (its polarity is
    the speaker's, not the finding's).

    `start`/`stop`: only the tokens in that range, as a pass over them alone. Exact where
    the range starts and ends at clause ends (a transcript's sentences, transcript.py),
    for `marks`, `parts` and `qualifiers`: every state below is reset at a clause end."""
    found: list[Item] = []
    negated, cue, judged, clause_of_denial = False, -1, True, False
    hypothetical = False  # "if his symptoms persist, …": nothing asserted until the comma
    qualifying = False  # after "with" in a denial: not judged until the next item
    qualified = -1  # … the first token of the denied finding it qualifies
    avoiding = False  # … or, after "avoid", a new subject
    condition_at = -1  # … or a subject after the condition's own ("if it's okay with you")
    denied_from = 0  # findings before the cue's (its denied clause is the next one)
    reach_from = -1  # a short cue's reach counts from here: the cue, or the list's last item
    current: list[int] = []
    clause_from = 0  # first finding of the current sentence of the note

    def close() -> None:
        # Whatever ends a finding ends a qualifier too: the next item, comma, cue, clause.
        nonlocal current, qualifying
        if current and qualifying and qualified >= 0 and qualifiers is not None:
            qualifiers[qualified] = current
        if current and judged and not qualifying:
            found.append((negated, cue, current))
            if marks is not None:
                mark = NEGATED if negated else AFFIRMED
                for k in current:
                    marks[k] = mark
            if parts is not None:
                parts.append(current)
        current = []
        qualifying = False

    norms, text, starts, ends = tokens.norms, tokens.text, tokens.starts, tokens.ends
    stems, values = tokens.stems, tokens.values
    last = len(norms) if stop is None else stop
    for k in range(start, last):
        word = norms[k]
        gap = text[ends[k - 1] : starts[k]] if k else ""
        if gap != " " and gap:  # most words follow one space: nothing to read there
            if "?" in gap:
                close()
                answer = (
                    "negated" if word in ANSWER_NO else "affirmed" if word in ANSWER_YES else ""
                )
                asked = found[clause_from:]
                del found[clause_from:]
                if answer:
                    found.extend((answer == "negated", -1, m) for _, _, m in asked)
                negated, cue, judged, clause_of_denial = False, -1, True, False
                hypothetical = False
                clause_from = len(found)
            elif not _CLAUSE_ENDS.isdisjoint(gap):
                close()
                negated, cue, judged, clause_of_denial = False, -1, True, False
                hypothetical = False
                clause_from = len(found)
            elif "," in gap:
                close()
                if hypothetical:
                    hypothetical, judged = False, True
        if word in _SPECIAL or (negated and word in _IN_DENIAL):
            if word in _CONDITIONS or word in _UNASSERTING:
                close()
                hypothetical, judged, avoiding = True, False, word in _UNASSERTING
                condition_at = k
                continue
            if word in SAID_AFTER and not negated and said_after(norms, k):
                # "margins were negative", "cushing's syndrome has been ruled out": the
                # finding before its verb is denied; no scope runs on past it.
                if current:
                    negated, cue = True, k
                    close()
                    negated, cue = False, -1
                elif (
                    len(found) > clause_from
                    and not found[-1][0]
                    and k - found[-1][2][-1] <= AFTER_VERB_REACH
                ):
                    found[-1] = (True, k, found[-1][2])  # "has" closed it ("has been")
                    if marks is not None:
                        for j in found[-1][2]:
                            marks[j] = NEGATED
                continue
            if word in _CUE_WORDS and is_neg_cue(norms, k, tokens.portuguese):
                close()
                advised = advice(norms, k)
                if advised >= 0:
                    hypothetical, judged, avoiding = True, False, False
                    negated, cue, condition_at = False, -1, advised
                    continue
                negated, cue, judged = True, k, not hypothetical
                denied_from = len(found)
                if norms[cue] in SHORT_CUES and k + 1 < len(norms) and norms[k + 1] in _HEADS:
                    reach_from = k + 2  # "without evidence of hydronephrosis"
                else:
                    reach_from = k
                clause_of_denial = (
                    word in _DENY_VERBS
                    and k + 1 < len(norms)
                    and (
                        norms[k + 1] in _THAT
                        or norms[k + 1] in _NEW_SUBJECT
                        or pointing(norms, k + 1)
                    )
                )
                continue
            if word in FILLER_HEADS and filler(norms, k):
                continue  # "any further you know work up": no new subject
            if (
                clause_of_denial
                and (word in _CLAUSE_OPENERS or pointing(norms, k))
                and not current
                and len(found) == denied_from
            ):
                # "denies that she has …": the denied clause's own subject, not the next
                # clause's ("i do n't think that we need to … i want you to continue").
                continue
            if word in OWNERS and not (
                negated and opens_clause(tokens, k, gap) and subject(tokens, k)
            ):
                pass  # "no pain in my knee": the finding's own word
            elif (
                word in _NEW_SUBJECT
                or word in OWNERS
                or (word in DEMONSTRATIVES and pointing(norms, k))
            ):
                if negated and norms[k - 1] in _RELATIVES:
                    continue  # "no evidence of what we call hydronephrosis": still denied
                if negated and norms[cue] in _INVERTING_CUES and k - cue <= INVERSION_REACH:
                    continue  # "nor does he put sugar in his tea": still denied
                if negated and _raised(norms, k) and k - cue <= RAISING_REACH:
                    # "i do n't think i've had any tingling": the clause is denied
                    clause_of_denial = True
                    continue
                close()
                if hypothetical and (avoiding or k - condition_at > CONDITION_SUBJECT):
                    # "if it's okay with you i would like to examine you", "avoid spicy
                    # foods i want to see you …": unpunctuated speech's next clause
                    hypothetical = avoiding = False
                # "Denies symptoms I might have missed": the clause is the speaker's, not
                # a finding; after a spoken "no, i have …" it is a new assertion.
                judged = not hypothetical and not (negated and norms[cue] in _DENY_VERBS)
                negated, cue = False, -1
                continue
            if word in COPULAS and negated and k - cue > 1 and not clause_of_denial:
                # "no rales or rhonchi are appreciated on your neck exam": the denied
                # finding has its verb; what follows says where or how, up to a new clause.
                close()
                negated, cue, clause_of_denial = False, -1, False
                hypothetical, judged, avoiding, condition_at = True, False, True, k
                continue
            if word in _NEGATED_VERBS and negated and k - cue <= NEGATED_VERB_REACH:
                continue  # "do n't have any pain", "not had any weight loss": still denied
            if (
                word in _SPEECH_BREAKS
                and negated
                and (k - cue > SPEECH_BREAK_AFTER or word in _CAUSES)
            ):
                close()
                negated, cue, clause_of_denial = False, -1, False
                continue
            if word in _SOME and negated and k - cue > 1:
                close()
                negated, cue, clause_of_denial = False, -1, False
                continue
            if word in NEG_TERMINATORS:
                close()
                negated, cue, judged, clause_of_denial = False, -1, not hypothetical, False
                continue
            if word in PREPOSITIONS and negated and current and judged and not qualifying:
                if prepositional(norms, k, [norms[j] for j in current]):
                    # "no tenderness to palpation", "no problems in rehab": as "with"
                    qualified = current[0]
                    close()
                    qualifying = True
                    continue
            if word in _ITEM_SEPARATORS:
                if negated and word in _ALTERNATIVES and k - reach_from <= SHORT_REACH + 1:
                    reach_from = k  # "without thyromegaly or lymphadenopathy": both
                # The denied finding a qualifier narrows, by its first token.
                qualified = current[0] if current and judged and not qualifying else -1
                close()
                qualifying = negated and word in _QUALIFIERS
                continue
        if negated and k - reach_from > SHORT_REACH and norms[cue] in SHORT_CUES:
            close()
            negated, cue = False, -1
        if word in _EXCEPTING and negated and norms[k - 1] == "other":
            # "nothing other than my typical arthritic pain": what follows is there.
            if current and current[-1] == k - 1:
                current.pop()
            close()
            negated, cue, clause_of_denial = False, -1, False
            continue
        if word in _AGE_ENDS and current and current[-1] == k - 1 and norms[k - 1] in _AGE_UNITS:
            current.pop()  # "a year old", "9-year-old brother": an age, not a finding
            continue
        if stems[k] and k not in values and word not in SIDES:
            current.append(k)
    close()
    if last == len(norms) and tokens.text.rstrip().endswith("?"):
        del found[clause_from:]  # a question with no answer asserts nothing
    return found


def _raised(norms: list[str], k: int) -> bool:
    """Does a denied opinion open the clause at `k` ("i do n't think [that] this is")?"""
    return norms[k - 1] in _RAISING or (norms[k - 1] in _THAT and norms[k - 2] in _RAISING)
