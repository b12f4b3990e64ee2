"""Incremental parser for the SOAP JSON object an engine streams as small text deltas.

The engine writes ONE object ``{"subjective": "...", "objective": "...", "assessment": "...",
"plan": "..."}`` a few characters at a time. The parser is a reducer over those deltas: each
``feed`` looks only at the new delta (plus at most a few carried-over characters of an
unfinished escape or token), so a whole note costs time linear in its length, and at any
moment it knows which sections are complete and the text of the one being written.

Why it is shaped the way it is:

- Inside a section string (where almost all deltas land) ``feed`` is a few C-level checks and
  a list append. String contents are kept *raw* (still JSON-escaped) as chunks that always end
  on an escape boundary; they are decoded with the C JSON string decoder only when somebody
  reads the text, and only the chunks added since the previous read.
- An escape split across deltas (``\\`` | ``u00e9``, or a surrogate pair cut anywhere) is carried
  over to the next delta, so the text read at any time is always a prefix of the final text
  and never ends in half a character.
- A lone UTF-16 surrogate escape becomes U+FFFD: Python would otherwise hold a surrogate that
  UTF-8 cannot encode, and the SSE writer would fail later, far from the cause.
- Raw control characters inside strings (a literal newline) are accepted, as Python's
  ``json.loads(strict=False)`` does: models do emit them and the text is still unambiguous.
"""

from __future__ import annotations

import re
from _json import scanstring as _c_scanstring  # the C decoder behind json.loads; typed
from typing import Final

from delphos.records import SECTION_KEYS, SHORT, SectionKey, SoapNote


class SoapOutputError(ValueError):
    """The engine output is not a usable SOAP JSON object.

    Messages are fixed text written here: they never quote the model output, which holds
    patient data.
    """


# Parser states. The hot state (inside a section string) is 0 so ``feed`` can test it with a
# bare truth test, the cheapest check CPython has.
_STR_SEC: Final = 0  # inside a string whose text belongs to a section
_STR_SKIP: Final = 1  # inside a string that is ignored (unknown key's value, nested key)
_STR_KEY: Final = 2  # inside a top-level key
_STR_CARRY: Final = 3  # inside a string, an unfinished escape carried from the last delta
_PRE: Final = 4  # before the first "{": prose or a code fence to skip
_OBJ_FIRST: Final = 5  # after "{": a key or "}"
_OBJ_KEY: Final = 6  # after "," in an object: a key
_COLON: Final = 7  # after a key: ":"
_VALUE: Final = 8  # after ":" or after "," in an array: a value
_ARR_FIRST: Final = 9  # after "[": a value or "]"
_AFTER: Final = 10  # after a value: "," or the closing bracket
_NUMBER: Final = 11
_LITERAL: Final = 12  # true / false / null
_DONE: Final = 13  # the top-level object closed; the rest of the output is ignored
_FAILED: Final = 14

# A run of string content that can be decoded on its own: plain characters and COMPLETE
# escapes. Surrogate escapes are only taken as a full high+low pair, so a chunk never ends
# in the middle of a character. The match stops at the closing quote, at an escape cut by the
# end of the delta, or at an escape that is invalid or a lone surrogate.
_STR_RUN: Final = re.compile(
    r'(?:[^"\\]+'
    r'|\\["\\/bfnrt]'
    r"|\\u(?![dD][89a-fA-F])[0-9a-fA-F]{4}"
    r"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})*"
)
# What may legitimately be left at the end of a delta: the start of an escape, possibly a
# complete high surrogate waiting for its low half.
_ESC_PARTIAL: Final = re.compile(
    r"\\(?:u(?:[0-9a-fA-F]{0,3}"
    r"|[dD][89abAB][0-9a-fA-F]{2}(?:\\(?:u(?:[dD](?:[c-fC-F][0-9a-fA-F]?)?)?)?)?))?\Z"
)
_LONE_SURROGATE: Final = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_REPLACEMENT_RAW: Final = "\\ufffd"  # U+FFFD, still escaped: chunks are raw JSON text
_NEWLINE_RAW: Final = "\\n"  # joins the strings of an array-valued section

_WS: Final = re.compile(r"[ \t\r\n]+")
_WS_CHARS: Final = " \t\r\n"
_NUM_RUN: Final = re.compile(r"[0-9+\-.eE]*")
_NUMBER_RE: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS: Final = {"t": "true", "f": "false", "n": "null"}

# Bounds on what is held back between deltas, so memory and per-delta work stay bounded
# whatever the model writes. Keys longer than this cannot be a section name anyway.
_MAX_KEY_RAW: Final = 64
_MAX_NUMBER: Final = 256

_KEY_NAMES: Final[dict[str, SectionKey]] = {
    **{k: k for k in SECTION_KEYS},
    **{SHORT[k]: k for k in SECTION_KEYS},
}


def _decode(raw: str) -> str:
    """Decode raw JSON string content made of complete escapes."""
    if "\\" not in raw:
        return raw
    # Appending the closing quote lets the C decoder do the whole job; strict=False admits
    # raw control characters (see the module docstring).
    return _c_scanstring(raw + '"', 0, False)[0]


class SoapStreamParser:
    """Reducer over the deltas of one streamed SOAP JSON object. Not thread-safe."""

    __slots__ = (
        "_arr_count",
        "_arr_key",
        "_carry",
        "_chunks",
        "_complete",
        "_cur",
        "_current",
        "_done_changes",
        "_key",
        "_key_len",
        "_key_raw",
        "_literal",
        "_role",
        "_scalar_target",
        "_stack",
        "_started",
        "_state",
        "_str_is_key",
        "_text",
        "_tok",
    )

    def __init__(self) -> None:
        self._state: int = _PRE
        # Container stack of the JSON being read: True for an object, False for an array.
        self._stack: list[bool] = []
        # Per section: raw (escaped) chunks not decoded yet, and the text decoded so far.
        self._chunks: dict[SectionKey, list[str]] = {k: [] for k in SECTION_KEYS}
        self._text: dict[SectionKey, str] = dict.fromkeys(SECTION_KEYS, "")
        self._complete: dict[SectionKey, bool] = dict.fromkeys(SECTION_KEYS, False)
        # Counts writes to `_complete`: unchanged, completeness is unchanged (a caller
        # checking it per delta compares one int, not a copy of the dict).
        self._done_changes = 0
        self._cur: list[str] = []  # chunk list the hot path appends to
        self._current: SectionKey | None = None
        self._key: SectionKey | None = None  # section of the last top-level key read
        self._arr_key: SectionKey | None = None  # section whose value is the open array
        self._arr_count = 0  # elements seen in that array (for the "\n" joins)
        self._scalar_target = False  # the number/literal being read belongs to a section
        self._str_is_key = False
        self._role: int = _STR_SKIP  # string state to resume after a carried escape
        self._carry = ""
        self._key_raw: list[str] = []
        self._key_len = 0
        self._tok = ""
        self._literal = ""
        self._started = False

    # ----------------------------------------------------------------- feeding

    def feed(self, delta: str) -> bool:
        """Consume one delta; True if a section's text grew, a section completed, or the
        object closed. Raises SoapOutputError on invalid JSON (and on every later call)."""
        # Hot path: inside a section string with no quote or backslash in the delta, the delta
        # is section text as is.
        if not self._state and '"' not in delta and "\\" not in delta:
            if delta:
                self._cur.append(delta)
                return True
            return False
        return self._feed_slow(delta)

    def _feed_slow(self, delta: str) -> bool:
        state = self._state
        if state == _STR_SEC or (state == _STR_CARRY and self._role == _STR_SEC):
            # Second-hottest path: section text with escapes ("\n" between paragraphs) and
            # no closing quote. One regex match; anything else goes to the general loop,
            # which starts again from the untouched state.
            s = self._carry + delta if state else delta
            j = _STR_RUN.match(s).end()  # type: ignore[union-attr]  # "*" always matches
            if j == len(s):
                self._carry = ""
                self._state = _STR_SEC
                self._cur.append(s)
                return True
            if s[j] == "\\" and _ESC_PARTIAL.match(s, j):
                if j:
                    self._cur.append(s[:j])
                self._carry = s[j:]
                self._role = _STR_SEC
                self._state = _STR_CARRY
                return j > 0
        if state == _FAILED:
            raise SoapOutputError("The model output was already found not to be valid JSON")
        if state == _DONE or not delta:
            return False
        try:
            return self._run(delta)
        except SoapOutputError:
            self._state = _FAILED
            raise

    def _run(self, s: str) -> bool:
        changed = False
        if self._state == _STR_CARRY:
            s = self._carry + s
            self._carry = ""
            self._state = self._role
        i = 0
        n = len(s)
        while i < n:
            st = self._state
            if st <= _STR_KEY:
                j = _STR_RUN.match(s, i).end()  # type: ignore[union-attr]  # "*" always matches
                if j > i:
                    if st == _STR_SEC:
                        self._cur.append(s[i:j])
                        changed = True
                    elif st == _STR_KEY:
                        self._key_piece(s[i:j])
                if j == n:
                    return changed
                if s[j] == '"':
                    i = j + 1
                    changed = self._end_string(st) or changed
                    continue
                # A backslash the run could not take: cut by the delta's end, lone, or invalid.
                if _ESC_PARTIAL.match(s, j):
                    self._carry = s[j:]
                    self._role = st
                    self._state = _STR_CARRY
                    return changed
                if _LONE_SURROGATE.match(s, j):
                    if st == _STR_SEC:
                        self._cur.append(_REPLACEMENT_RAW)
                        changed = True
                    elif st == _STR_KEY:
                        self._key_piece(_REPLACEMENT_RAW)
                    i = j + 6
                    continue
                raise SoapOutputError("The model output has an invalid escape in a string")
            if st == _PRE:
                j = s.find("{", i)
                if j < 0:
                    return changed
                self._stack.append(True)
                self._state = _OBJ_FIRST
                i = j + 1
            elif st == _NUMBER:
                j = _NUM_RUN.match(s, i).end()  # type: ignore[union-attr]  # "*" always matches
                self._tok += s[i:j]
                if len(self._tok) > _MAX_NUMBER:
                    raise SoapOutputError("The model output has an overlong number")
                if j == n:
                    return changed
                i = j
                if not _NUMBER_RE.fullmatch(self._tok):
                    raise SoapOutputError("The model output has an invalid number")
                changed = self._end_scalar(self._tok) or changed
            elif st == _LITERAL:
                want = self._literal
                have = len(self._tok)
                piece = s[i : i + len(want) - have]
                if piece != want[have : have + len(piece)]:
                    raise SoapOutputError("The model output has an invalid literal")
                self._tok += piece
                i += len(piece)
                if len(self._tok) == len(want):
                    changed = self._end_scalar(want) or changed
            elif st == _DONE:
                return changed
            else:
                c = s[i]
                if c in _WS_CHARS:
                    i = _WS.match(s, i).end()  # type: ignore[union-attr]  # c is whitespace
                    continue
                i += 1
                changed = self._structural(st, c) or changed
        return changed

    def _structural(self, st: int, c: str) -> bool:
        """One non-whitespace character outside strings, numbers and literals."""
        if st == _AFTER:
            in_object = self._stack[-1]
            if c == ",":
                self._state = _OBJ_KEY if in_object else _VALUE
                return False
            if c == ("}" if in_object else "]"):
                self._stack.pop()
                return self._value_done()
        elif st == _VALUE or st == _ARR_FIRST:
            if c == "]" and st == _ARR_FIRST:
                self._stack.pop()
                return self._value_done()
            return self._start_value(c)
        elif st == _COLON:
            if c == ":":
                self._state = _VALUE
                return False
        elif st == _OBJ_FIRST or st == _OBJ_KEY:
            if c == '"':
                self._str_is_key = True
                if len(self._stack) == 1:
                    self._key_raw.clear()
                    self._key_len = 0
                    self._state = _STR_KEY
                else:
                    self._state = _STR_SKIP
                return False
            if c == "}" and st == _OBJ_FIRST:
                self._stack.pop()
                return self._value_done()
        raise SoapOutputError("The model output is not valid JSON")

    def _start_value(self, c: str) -> bool:
        changed = False
        depth = len(self._stack)
        direct: SectionKey | None = None  # this value IS a section's value
        element = False  # this value is an element of a section's array
        if depth == 1 and self._key is not None:
            direct = self._key
            self._begin_section(direct)
        elif depth == 2 and self._arr_key is not None:
            element = True
        if element and c != "{" and c != "[":
            # Each scalar element is one line of the section: "\n".join semantics.
            if self._arr_count:
                self._cur.append(_NEWLINE_RAW)
                changed = True
            self._arr_count += 1
        if c == '"':
            self._str_is_key = False
            self._state = _STR_SEC if (direct is not None or element) else _STR_SKIP
        elif c == "{":
            self._stack.append(True)
            self._state = _OBJ_FIRST
        elif c == "[":
            self._stack.append(False)
            self._state = _ARR_FIRST
            if direct is not None:
                self._arr_key = direct
                self._arr_count = 0
        elif c in "-0123456789":
            self._scalar_target = direct is not None or element
            self._tok = c
            self._state = _NUMBER
        elif c in _LITERALS:
            self._scalar_target = direct is not None or element
            self._tok = c
            self._literal = _LITERALS[c]
            self._state = _LITERAL
        else:
            raise SoapOutputError("The model output is not valid JSON")
        return changed

    def _begin_section(self, key: SectionKey) -> None:
        # A duplicated key replaces the earlier value: its text restarts from empty.
        self._chunks[key].clear()
        self._text[key] = ""
        self._complete[key] = False
        self._done_changes += 1
        self._cur = self._chunks[key]
        self._current = key

    def _end_string(self, st: int) -> bool:
        if self._str_is_key:
            self._str_is_key = False
            if st == _STR_KEY:
                name = "" if self._key_len > _MAX_KEY_RAW else _decode("".join(self._key_raw))
                self._key_raw.clear()
                self._key = _KEY_NAMES.get(name.strip().lower())
            self._state = _COLON
            return False
        return self._value_done()

    def _end_scalar(self, text: str) -> bool:
        self._tok = ""
        changed = False
        if self._scalar_target and text != "null":
            self._cur.append(text)
            changed = True
        return self._value_done() or changed

    def _value_done(self) -> bool:
        """A value just ended; the stack already reflects its container closing."""
        self._state = _AFTER
        depth = len(self._stack)
        if depth == 1 and self._key is not None:
            # A top-level member's value ended: that section is complete.
            self._complete[self._key] = True
            self._done_changes += 1
            self._current = None
            self._arr_key = None
            return True
        if depth == 0:
            self._state = _DONE
            self._current = None
            for key in SECTION_KEYS:
                self._complete[key] = True
            self._done_changes += 1
            return True
        return False

    def _key_piece(self, raw: str) -> None:
        self._key_len += len(raw)
        if self._key_len <= _MAX_KEY_RAW:
            self._key_raw.append(raw)

    def _pending_size(self) -> int:
        """Characters held back between deltas (not section text); bounded by design."""
        return len(self._carry) + len(self._tok) + sum(map(len, self._key_raw))

    # ----------------------------------------------------------------- reading

    def section_text(self, key: SectionKey) -> str:
        """Decoded text of one section so far ("" if not started)."""
        chunks = self._chunks[key]
        if not chunks:
            return self._text[key]
        # Decode only what arrived since the last read; chunks end on escape boundaries.
        raw = chunks[0] if len(chunks) == 1 else "".join(chunks)
        chunks.clear()
        text = self._text[key] + _decode(raw)
        self._text[key] = text
        return text

    def sections(self) -> dict[SectionKey, str]:
        return {k: self.section_text(k) for k in SECTION_KEYS}

    def completeness(self) -> dict[SectionKey, bool]:
        return dict(self._complete)

    @property
    def done_changes(self) -> int:
        """Grows whenever a section's completeness is written: while it stays the same,
        :meth:`completeness` does too."""
        return self._done_changes

    @property
    def current(self) -> SectionKey | None:
        """The section whose value is being streamed now."""
        return self._current

    @property
    def started(self) -> bool:
        """Some section text has been decoded (latched: stays True)."""
        if not self._started:
            # Computed here, not in the hot path: a non-empty raw chunk always decodes to
            # at least one character.
            self._started = any(self._text[k] or self._chunks[k] for k in SECTION_KEYS)
        return self._started

    @property
    def finished(self) -> bool:
        """The top-level object closed; every section is then complete."""
        return self._state == _DONE

    def note(self) -> SoapNote:
        if self._state != _DONE:
            raise SoapOutputError("The model output ended before the SOAP object was complete")
        return SoapNote.from_sections(self.sections())
