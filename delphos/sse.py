"""Server-sent events as bytes: the one place an event is serialised for the wire.

Every event of the contract is written ``event: <name>\\ndata: <one-line JSON>\\n\\n``. The
JSON is compact and UTF-8 as is, and never spans two lines (see :func:`one_line`), so each
event is exactly one ``data:`` line for every client, the seeds' regex-based ones included.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

__all__ = ["PING", "event_bytes", "json_bytes", "one_line"]

# A comment line: keeps proxies from closing an idle stream; clients ignore it.
PING = b": ping\n\n"


def one_line(json_text: str) -> str:
    r"""JSON text safe as ONE `data:` line for every client.

    json.dumps never emits a raw newline, but leaves U+2028/U+2029 raw, and JavaScript
    regexes treat those as line terminators: the DELPHOS clients' `^data:\s*(.+)$` would
    cut the event there. Escaped, they decode to the same characters."""
    if "\u2028" in json_text or "\u2029" in json_text:
        return json_text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return json_text


# One encoder for every event: ``json.dumps`` with options builds a new one per call, and
# a stream sends a `partial` several times a second.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_line(data: Any) -> bytes:
    """``data`` as compact one-line UTF-8 JSON."""
    return one_line(_ENCODER.encode(data)).encode()


_LINE_SEPARATORS = ("\u2028".encode(), "\u2029".encode())


def json_bytes(model: BaseModel, *, exclude: set[str] | None = None) -> bytes:
    """``model`` (without the fields in ``exclude``) as compact one-line UTF-8 JSON, by
    pydantic's serialiser: the same values as :func:`json_line` of its dump, several times
    faster (partials are written per delta)."""
    data = model.__pydantic_serializer__.to_json(model, exclude=exclude)
    a, b = _LINE_SEPARATORS
    if a in data or b in data:
        return data.replace(a, b"\\u2028").replace(b, b"\\u2029")
    return data


def event_bytes(name: str, data_json: bytes) -> bytes:
    """An event whose data is already one-line JSON (:func:`json_bytes`, a stored note)."""
    return b"event: " + name.encode() + b"\ndata: " + data_json + b"\n\n"
