"""The text of OpenAI-style stream chunks read without a full JSON decode.

Whatever the shortcut (delphos/engines/openai_chunks.py) answers must be what decoding the
whole chunk says: the text of the first choice's delta, in a chunk with no error and no
usage report. Any other chunk it must leave to the full decode (None).
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from openai.types import CompletionUsage

from delphos.engines.openai_chunks import ChunkText
from delphos.engines.openai_engine import _Chunks, usage_of
from delphos.records import Usage

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


def _event(data: str) -> bytes:
    return b"data: " + data.encode() + b"\n\n"


def _stream_events() -> list[bytes]:
    """A stream as a server sends it: plain chunks, texts that need the full decode, a
    chunk whose frame changes mid-stream (another id), an invalid byte, the usage, [DONE]."""
    texts = ["{", '"subjective": "', "Pat", "ient é", 'a "q"', "back\\slash", "", "\u2028", "🙂"]
    events = [_event(plain(text)) for text in texts]
    events.append(_event(plain("other id").replace("chatcmpl-1", "chatcmpl-2")))
    events += [_event(plain(text).replace("chatcmpl-1", "chatcmpl-2")) for text in texts]
    events.append(b"data: " + plain("bad").encode().replace(b"bad", b"b\xffd") + b"\n\n")
    events.append(_event(plain("after")))
    events.append(
        _event(
            '{"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}'
        )
    )
    events.append(b"data: [DONE]\n\n")
    return events


def _reference(events: list[bytes]) -> list[str | Usage]:
    """What a full decode of each event gives, one delta per event with text."""
    out: list[str | Usage] = []
    for raw in events:
        data = raw[6:-2].decode(errors="replace")
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        if chunk.get("usage"):
            out.append(usage_of(CompletionUsage.model_validate(chunk["usage"])))
        elif text := decoded_text(data):
            out.append(text)
    return out


def _chunks() -> _Chunks:
    return _Chunks(httpx2.Response(200, request=httpx2.Request("POST", "http://x/")))


def test_reads_of_one_event_each_give_what_a_full_decode_gives() -> None:
    events = _stream_events()
    chunks = _chunks()
    got = [item for raw in events for item in chunks.feed(raw)] + chunks.end()
    assert got == _reference(events)


def assert_read_as_decoded(reads: list[bytes], events: list[bytes]) -> None:
    """The body of ``events``, fed in ``reads``, gives the text (however the reads cut it
    into deltas) and the usage a full decode of each event gives."""
    chunks = _chunks()
    got = [item for raw in reads for item in chunks.feed(raw)] + chunks.end()
    expected = _reference(events)
    assert "".join(x for x in got if isinstance(x, str)) == "".join(
        x for x in expected if isinstance(x, str)
    )
    assert [x for x in got if isinstance(x, Usage)] == [x for x in expected if isinstance(x, Usage)]


@pytest.mark.parametrize("size", [1, 7, 64, 1000])
def test_reads_cut_anywhere_give_the_same_text(size: int) -> None:
    events = _stream_events()
    body = b"".join(events)
    assert_read_as_decoded(
        [body[start : start + size] for start in range(0, len(body), size)], events
    )


def test_a_raw_control_character_after_plain_chunks_is_refused_as_the_full_decode_does() -> None:
    chunks = _chunks()
    assert chunks.feed(_event(plain("warm"))) == ["warm"]
    with pytest.raises(json.JSONDecodeError):
        chunks.feed(_event(plain("a\tb").replace("\\t", "\t")))


@pytest.mark.parametrize("per_read", [2, 3, 5])
def test_reads_of_several_whole_events_give_the_text_a_full_decode_gives(per_read: int) -> None:
    # A busy event loop finds several of a stream's events waiting in one read.
    events = _stream_events()
    assert_read_as_decoded(
        [b"".join(events[start : start + per_read]) for start in range(0, len(events), per_read)],
        events,
    )


def test_the_events_of_one_read_are_one_delta_downstream() -> None:
    chunks = _chunks()
    assert chunks.feed(_event(plain("warm"))) == ["warm"]
    read = b"".join(_event(plain(text)) for text in ["a\n", 'say "b"', "", "é🙂"])
    assert chunks.feed(read) == ['a\nsay "b"é🙂']


@pytest.mark.parametrize("data", INVALID)
def test_a_malformed_event_among_plain_ones_in_a_read_is_refused_as_the_full_decode_does(
    data: str,
) -> None:
    chunks = _chunks()
    assert chunks.feed(_event(plain("warm"))) == ["warm"]
    with pytest.raises(json.JSONDecodeError):
        chunks.feed(_event(plain("before")) + _event(data) + _event(plain("after")))
