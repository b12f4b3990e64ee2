"""The note prompt shared by the LLM engines, laid out so providers can cache its prefix.

A consultation is regenerated many times as it grows: each request carries the whole
text so far. Everything that does not change from one request to the next comes first
and stays byte-identical (the system prompt, then the instruction), and the transcript
comes last, so the previous request is a prefix of the next one. OpenAI and vLLM cache
such prefixes by themselves; Anthropic caches up to the blocks a request marks, so
:func:`prompt_pieces` also cuts the message into pieces at turn boundaries (see there).
"""

from __future__ import annotations

import re

SYSTEM_PROMPT = """\
You are a clinical documentation assistant. From a consultation transcript or a \
clinician's notes you write a SOAP note.

Answer with ONE JSON object and nothing else: no code fence, no prose before or after. \
It has exactly four string keys in this order: "subjective", "objective", "assessment", \
"plan".
- subjective: the patient's complaints, symptoms, history and what they deny.
- objective: vital signs, measurements, examination and test results.
- assessment: the clinician's impressions and diagnoses.
- plan: treatment, prescriptions with dose and frequency, orders, referrals, follow-up.

Rules:
- Write in the language of the transcript (Portuguese stays Portuguese).
- Use only what the transcript says. Never add a number, vital sign, drug, dose, \
diagnosis or finding that is not in it. A section with nothing to say is "".
- Be concise and clinical; plain text inside each string (newlines allowed).
"""

# The user message is INSTRUCTION + transcript + CLOSING: the instruction before the
# transcript so that it is part of the stable prefix.
INSTRUCTION = "Write the SOAP note JSON for this consultation.\n\n<transcript>\n"
CLOSING = "\n</transcript>"

# A piece is sealed at a turn boundary once it holds at least this many characters, so a
# run of one-word turns ("mm-hmm .") does not become a run of tiny pieces.
MIN_PIECE_CHARS = 80
# Text without line breaks (a clinician's running notes) is cut after a sentence instead,
# once the open piece is this long.
LONG_PIECE_CHARS = 1000

# A turn boundary is a line break; in running text, a sentence's end. Pieces are cut
# *before* the separator (each piece but the first starts with its "\n" or " "), so that
# the end of the text, where the next turn will be appended, is a boundary too.
_BOUNDARY = re.compile(r"\n|(?<=[.?!]) ")


def user_message(transcript: str) -> str:
    return f"{INSTRUCTION}{transcript}{CLOSING}"


def sealed_pieces(transcript: str) -> tuple[list[str], str]:
    """The transcript as sealed pieces and an open tail (their concatenation is the text).

    Cuts fall before a line break (a turn boundary) or, once the open piece is
    :data:`LONG_PIECE_CHARS` long, before the space after a sentence; the end of the text
    is a cut too, judged as a line break if the text has any (turns are appended after a
    line break), as a sentence otherwise. A piece is sealed only when it holds
    :data:`MIN_PIECE_CHARS` and some non-blank text. Each cut is decided from the text
    before it alone, scanning from the start, so **the pieces of a text are the first
    pieces of every longer text made by appending turns (or sentences) to it**: the
    previous request's pieces recur byte for byte in the next request. A last turn that
    the client later extends or revises costs only its own piece. Linear in the length.
    """
    pieces: list[str] = []
    start = 0
    size = len(transcript)
    running_text = "\n" not in transcript
    ends = (m.start() for m in _BOUNDARY.finditer(transcript))
    for end in (*ends, size):
        at_sentence = transcript[end] == " " if end < size else running_text
        if at_sentence and end - start < LONG_PIECE_CHARS:
            continue
        piece = transcript[start:end]
        if len(piece) >= MIN_PIECE_CHARS and not piece.isspace():
            pieces.append(piece)
            start = end
    return pieces, transcript[start:]


def prompt_pieces(transcript: str) -> tuple[list[str], str]:
    """The user message as stable pieces (the instruction, then the transcript's sealed
    pieces) and the open last piece (the transcript's tail and the closing tag).

    ``"".join(stable) + last == user_message(transcript)``: the message carries the same
    text whether or not it is cut.
    """
    sealed, tail = sealed_pieces(transcript)
    return [INSTRUCTION, *sealed], f"{tail}{CLOSING}"
