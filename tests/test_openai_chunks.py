"""The text of OpenAI-style stream chunks read without a full JSON decode.

Whatever the shortcut (delphos/engines/openai_chunks.py) answers must be what decoding the
whole chunk says: the text of the first choice's delta, in a chunk with no error and no
usage report. Any other chunk it must leave to the full decode (None).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from delphos.engines.openai_chunks import ChunkText

HEAD = (
    '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,'
    '"model":"gpt-x","system_fingerprint":"fp_1","choices":[{"index":0,"delta":'
)


def plain(text: str, tail: str = ',"usage":null}') -> str:
    body = '{"content":' + json.dumps(text, ensure_ascii=False) + "}"
    return HEAD + body + ',"logprobs":null,"finish_reason":null}]' + tail


def decoded_text(data: str) -> str | None:
    """What the full decode makes of a chunk: its text when it has nothing else to say."""
    chunk: Any = json.loads(data)
    if chunk.get("error") or chunk.get("usage"):
        return None
    choices = chunk.get("choices")
    return (choices[0].get("delta") or {}).get("content") if choices else None


TEXTS = ["hello w", "", 'say "no"', "back\\slash", "tab\there", "née 37.5°C", "\u2028x", "🙂"]


@pytest.mark.parametrize("text", TEXTS)
def test_a_plain_chunk_gives_exactly_its_text(text: str) -> None:
    assert ChunkText().text(plain(text)) == text


def test_every_chunk_of_a_stream_gives_the_text_a_full_decode_gives() -> None:
    reader = ChunkText()
    for text in ["{", '"subjective": "', "a", 'b"', "\\n", "", "é", "z" * 40]:
        data = plain(text)
        assert reader.text(data) == decoded_text(data) == text


OTHER_SHAPES = [
    # A usage report, an error, two choices, a role-only delta, a tool call, spaces.
    plain("x", ',"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'),
    '{"error":{"message":"overloaded"}}',
    plain("x", ',"error":"boom"}'),
    HEAD + '{"content":"a"},"finish_reason":null},{"index":1,"delta":{"content":"b"}}]}',
    HEAD + '{"role":"assistant"},"logprobs":null,"finish_reason":null}]}',
    HEAD + '{"tool_calls":[{"index":0}]},"finish_reason":null}]}',
    '{"id": "c", "choices": [{"index": 0, "delta": {"content": "spaced"}}]}',
    '{"error":"first",' + plain("x")[1:],
    HEAD + '{"content":"x"},"logprobs":null,"finish_reason":"stop"}]}',
]


@pytest.mark.parametrize("data", OTHER_SHAPES)
def test_a_chunk_of_another_shape_is_left_to_the_full_decode_or_read_alike(data: str) -> None:
    reader = ChunkText()
    reader.text(plain("warm"))  # the last plain chunk must not make this one pass
    got = reader.text(data)
    assert got is None or got == decoded_text(data)
    if '"error"' in data or '"usage":{' in data:
        assert got is None


INVALID = [
    HEAD + '{"content":"},"logprobs":null,"finish_reason":null}],"usage":null}',
    HEAD + '{"content":"a\nb"},"logprobs":null,"finish_reason":null}],"usage":null}',
    HEAD + '{"content":"a\\qb"},"logprobs":null,"finish_reason":null}],"usage":null}',
    HEAD + '{"content":"a"b"},"logprobs":null,"finish_reason":null}],"usage":null}',
]


@pytest.mark.parametrize("data", INVALID)
def test_a_malformed_chunk_is_left_to_the_full_decode_which_refuses_it(data: str) -> None:
    reader = ChunkText()
    reader.text(plain("warm"))
    assert reader.text(data) is None
    with pytest.raises(json.JSONDecodeError):
        json.loads(data)
