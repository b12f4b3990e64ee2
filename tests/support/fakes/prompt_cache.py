"""Anthropic's prompt cache as its documentation states the rule, for the fake API.

Sources, checked 2026-11-26 (the rules below paraphrase them):
[1] Anthropic, "Prompt caching", https://platform.claude.com/docs/en/build-with-claude/
    prompt-caching: cached prefix order, breakpoints, TTL and refresh, pricing table,
    "Cache limitations" (the minimum list, quoted from it in anthropics/
    anthropic-sdk-python#1194 and, in its newest form, in affaan-m/ECC#3173);
[2] the same guide's automatic prefix checking: a 20-block look-back per breakpoint (as
    restated by Anthropic-compatible providers' copies of it, e.g. MiniMax's
    "anthropic-api-compatible-cache", and dev.to "Claude Prompt Caching: Why Agent Loops
    Miss the 20-Block Lookback").

- The prompt is a sequence of blocks in the order tools, ``system``, ``messages`` (a
  string ``system`` or message content counts as one text block). A block marked
  ``cache_control`` is a breakpoint; at most :data:`MAX_BREAKPOINTS` per request, more is
  a 400 [1].
- The cache key of a position is the exact prefix up to and including its block (the
  ``cache_control`` marks themselves excluded), under the same model and output format:
  a hit needs that prefix byte-identical [1].
- An entry is **written only at a breakpoint** whose prefix has at least the model's
  minimum cacheable length (:data:`MIN_CACHEABLE`); shorter prompts are processed
  without caching and without an error [1].
- For each breakpoint, entries are looked for at its own position and at the block
  boundaries before it, :data:`LOOKBACK_BLOCKS` positions at most (the breakpoint
  included) [2]; the longest hit over all breakpoints is read, and reading renews its
  TTL at no cost [1].
- An entry lives its TTL (``"5m"`` by default, ``"1h"`` if asked) from its last use [1].
- ``usage``: ``cache_read_input_tokens`` is the prefix read, ``cache_creation_input_tokens``
  what was written beyond it (up to the last breakpoint written), ``input_tokens`` the
  rest, after the last cached position; the three add up to the prompt [1]. Priced (for
  bench/llm_cost.py) at 1.25x the base input price for a 5-minute write (2x for "1h"),
  0.1x for a read, 1x for the rest: the pricing table [1] lists e.g. Sonnet 4.5 at $3 base,
  $3.75 5m writes, $6 1h writes, $0.30 hits per million tokens.

Token counts are those of the fake's stand-in tokenizer (about four characters a token);
a block's tokens are counted so
that however a message's text is cut into blocks, the prompt has the same total (as
``_prompt_tokens`` in :mod:`tests.support.fakes.llm_server` counts a string message).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
# Tokens of framing each message (and the system prompt) adds, as the fake counts them.
FRAMING_TOKENS = 4

# The documented minimum cacheable prompt length (tokens) per model, by model id without
# its date suffix. Not monotonic across generations (Opus 4.5 and 4.6 need 4,096, Opus 4.8
# 1,024), and an id matches only its own family: ``claude-opus-4-7`` is not Opus 4.
# Reports of Sonnet 4.6 caching only from about 2,048 tokens (anthropic-sdk-python#1194;
# BerriAI/litellm-docs#49 on Bedrock) contradict the documented 1,024: bench/llm_cost.py
# also measures under a 2,048-token minimum.
MIN_CACHEABLE: dict[str, int] = {
    "claude-opus-5": 512,
    "claude-fable-5": 512,
    "claude-mythos-5": 512,
    "claude-mythos-preview": 2048,
    "claude-opus-4-8": 1024,
    "claude-opus-4-7": 2048,
    "claude-opus-4-6": 4096,
    "claude-opus-4-5": 4096,
    "claude-opus-4-1": 1024,
    "claude-opus-4": 1024,
    "claude-sonnet-5": 1024,
    "claude-sonnet-4-6": 1024,
    "claude-sonnet-4-5": 1024,
    "claude-sonnet-4": 1024,
    "claude-3-7-sonnet": 1024,
    "claude-haiku-4-5": 4096,
    "claude-3-5-haiku": 2048,
    "claude-3-haiku": 2048,
}
DEFAULT_MIN_CACHEABLE = 1024
_TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
_DATED = re.compile(r"(?P<family>.+?)(?:-\d{8})?")


def min_cacheable(model: str) -> int:
    """The minimum for a model id: its family's, dated or not (``claude-opus-4-20250514``
    is Opus 4); an id the documentation does not list gets :data:`DEFAULT_MIN_CACHEABLE`."""
    match = _DATED.fullmatch(model)
    family = match.group("family") if match else model
    return MIN_CACHEABLE.get(family, DEFAULT_MIN_CACHEABLE)


@dataclass(frozen=True)
class CacheUsage:
    input_tokens: int  # after the last cached position: billed at the base rate
    cache_creation_input_tokens: int  # written: 1.25x
    cache_read_input_tokens: int  # read: 0.1x

    @property
    def total(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


class TooManyBreakpoints(ValueError):
    """More ``cache_control`` marks than the API accepts (it answers 400)."""


@dataclass(frozen=True)
class _Block:
    end: int  # prompt tokens up to and including this block
    key: str  # digest of the prefix up to and including this block
    ttl: float | None  # seconds, when this block is a breakpoint


def prompt_blocks(body: dict[str, Any]) -> list[_Block]:
    """The request's blocks with their cumulative token positions and prefix keys."""
    digest = hashlib.sha256()
    # Entries are per model, and the output format is part of the prompt the model sees.
    digest.update(json.dumps([body.get("model"), body.get("output_config")]).encode())
    blocks: list[_Block] = []
    chars = 0  # of text so far (a running count: a prompt may have a thousand blocks)
    parts = 0

    def add(role: str, block: Any, new_part: bool) -> None:
        nonlocal chars, parts
        if not isinstance(block, dict):
            block = {"type": "text", "text": str(block)}
        mark = block.get("cache_control")
        unmarked = {k: v for k, v in block.items() if k != "cache_control"}
        if new_part:
            parts += 1
        is_text = unmarked.get("type") == "text"
        chars += len(str(unmarked.get("text", "")) if is_text else json.dumps(unmarked))
        digest.update(json.dumps([role, new_part, unmarked], sort_keys=True).encode())
        ttl = _TTL_SECONDS.get(str(mark.get("ttl", "5m")), 300.0) if mark else None
        end = max(1, (chars + 3) // 4) + FRAMING_TOKENS * parts
        blocks.append(_Block(end, digest.copy().hexdigest(), ttl))

    for tool in body.get("tools") or []:
        add("tool", {"type": "tool", **tool} if isinstance(tool, dict) else tool, True)
    system = body.get("system")
    if isinstance(system, str):
        add("system", {"type": "text", "text": system}, True)
    elif isinstance(system, list):
        for i, block in enumerate(system):
            add("system", block, i == 0)
    for message in body.get("messages") or []:
        role = str(message.get("role", "")) if isinstance(message, dict) else ""
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for i, block in enumerate(content):
                add(role, block, i == 0)
        else:
            add(role, {"type": "text", "text": str(content or "")}, True)
    return blocks


class PromptCache:
    """The cache one Anthropic organisation's requests share, with an injectable clock."""

    def __init__(
        self,
        *,
        min_tokens: Callable[[str], int] = min_cacheable,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_tokens = min_tokens
        self.clock = clock
        self._entries: dict[str, tuple[float, float]] = {}  # key -> (expires at, ttl)
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def apply(self, body: dict[str, Any]) -> CacheUsage:
        """Look the request up, write its entries, and say how its prompt is billed."""
        blocks = prompt_blocks(body)
        marks = [i for i, block in enumerate(blocks) if block.ttl is not None]
        if len(marks) > MAX_BREAKPOINTS:
            raise TooManyBreakpoints(len(marks))
        total = blocks[-1].end if blocks else 0
        minimum = self.min_tokens(str(body.get("model", "")))
        with self._lock:
            now = self.clock()
            read = 0
            for mark in marks:
                # Newest first: the first live entry is this breakpoint's longest hit.
                for i in range(mark, max(-1, mark - LOOKBACK_BLOCKS), -1):
                    entry = self._entries.get(blocks[i].key)
                    if entry is not None and entry[0] > now:
                        if blocks[i].end > read:
                            read = blocks[i].end
                            self._entries[blocks[i].key] = (now + entry[1], entry[1])
                        break
            written = read
            for mark in marks:
                block = blocks[mark]
                if block.end >= minimum and block.end > read and block.ttl is not None:
                    self._entries[block.key] = (now + block.ttl, block.ttl)
                    written = max(written, block.end)
        return CacheUsage(total - written, written - read, read)


# OpenAI's automatic prompt caching: prompts from 1,024 tokens, hits in 128-token steps.
OPENAI_MIN_CACHED = 1024
OPENAI_CACHE_STEP = 128


class PrefixCache:
    """OpenAI-style automatic caching, no marks: the longest prefix a prompt shares with a
    recent one under the same model, reported as ``prompt_tokens_details.cached_tokens``."""

    def __init__(self, keep: int = 64) -> None:
        self._recent: list[tuple[str, str]] = []  # (model, prompt text), newest last
        self._keep = keep
        self._lock = threading.Lock()

    def apply(self, model: str, text: str) -> int:
        """Cached tokens for this prompt (the fake's four characters a token); remembers it."""
        with self._lock:
            shared = max(
                (_common_prefix(text, seen) for m, seen in self._recent if m == model), default=0
            )
            self._recent = [*self._recent[-(self._keep - 1) :], (model, text)]
        tokens = shared // 4
        if tokens < OPENAI_MIN_CACHED:
            return 0
        return (
            OPENAI_MIN_CACHED
            + (tokens - OPENAI_MIN_CACHED) // OPENAI_CACHE_STEP * OPENAI_CACHE_STEP
        )


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    low, high = 0, n  # a[:low] == b[:low], a[:high] != b[:high]
    while high - low > 1:
        mid = (low + high) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid
    return low
