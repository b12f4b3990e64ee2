"""Where the Anthropic engine marks ``cache_control`` so a growing consultation is read
from the prompt cache instead of being billed again in full.

Anthropic's rule, as its prompt-caching guide states it
(https://platform.claude.com/docs/en/build-with-claude/prompt-caching, checked 2026-11-26;
the fake API in tests/support/fakes/prompt_cache.py applies the same rule and lists the
sources):

- the cached prefix is the request in the order tools, ``system``, ``messages``, up to
  and including a content block marked ``cache_control``; a request may mark at most
  **4** blocks (a fifth is a 400);
- a cache entry is written only at a marked block, and only when the prefix up to it is
  at least the model's minimum cacheable length: 1,024 tokens for Claude Sonnet 4.6 and
  4.5, Opus 4.8, 4.1 and 4, Sonnet 5; 2,048 for Opus 4.7; 4,096 for Opus 4.6 and 4.5
  and Haiku 4.5; 512 for Opus 5. A shorter prefix is processed uncached, without an
  error (and Sonnet 4.6 has been reported to cache only from about 2,048);
- for each marked block, the API looks for an earlier entry at that block and at the
  block boundaries before it, **20 blocks** at most (the marked block included), and
  reads the longest byte-identical prefix it finds;
- an entry lives 5 minutes (``ttl`` "5m", the default) from its last use, and each read
  renews it. Writes are billed at 1.25x the base input price, reads at 0.1x.

The stable prefix (system prompt and instruction, :mod:`delphos.engines.prompt`) is past
the 1,024-token minimum by itself, so every request is cacheable, a short visit's first
one included. The message is cut into sealed pieces at turn boundaries
(:func:`~delphos.engines.prompt.prompt_pieces`): the pieces of the previous request recur
byte for byte in the next one. Marked here: the last sealed piece (the next request, up
to 19 pieces longer, finds it in its look-back), the one before it (the last turn may be
extended or revised), and up to two anchors at every :data:`ANCHOR_STRIDE`-th piece,
positions that never move, so that a request which grew by more than 19 pieces since the
last one still reaches an entry: the newest anchor at or after it lies within 20 blocks
of it. A mark left over (a visit's first 33 pieces) goes on the instruction, the end of
the prefix every visit shares: the first note of the next visit, or another clinician's,
reads it instead of writing it while it lives. The closing tag (and any unsealed
remainder) is never marked.
"""

from __future__ import annotations

from anthropic.types import TextBlockParam

from delphos.engines.prompt import prompt_pieces, user_message

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
# Less than the look-back, so a request's anchor always reaches the previous request's
# last mark when the two are farther apart than the look-back.
ANCHOR_STRIDE = 16


def marked(stable: int) -> list[int]:
    """Indexes, among ``stable`` stable pieces, of those that carry ``cache_control``: up
    to two anchors (every ``ANCHOR_STRIDE``-th piece, the newest), the piece before the
    last (so that a last turn the client extends or revises costs only itself) and the
    last; with a mark to spare, the instruction (piece 0), which every visit shares; at
    most :data:`MAX_BREAKPOINTS`, in order."""
    if stable == 0:
        return []
    last = stable - 1
    tail = [i for i in (last - 1, last) if i >= 0]
    anchors = [i for i in range(ANCHOR_STRIDE - 1, last - 1, ANCHOR_STRIDE)]
    marks = [*anchors[-(MAX_BREAKPOINTS - len(tail)) :], *tail]
    if len(marks) < MAX_BREAKPOINTS and marks[0] != 0:
        marks.insert(0, 0)
    return marks


def user_content(transcript: str, *, cache: bool) -> str | list[TextBlockParam]:
    """The user message's content: text blocks with cache marks, or (``cache`` off) the
    same text as one string, which is what the engine sent before caching."""
    if not cache:
        return user_message(transcript)
    stable, last = prompt_pieces(transcript)
    marks = set(marked(len(stable)))
    blocks: list[TextBlockParam] = []
    for index, piece in enumerate(stable):
        block: TextBlockParam = {"type": "text", "text": piece}
        if index in marks:
            block["cache_control"] = {"type": "ephemeral"}
        blocks.append(block)
    blocks.append({"type": "text", "text": last})
    return blocks
