"""The text of a streamed chat-completions chunk, without decoding all of it when its shape
is the plain one.

At 500 streams the worker reads 25,000 chunks a second, each ~250 bytes of JSON of which
the note needs one short string (``choices[0].delta.content``): ``json.loads`` of the
whole was the largest single cost after the HTTP reading (bench/streams.py). A chunk of
the plain shape is recognised by a pattern that accepts only valid JSON whose decoding
holds exactly that text, no ``error`` and no usage (so skipping the decode changes
nothing); and once one chunk of a stream has matched, the next ones usually differ from it
only in the text (same id, model, fingerprint), which a prefix and suffix comparison
shows. Anything else (another field order, more choices, a usage report, an error) is
for ``json.loads``, as before.
"""

from __future__ import annotations

import json
import re

# A JSON scalar; strings without escapes (an escaped one is for json.loads).
_SCALAR = r'(?:"[^"\\\x00-\x1f]*"|-?(?:0|[1-9][0-9]*)|null|true|false)'
# A top-level member other than the ones that decide anything (error, choices, usage).
_PAIR = r'"(?!error"|choices"|usage")[^"\\\x00-\x1f]*":' + _SCALAR
# A JSON string's body, escapes included: group 1 is the text, still escaped.
_TEXT = r'((?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*)'
_PLAIN = re.compile(
    r"\{(?:" + _PAIR + r",)*"
    r'"choices":\[\{"index":0,"delta":\{(?:"role":"assistant",)?"content":"' + _TEXT + r'"\}'
    r'(?:,"logprobs":null)?,"finish_reason":null\}\]'
    r'(?:,"usage":null)?(?:,' + _PAIR + r")*\}"
)


class ChunkText:
    """One stream's chunks: :meth:`text` of each, or None when it needs a full decode."""

    def __init__(self) -> None:
        # What surrounded the text in the last plain chunk ("" before one).
        self._head = ""
        self._tail = ""

    @property
    def frame(self) -> tuple[str, str]:
        """What surrounded the text in the last plain chunk: single-line JSON without a
        raw control character (the pattern admits none), or ("", "") before one."""
        return self._head, self._tail

    def text(self, data: str) -> str | None:
        """The chunk's ``choices[0].delta.content`` when the chunk is of the plain shape
        (then it says nothing else that matters), else None."""
        head, tail = self._head, self._tail
        if (
            head
            and len(data) >= len(head) + len(tail)
            and data.startswith(head)
            and data.endswith(tail)
        ):
            middle = string_body(data[len(head) : len(data) - len(tail)])
            # A JSON string's body: the chunk is the last plain one with another text,
            # hence plain too.
            if middle is not None:
                return middle
        match = _PLAIN.fullmatch(data)
        if match is None:
            return None
        start, end = match.span(1)
        self._head, self._tail = data[:start], data[end:]
        raw = match.group(1)
        return json.loads(f'"{raw}"') if "\\" in raw else raw


def string_body(body: str) -> str | None:
    """What ``body`` says as the inside of a JSON string (between its quotes), or None when
    it is not one: has an unescaped quote, a bad escape or a raw control character.

    Most bodies have no escape at all and are their own text. About one delta in ten of a
    note has one (a line break is ``\\n``, a quote ``\\"``): ``json.loads`` of the body
    quoted decodes and checks it in one step, where those chunks were matched whole
    against the pattern again (a read of one: ~2 us instead of ~7, in isolation). An
    unescaped quote ends the string early and leaves "extra data", which ``json.loads``
    refuses, as it refuses a raw control character (its strict default)."""
    if '"' not in body and "\\" not in body and body.isprintable():
        return body
    try:
        text = json.loads(f'"{body}"')
    except ValueError:
        return None
    return text if isinstance(text, str) else None


def framed_text(raw: bytes, head: bytes, tail: bytes) -> str | None:
    """The text of a network read made only of whole events of the plain shape framed as
    the last plain one was (``head``, a JSON string's body, ``tail``), the texts of
    several joined; None for anything else (for the general path, which decodes it).

    A JSON string holds no raw line break and ``tail`` ends an event with two, so a body
    without one is one event's, and the bodies of several are cut apart where one
    event's ``tail`` meets the next one's ``head``; every piece is checked all the same
    (:func:`string_body`). Several events come in one read when the event loop was busy
    (the engines join their texts: one delta downstream, see lean_http)."""
    skip = len(head)
    if len(raw) < skip + len(tail) or not raw.startswith(head) or not raw.endswith(tail):
        return None
    try:
        body = raw[skip : len(raw) - len(tail)].decode()
    except UnicodeDecodeError:
        return None  # the general path replaces what is not UTF-8
    if "\n" not in body:
        return string_body(body)  # one event: nearly every read
    texts: list[str] = []
    for piece in body.split((tail + head).decode()):
        text = string_body(piece)
        if text is None:
            return None
        texts.append(text)
    return "".join(texts)
