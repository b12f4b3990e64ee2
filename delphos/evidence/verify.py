"""Verify a note against its transcript: every statement gets the transcript sentences
that support it, a support level, and the specific problems found (a number, dose, drug,
side or negation the transcript does not bear out). Pure, deterministic, offline."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from rapidfuzz import fuzz, process

from delphos.evidence.drugs import lexicon, lookup
from delphos.evidence.lexicon import (
    ABBREVIATIONS,
    AMBIGUOUS_SIDES,
    ANSWER_NO,
    ANSWER_YES,
    DOSE_UNITS,
    FREQ_MAX_WORDS,
    FREQUENCIES,
    NEG_TERMINATORS,
    SIDES,
)
from delphos.evidence.models import (
    Evidence,
    Issue,
    SectionName,
    Span,
    Statement,
    Support,
    summarise,
)
from delphos.evidence.statements import split_statements
from delphos.evidence.text import Tokens, number_key, stem, tokenize
from delphos.evidence.transcript import Transcript, index, is_neg_cue

SECTIONS: Final[tuple[SectionName, ...]] = ("subjective", "objective", "assessment", "plan")
# Support: the share of a statement's content words found in its best transcript sentences.
SUPPORTED_AT: Final = 0.5
PARTIAL_AT: Final = 0.25
EVIDENCE_SENTENCES: Final = 3
# Tokens: how close a number must be to the words around it in the note; a dose or a
# frequency to its drug; a side to its body part; the words of one finding to each other.
NUMBER_CONTEXT: Final = 4
NUMBER_REACH: Final = 8
DOSE_REACH: Final = 30
SIDE_REACH: Final = 10
SIDE_CLOSE: Final = 3
PHRASE_REACH: Final = 4
FUZZY_DRUG: Final = 85.0
QUOTE_CHARS: Final = 160
# Articles, not quantities, in a note ("one of", "uma dor").
_ARTICLE_NUMBERS: Final = frozenset({"one", "um", "uma"})
_ITEM_SEPARATORS: Final = frozenset({"or", "and", "nor", "ou", "e", "nem", "with", "com"})
# A new subject starts a new clause: a negation before it does not reach past it.
_NEW_SUBJECT: Final = frozenset(
    "i you he she we they your there it his her this that ele ela eles elas voce".split()
)


@lru_cache(maxsize=8)
def _indexed(text: str) -> Transcript:
    return index(text, lexicon())


def warm_up() -> None:
    """Load the drug dictionary now (seconds), not on the first note."""
    lexicon()


def verify(accumulated_text: str, note: Mapping[str, str]) -> Evidence:
    transcript = _indexed(accumulated_text)
    statements: list[Statement] = []
    for section in SECTIONS:
        text = note.get(section, "") or ""
        for start, end in split_statements(text):
            statements.append(_statement(transcript, section, text, start, end))
    return summarise(statements)


def _gap(tokens: Tokens, k: int) -> str:
    """The characters between token k-1 and token k."""
    return tokens.text[tokens.ends[k - 1] : tokens.starts[k]] if k > 0 else ""


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


@dataclass(slots=True)
class _Check:
    transcript: Transcript
    note: Tokens
    issues: list[Issue]
    consumed: set[int]  # note tokens already judged (a dose's number is not also a number)

    def near(self, stem_word: str, positions: list[int], reach: int) -> bool:
        found = self.transcript.stem_at.get(stem_word)
        if not found:
            return False
        for pos in positions:
            k = bisect_left(found, pos - reach)
            if k < len(found) and found[k] <= pos + reach:
                return True
        return False

    def said(self, pos: int) -> str:
        t = self.transcript
        start, end = t.sentence_span(t.sentence_of[pos])
        return _quote(t.tokens.text[start:end])

    def snippet(self, first: int, last: int) -> str:
        return self.note.text[self.note.starts[first] : self.note.ends[last]]


def _statement(
    transcript: Transcript, section: SectionName, section_text: str, start: int, end: int
) -> Statement:
    text = section_text[start:end]
    tokens = tokenize(text)
    check = _Check(transcript=transcript, note=tokens, issues=[], consumed=set())
    _drugs_and_doses(check)
    _numbers(check)
    _sides(check)
    _negations(check)
    coverage, evidence = _support(transcript, tokens)
    support: Support
    if coverage >= SUPPORTED_AT:
        support = "partial" if check.issues else "supported"
    elif coverage >= PARTIAL_AT:
        support = "partial"
    else:
        support = "unsupported"
    return Statement(
        section=section,
        start=start,
        end=end,
        text=text,
        support=support,
        evidence=evidence,
        issues=check.issues,
    )


# --- support ------------------------------------------------------------------------------


def _support(transcript: Transcript, tokens: Tokens) -> tuple[float, list[Span]]:
    """Greedy cover of the statement's content words by at most three transcript
    sentences; rarer words weigh more (a shared "pain" says less than "lisinopril")."""
    wanted = {s for s in tokens.stems if s and s not in SIDES}
    for values in tokens.values.values():
        wanted.update("#" + number_key(v) for v in values[:1])
    if not wanted:
        return 1.0, []
    sentences = len(transcript.sentences) or 1
    weights: dict[str, float] = {}
    by_sentence: dict[int, set[str]] = {}
    for word in wanted:
        if word.startswith("#"):
            positions = transcript.number_at.get(word[1:], [])
        else:
            positions = transcript.stem_at.get(word, [])
        weights[word] = 1.0 + math.log(1 + sentences / (1 + len(positions)))
        for pos in positions:
            by_sentence.setdefault(transcript.sentence_of[pos], set()).add(word)
    total = sum(weights.values())
    covered: set[str] = set()
    chosen: list[int] = []
    for _ in range(EVIDENCE_SENTENCES):
        best, gain = -1, 0.0
        for sid, words in by_sentence.items():
            g = sum(weights[w] for w in words - covered)
            if g > gain or (g == gain and g > 0 and sid < best):
                best, gain = sid, g
        if best < 0:
            break
        chosen.append(best)
        covered |= by_sentence.pop(best)
    coverage = sum(weights[w] for w in covered) / total
    spans = [Span(start=a, end=b) for a, b in (transcript.sentence_span(s) for s in sorted(chosen))]
    return coverage, spans


# --- drugs, doses, frequencies ---------------------------------------------------------------


def _note_drugs(tokens: Tokens, table: dict[str, str]) -> list[tuple[int, int, str]]:
    """(first token, last token, generic name) of each drug the statement names."""
    found: list[tuple[int, int, str]] = []
    norms = tokens.norms
    i = 0
    while i < len(norms):
        if len(norms[i]) >= 4 or (i + 1 < len(norms) and len(norms[i]) >= 3):
            pair = norms[i] + " " + norms[i + 1] if i + 1 < len(norms) else ""
            if pair and pair in table:
                found.append((i, i + 1, table[pair]))
                i += 2
                continue
            drug = lookup(norms[i], table) if len(norms[i]) >= 4 else None
            if drug is not None:
                found.append((i, i, drug))
        i += 1
    return found


def _dose_after(tokens: Tokens, first: int, last: int, limit: int) -> list[tuple[int, int, str]]:
    """(number token, unit token, unit) of the doses written with a drug: after it
    ("lisinopril 40 mg"), or just before it ("40 mg of lisinopril")."""
    doses: list[tuple[int, int, str]] = []
    for k in range(last + 1, min(limit, last + 7)):
        if k in tokens.values and k + 1 < len(tokens) and tokens.stems[k + 1] in DOSE_UNITS:
            doses.append((k, k + 1, tokens.stems[k + 1]))
    if not doses:
        for k in range(max(0, first - 4), first):
            if k in tokens.values and k + 1 < first and tokens.stems[k + 1] in DOSE_UNITS:
                doses.append((k, k + 1, tokens.stems[k + 1]))
    return doses


def _frequencies(tokens: Tokens, lo: int, hi: int) -> list[tuple[int, int, float]]:
    """Dose frequencies ("twice daily", "every six hours", "de 8 em 8 horas") as times a
    day, numbers written either way."""
    values = tokens.values
    words = [number_key(values[k][0]) if k in values else tokens.norms[k] for k in range(lo, hi)]
    found: list[tuple[int, int, float]] = []
    k = lo
    while k < hi:
        for size in range(min(FREQ_MAX_WORDS, hi - k), 0, -1):
            per_day = FREQUENCIES.get(" ".join(words[k - lo : k - lo + size]))
            if per_day is not None:
                found.append((k, k + size - 1, per_day))
                k += size - 1
                break
        k += 1
    return found


def _transcript_regimen(
    t: Transcript, positions: list[int]
) -> tuple[set[tuple[str, str]], set[float]]:
    """Doses (value, unit or "") and frequencies said within reach of a drug's mentions."""
    doses: set[tuple[str, str]] = set()
    freqs: set[float] = set()
    norms, stems, values = t.tokens.norms, t.tokens.stems, t.tokens.values
    seen: set[int] = set()
    for pos in positions:
        lo, hi = max(0, pos - DOSE_REACH), min(len(norms), pos + DOSE_REACH + 1)
        for k in range(lo, hi):
            if k in seen:
                continue
            seen.add(k)
            found = values.get(k)
            if found is not None:
                # The unit may follow the number word run ("forty milligrams"); a bare
                # number counts only right after the drug ("lisinopril twenty").
                unit = ""
                for j in range(k + 1, min(len(norms), k + 6)):
                    if stems[j]:
                        unit = stems[j] if stems[j] in DOSE_UNITS else ""
                        break
                if unit or pos < k <= pos + 3:
                    for value in found:
                        doses.add((number_key(value), unit))
        for _, _, per_day in _frequencies(t.tokens, lo, hi):
            freqs.add(per_day)
    return doses, freqs


def _fuzzy_mentions(t: Transcript, word: str) -> list[int]:
    """Where the transcript names a drug in another spelling (ASR: "lysinopril")."""
    if len(word) < 5 or not t.vocabulary:
        return []
    match = process.extractOne(word, t.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_DRUG)
    if match is None:
        return []
    return t.stem_at.get(stem(match[0]), [])


def _drugs_and_doses(check: _Check) -> None:
    t, tokens = check.transcript, check.note
    table = lexicon()
    drugs = _note_drugs(tokens, table)
    for n, (first, last, drug) in enumerate(drugs):
        name = check.snippet(first, last)
        positions = t.drug_at.get(drug) or _fuzzy_mentions(t, tokens.norms[first])
        limit = drugs[n + 1][0] if n + 1 < len(drugs) else len(tokens)
        doses = _dose_after(tokens, first, last, limit)
        freqs = _frequencies(tokens, last + 1, min(limit, last + 12))
        if not positions:
            check.issues.append(
                Issue(
                    kind="drug",
                    text=name,
                    message=f'The note names "{name}", which the transcript never mentions.',
                )
            )
            for k, unit_k, _ in doses:
                check.consumed.update((k, unit_k))
            continue
        said_doses, said_freqs = _transcript_regimen(t, positions)
        heard = check.said(positions[0])
        for k, unit_k, unit in doses:
            check.consumed.update((k, unit_k))
            keys = {number_key(v) for v in tokens.values[k]}
            if any((key, unit) in said_doses or (key, "") in said_doses for key in keys):
                continue
            dose = check.snippet(k, unit_k)
            check.issues.append(
                Issue(
                    kind="dose",
                    text=dose,
                    message=f'The note gives {name} as "{dose}"; the transcript does not say '
                    f'that dose for it (it says: "{heard}").',
                )
            )
        for k0, k1, per_day in freqs:
            for k in range(k0, k1 + 1):
                check.consumed.add(k)
            if per_day in said_freqs:
                continue
            words = check.snippet(k0, k1)
            check.issues.append(
                Issue(
                    kind="dose",
                    text=words,
                    message=f'The note gives {name} "{words}"; the transcript does not say '
                    f'that frequency for it (it says: "{heard}").',
                )
            )


# --- numbers ----------------------------------------------------------------------------------


def _numbers(check: _Check) -> None:
    t, tokens = check.transcript, check.note
    for k, values in sorted(tokens.values.items()):
        if k in check.consumed or tokens.norms[k] in _ARTICLE_NUMBERS:
            continue
        keys = [number_key(v) for v in values]
        positions = sorted(p for key in keys for p in t.number_at.get(key, []))
        shown = check.snippet(k, k)
        if not positions:
            check.issues.append(
                Issue(
                    kind="number",
                    text=shown,
                    message=f'The note says "{shown}"; the transcript never states this number.',
                )
            )
            continue
        lo, hi = max(0, k - NUMBER_CONTEXT), min(len(tokens), k + NUMBER_CONTEXT + 1)
        # Only words the transcript uses can place a number ("BP" is never said).
        context = [
            w
            for j in range(lo, hi)
            for w in ABBREVIATIONS.get(tokens.norms[j], (tokens.stems[j],))
            if w and w in t.stem_at
        ]
        if not context or any(check.near(w, positions, NUMBER_REACH) for w in context):
            continue
        words = check.snippet(lo, hi - 1)
        check.issues.append(
            Issue(
                kind="number",
                text=shown,
                message=f'The note says "{words}"; the transcript states {shown} only '
                f'elsewhere (e.g. "{check.said(positions[0])}").',
            )
        )


# --- laterality -----------------------------------------------------------------------------


def _sides(check: _Check) -> None:
    t, tokens = check.transcript, check.note
    said_anywhere = {side for _, side in t.side_at}
    for k, word in enumerate(tokens.norms):
        side = SIDES.get(word)
        if side is None:
            continue
        lo, hi = max(0, k - 2), min(len(tokens), k + 4)
        anchors = [tokens.stems[j] for j in range(lo, hi) if j != k and tokens.stems[j]]
        anchors = [a for a in anchors if a not in SIDES]
        if not anchors and word in AMBIGUOUS_SIDES:
            continue  # "all right", "right now": not a side
        positions = sorted(p for a in anchors for p in t.stem_at.get(a, []))
        quote = ""
        for reach in (SIDE_CLOSE, SIDE_REACH):
            near = t.sides_near(positions, reach) if positions else set()
            if near:
                if side in near or "B" in near or (side == "B" and {"L", "R"} <= near):
                    quote = "ok"
                else:
                    quote = check.said(positions[0])
                break
        if quote == "ok" or (not quote and (side in said_anywhere or "B" in said_anywhere)):
            continue
        shown = check.snippet(lo, hi - 1)
        message = f'The note says "{shown}"; '
        message += (
            f'the transcript gives the other side ("{quote}").'
            if quote
            else "the transcript never names that side."
        )
        check.issues.append(
            Issue(kind="laterality", text=tokens.norms and check.snippet(k, k), message=message)
        )


# --- negation -------------------------------------------------------------------------------


def _items(tokens: Tokens) -> list[tuple[bool, int, list[int]]]:
    """(negated in the note, cue token or -1, content tokens) for each finding: a run of
    content words between separators. A negation cue scopes forward over a list until a
    terminator ("but", "reports", a new subject, ";"). A question copied into a note
    ("any fever or chills? no.") takes its polarity from the answer after it."""
    items: list[tuple[bool, int, list[int]]] = []
    negated, cue = False, -1
    current: list[int] = []
    clause_from = 0  # first item of the current sentence of the note

    def close() -> None:
        nonlocal current
        if current:
            items.append((negated, cue, current))
        current = []

    norms = tokens.norms
    for k, word in enumerate(norms):
        gap = tokens.text[tokens.ends[k - 1] : tokens.starts[k]] if k else ""
        if "?" in gap:
            close()
            answer = "negated" if word in ANSWER_NO else "affirmed" if word in ANSWER_YES else ""
            asked = items[clause_from:]
            del items[clause_from:]
            if answer:
                items.extend((answer == "negated", -1, m) for _, _, m in asked)
            negated, cue = False, -1
            clause_from = len(items)
        elif any(c in gap for c in ";:.()"):
            close()
            negated, cue = False, -1
            clause_from = len(items)
        elif "," in gap:
            close()
        if is_neg_cue(norms, k, tokens.portuguese):
            close()
            negated, cue = True, k
            continue
        if word in NEG_TERMINATORS or word in _NEW_SUBJECT:
            close()
            negated, cue = False, -1
            continue
        if word in _ITEM_SEPARATORS:
            close()
            continue
        if tokens.stems[k] and k not in tokens.values and word not in SIDES:
            current.append(k)
    close()
    if tokens.text.rstrip().endswith("?"):
        del items[clause_from:]  # a question with no answer asserts nothing
    return items


def _negations(check: _Check) -> None:
    t, tokens = check.transcript, check.note
    for negated, cue, members in _items(tokens):
        # Words the transcript never uses ("alta" in "febre alta") cannot place a finding;
        # the others can.
        stems = [tokens.stems[k] for k in members if tokens.stems[k] in t.stem_at]
        postings = [t.stem_at.get(s) for s in stems]
        if not stems:
            continue
        rare = min(range(len(stems)), key=lambda n: len(postings[n] or []))
        others = [s for n, s in enumerate(stems) if n != rare]
        polarities: set[str] = set()
        example = -1
        for pos in postings[rare] or []:
            if others and not all(check.near(s, [pos], PHRASE_REACH) for s in others):
                continue
            lo = pos
            if others:
                for s in others:
                    found = t.stem_at[s]
                    j = bisect_left(found, pos - PHRASE_REACH)
                    lo = min(lo, found[j])
            polarity = t.polarity(lo, pos)
            if polarity != "unknown":
                polarities.add(polarity)
                if example < 0 or (polarity != "negated") == negated:
                    example = pos
            if len(polarities) == 2:
                break
        if len(polarities) != 1:
            continue
        said_negated = "negated" in polarities
        if said_negated == negated:
            continue
        first = cue if negated and cue >= 0 else members[0]
        shown = check.snippet(first, members[-1])
        heard = check.said(example)
        if negated:
            message = f'The note denies "{shown}", but the transcript affirms it: "{heard}".'
        else:
            message = f'The note asserts "{shown}", but the transcript denies it: "{heard}".'
        check.issues.append(Issue(kind="negation", text=shown, message=message))
