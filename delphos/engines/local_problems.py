"""Problem-oriented assessment and plan: find where the clinician announces a problem.

Clinicians who dictate an assessment and plan often walk through it problem by problem:
"for your first problem, your back pain, I think …", "number two, your diabetes, …",
"segundo problema, hipertensão: …", or, once the plan has started, "for your migraines,
let's continue …". Each announcement opens a problem; the words after the announcing
phrase up to the first pause name it ("back pain"). The engine then writes the naming
clause and its impression in the Assessment and gathers the problem's orders in the Plan
under the problem's name, both copied from the transcript: nothing is added but the colon
that makes the name a heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from delphos.engines.local_segment import Span

# An ordinal announcement anywhere in a sentence ("… so, for your first problem, …").
_ORDINAL = re.compile(
    r"\b(?:(?:for|with|regarding|as for|on|to)\s+)?(?:(?:your|the|his|her|our|my)\s+)?"
    r"(?:first|second|third|fourth|fifth|sixth|next|last|final|1st|2nd|3rd|4th|5th)\s+"
    r"(?:problem|issue|diagnosis|concern)(?:\s+(?:is|was))?\b"
    r"|\b(?:problem|issue)\s+number\s+(?:one|two|three|four|five|six|[1-6])\b"
    r"|(?<![\w'-])number\s+(?:one|two|three|four|five|six|[1-6])\s*[,:.](?=\s)"
    r"|\b(?:(?:quanto|em rela[cç][aã]o)\s+(?:ao|[aà])\s+)?"
    r"(?:primeiro|segundo|terceiro|quarto|quinto|pr[oó]ximo|[uú]ltimo|outro)\s+"
    r"(?:problema|diagn[oó]stico|ponto)(?:\s+[eé])?\b"
    r"|\bproblema\s+(?:n[uú]mero\s+)?(?:um|dois|tr[eê]s|quatro|cinco|[1-6])\b",
    re.IGNORECASE,
)
_MAY_ANNOUNCE = re.compile(r"problem|issue|number|diagnos|concern|ponto")
# "for your migraines, …" at the start of a sentence in the assessment and plan: the
# topic before the comma is the problem (only when it names a condition, checked by the
# caller).
_TOPIC = re.compile(
    r"(?:(?:and|so|now|okay|ok|alright|then|also|e|ent[aã]o|agora)[\s,]+)*"
    r"(?:for|regarding|with regards? to|in regards? to|as for|as far as|in terms of|"
    r"quanto (?:ao|[aà])|em rela[cç][aã]o (?:ao|[aà])|sobre (?:o|a))\s+",
    re.IGNORECASE,
)
# "from a depression standpoint, …": the topic is named before the announcing word.
_STANDPOINT = re.compile(
    r"(?:(?:and|so|now|okay|ok|alright|then|also)[\s,]+)*from (?:a|an|the|your) "
    r"(?P<name>[^\W\d_][\w'-]*(?: [^\W\d_][\w'-]*){0,3}?) "
    r"(?:standpoint|perspective|point of view)\b[\s,]*",
    re.IGNORECASE,
)
# Between the announcement and the name: pauses, fillers, a second "for your".
_BRIDGE = re.compile(
    r"(?:[\s,;:\-]+|\b[^\W\d_]+-(?=\s)|\b(?:um+|uh+|so|and|is|was|for|with|of|regarding|your|the|his|her|"
    r"that's|that is|which is|é|e|o|a|de|do|da|com|seu|sua)\b)*",
    re.IGNORECASE,
)
# Words that end a problem's name: the clause about it has started.
_NAME_STOP: Final = frozenset(
    "i i'm i've i'd i'll we we're we'll we've you you're you've it it's that that's this "
    "there there's let's so which is are was were has have had looks seems sounds um uh "
    "okay ok and but because we'd he she he's she's eu nós nos vamos vou está esta é foi "
    "tem parece que mas".split()
)
_NAME_MAX_WORDS: Final = 6
_PROBLEM_WORDS: Final = frozenset("problem issue concern diagnosis problema".split())
_WORD = re.compile(r"[^\s,;:.!?]+")


@dataclass(frozen=True, slots=True)
class Announcement:
    """A problem announced in a sentence: the announcing phrase and the problem's name."""

    start: int  # where the announcing phrase starts
    end: int  # where it ends
    name: Span | None  # the name's words ("back pain"), when the clinician says one
    ordinal: bool  # "first problem", "number two": no doubt it announces a problem


def find_problem(text: str, start: int, end: int, in_plan: bool) -> Announcement | None:
    """The problem announced in ``text[start:end]``, if any.

    An ordinal ("first problem", "number two,") counts anywhere; a topic ("for your
    migraines, …", "from a depression standpoint, …") only at the start of a sentence of
    the assessment and plan, and only if it names a condition (checked by the caller).
    """
    sentence = text[start:end].lower()
    # A cheap screen first: the regular expression is tried only where it can match.
    found = list(_ORDINAL.finditer(text, start, end)) if _MAY_ANNOUNCE.search(sentence) else []
    if found:
        # "for your second problem for, I know …, so for your second problem, your
        # hypertension": the announcement that names the problem counts.
        named = [
            (m, name)
            for m in found
            if (name := _name(text, m.end(), end)) is not None
            # "the first diagnosis, the first problem of the lung cancer": not a name.
            and _PROBLEM_WORDS.isdisjoint(text[name[0] : name[1]].lower().split())
        ]
        first = found[0]
        if not named:
            # "from a depression standpoint, it's, your first problem, …"
            before = _STANDPOINT.match(text, start, first.start())
            if before is not None:
                return Announcement(start, first.end(), before.span("name"), True)
            return Announcement(first.start(), first.end(), None, True)
        match, name = named[0]
        # What lies between a nameless first try and the named one is left out.
        return Announcement(first.start(), match.end(), name, True)
    if not in_plan:
        return None
    standpoint = _STANDPOINT.match(text, start, end)
    if standpoint is not None:
        return Announcement(start, standpoint.end(), standpoint.span("name"), False)
    topic = _TOPIC.match(text, start, end)
    if topic is None:
        return None
    name = _name(text, topic.end(), end, need_pause=True)
    if name is None:
        return None
    if text[name[0] : name[1]].split()[-1].lower() in _PROBLEM_WORDS:
        # "for your last ish issue, your epilepsy, …": an announcement after all.
        return Announcement(topic.start(), name[1], _name(text, name[1], end), True)
    return Announcement(topic.start(), topic.end(), name, False)


def _name(text: str, start: int, end: int, need_pause: bool = False) -> Span | None:
    bridge = _BRIDGE.match(text, start, end)
    position = bridge.end() if bridge is not None else start
    first: int | None = None
    last = position
    count = 0
    for word in _WORD.finditer(text, position, end):
        if text[last : word.start()].strip():
            break  # a comma or a stop mark lies between: the name ended
        if word.group().lower() in _NAME_STOP or count >= _NAME_MAX_WORDS:
            if need_pause:
                return None
            break
        if first is None:
            first = word.start()
        last = word.end()
        count += 1
    if first is None:
        return None
    if need_pause and text[last:end].lstrip()[:1] not in (",", ":", ";"):
        return None  # "for your knee pain , …" (ASR spaces the comma)
    return (first, last)
